"""Helpers the tests share: plain functions and constants, imported as ``support.<module>``.

Fixtures live in the conftest.py files; these are what a test calls itself. tests/ is on
sys.path because pytest puts a conftest.py's folder there before importing it.
"""
