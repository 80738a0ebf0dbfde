"""The Qt desktop app: a thin layer over ``tagger`` (built in a later step)."""
