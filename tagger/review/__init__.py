"""Reviewing suggestions before anything is written: review items and the review session."""
