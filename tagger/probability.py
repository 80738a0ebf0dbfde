"""Probabilities and their log-odds, as the scoring, the calibration and the learned
model all need them."""

from __future__ import annotations

import numpy as np

# Keeps a logit finite for probabilities of exactly 0 or 1.
_EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of ``p``, clipped away from 0 and 1."""
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The probability whose log-odds are ``x``."""
    return 1.0 / (1.0 + np.exp(-x))


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis from scores ``z``."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
