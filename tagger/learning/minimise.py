"""The minimisers behind learning's three fits, in numpy alone.

    lbfgs           smooth losses with a gradient: the logistic regression's weights
    golden_section  one bounded parameter: a temperature
    nelder_mead     a few parameters, no gradient: the calibrator's slope, offset and thinness

Each is the textbook algorithm (L-BFGS: Nocedal & Wright, Numerical Optimization, 2nd ed.,
algorithms 7.4 and 7.5, backtracking as algorithm 3.1 with section 3.5's quadratic
interpolation; golden-section search: Kiefer 1953; Nelder & Mead 1965 with the standard
coefficients, in the form of Lagarias et al. 1998).
They are ours rather than scipy's so that the app does not carry scipy (62 MB of the
bundle) for three small fits; tests/learning/test_minimise.py holds them to scipy's minima.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Armijo's sufficient-decrease constant (Nocedal & Wright's c1) and the least a step may shrink to.
_SUFFICIENT_DECREASE = 1e-4
_SMALLEST_STEP = 1e-20


@dataclass(frozen=True)
class Minimum:
    """Where a minimiser stopped: the point, the loss there, and the iterations it took."""

    x: np.ndarray
    value: float
    steps: int


def lbfgs(loss: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, max_steps: int,
          relative_tolerance: float = 1e-8, gradient_tolerance: float = 1e-5, memory: int = 10) -> Minimum:
    """Minimise ``loss`` (which returns the value and its gradient) from ``x0`` by limited-memory BFGS.

    Stops after ``max_steps`` iterations; or when an iteration lowers the loss by no more
    than ``relative_tolerance`` of max(|loss|, 1); or when no gradient component exceeds
    ``gradient_tolerance``; or when the line search finds no lower point along a descent
    direction (the loss is flat there to rounding).
    """
    x = np.array(x0, dtype=np.float64)
    value, gradient = loss(x)
    steps_taken: list[np.ndarray] = []  # s_k = x_{k+1} - x_k, newest last
    gradient_changes: list[np.ndarray] = []  # y_k = g_{k+1} - g_k
    for step in range(max_steps):
        if np.abs(gradient).max(initial=0.0) <= gradient_tolerance:
            return Minimum(x, value, step)
        direction = -_inverse_hessian_times(gradient, steps_taken, gradient_changes)
        slope = float(gradient @ direction)
        if slope >= 0:  # rounding can spoil the curvature pairs: fall back to steepest descent
            steps_taken.clear()
            gradient_changes.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        # Without curvature pairs the direction has the gradient's scale, not the step's:
        # the first trial moves x by a unit length.
        length = 1.0 if steps_taken else min(1.0, 1.0 / float(np.linalg.norm(direction)))
        found = _backtrack(loss, x, value, direction, slope, length)
        if found is None:
            return Minimum(x, value, step)
        new_x, new_value, new_gradient = found
        s, y = new_x - x, new_gradient - gradient
        # Keep the pair only where it shows positive curvature: that keeps the implicit
        # inverse Hessian positive definite, so every direction is one of descent.
        if float(s @ y) > 1e-10 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            steps_taken.append(s)
            gradient_changes.append(y)
            if len(steps_taken) > memory:
                del steps_taken[0], gradient_changes[0]
        decrease = value - new_value
        x, value, gradient = new_x, new_value, new_gradient
        if decrease <= relative_tolerance * max(abs(value), 1.0):
            return Minimum(x, value, step + 1)
    return Minimum(x, value, max_steps)


def _inverse_hessian_times(gradient: np.ndarray, steps_taken: list[np.ndarray],
                           gradient_changes: list[np.ndarray]) -> np.ndarray:
    """The two-loop recursion (Nocedal & Wright algorithm 7.4): the L-BFGS inverse
    Hessian times ``gradient``, starting from the identity scaled by the newest pair."""
    q = gradient.copy()
    weights = [1.0 / float(s @ y) for s, y in zip(steps_taken, gradient_changes)]
    alphas = []
    for s, y, rho in reversed(list(zip(steps_taken, gradient_changes, weights))):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps_taken:
        q *= float(steps_taken[-1] @ gradient_changes[-1]) / float(gradient_changes[-1] @ gradient_changes[-1])
    for (s, y, rho), alpha in zip(zip(steps_taken, gradient_changes, weights), reversed(alphas)):
        q += (alpha - rho * float(y @ q)) * s
    return q


def _backtrack(loss: Callable[[np.ndarray], tuple[float, np.ndarray]], x: np.ndarray, value: float,
               direction: np.ndarray, slope: float, length: float
               ) -> tuple[np.ndarray, float, np.ndarray] | None:
    """The first step along ``direction`` from ``length`` down that meets Armijo's
    sufficient decrease, each retry at the minimum of the quadratic through what is
    known (kept within a tenth and a half of the last length); None where none does."""
    while length > _SMALLEST_STEP:
        trial = x + length * direction
        trial_value, trial_gradient = loss(trial)
        if trial_value <= value + _SUFFICIENT_DECREASE * length * slope:
            return trial, trial_value, trial_gradient
        if math.isfinite(trial_value):
            quadratic_minimum = -slope * length * length / (2.0 * (trial_value - value - slope * length))
            length = min(max(quadratic_minimum, 0.1 * length), 0.5 * length)
        else:  # overflowed far out: retreat fast
            length *= 0.1
    return None


def golden_section(fun: Callable[[float], float], low: float, high: float,
                   tolerance: float = 1e-6) -> tuple[float, float]:
    """(x, fun(x)) for the x in [``low``, ``high``] that minimises a unimodal ``fun``.

    Each step keeps the part of the bracket on the lower side of two interior points
    placed at the golden ratio, so one of them is reused and each step costs one
    evaluation; stops when the bracket is narrower than ``tolerance``. The bounds
    themselves are never evaluated, so a minimum at a bound is found within ``tolerance``
    of it.
    """
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    left, right = high - ratio * (high - low), low + ratio * (high - low)
    left_value, right_value = fun(left), fun(right)
    while high - low > tolerance:
        if left_value <= right_value:
            high, right, right_value = right, left, left_value
            left = high - ratio * (high - low)
            left_value = fun(left)
        else:
            low, left, left_value = left, right, right_value
            right = low + ratio * (high - low)
            right_value = fun(right)
    return (left, left_value) if left_value <= right_value else (right, right_value)


def nelder_mead(fun: Callable[[np.ndarray], float], x0: np.ndarray, x_tolerance: float = 1e-4,
                value_tolerance: float = 1e-4, max_steps: int | None = None) -> Minimum:
    """Minimise ``fun`` from ``x0`` by the Nelder-Mead simplex: reflection 1, expansion 2,
    contraction 1/2, shrinking 1/2.

    The first simplex steps 5% from each non-zero coordinate and 0.00025 from a zero one.
    Stops when every vertex lies within ``x_tolerance`` of the best in every coordinate
    and every value within ``value_tolerance`` of the best's, or after ``max_steps``
    iterations (200 per parameter unless given).
    """
    start = np.array(x0, dtype=np.float64)
    n = len(start)
    simplex = [start]
    for i in range(n):
        vertex = start.copy()
        vertex[i] = vertex[i] * 1.05 if vertex[i] != 0 else 0.00025
        simplex.append(vertex)
    values = [fun(v) for v in simplex]
    limit = 200 * n if max_steps is None else max_steps
    step = 0
    while step < limit:
        order = np.argsort(values, kind="stable")
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        best, worst = simplex[0], simplex[-1]
        if (max(np.abs(v - best).max() for v in simplex[1:]) <= x_tolerance
                and max(abs(f - values[0]) for f in values[1:]) <= value_tolerance):
            break
        step += 1
        centroid = np.mean(simplex[:-1], axis=0)
        reflected = centroid + (centroid - worst)
        reflected_value = fun(reflected)
        if reflected_value < values[0]:
            expanded = centroid + 2.0 * (centroid - worst)
            expanded_value = fun(expanded)
            simplex[-1], values[-1] = ((expanded, expanded_value) if expanded_value < reflected_value
                                       else (reflected, reflected_value))
        elif reflected_value < values[-2]:
            simplex[-1], values[-1] = reflected, reflected_value
        else:
            # Contract toward the better of the reflected and the worst vertex.
            outside = reflected_value < values[-1]
            contracted = centroid + 0.5 * ((reflected if outside else worst) - centroid)
            contracted_value = fun(contracted)
            if contracted_value <= reflected_value if outside else contracted_value < values[-1]:
                simplex[-1], values[-1] = contracted, contracted_value
            else:
                simplex = [best] + [best + 0.5 * (v - best) for v in simplex[1:]]
                values = [values[0]] + [fun(v) for v in simplex[1:]]
    i = int(np.argmin(values))
    return Minimum(simplex[i], float(values[i]), step)
