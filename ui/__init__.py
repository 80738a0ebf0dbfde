"""The Qt desktop app: a thin layer of windows, panels and background jobs over ``tagger``."""
