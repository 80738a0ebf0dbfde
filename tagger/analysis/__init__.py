"""Listening: the bundled models, scoring and calibration, adaptive depth, the cache and the pipeline."""
