"""Files on disk: finding audio files, refusing irregular ones, atomic copy-and-swap, and our own state files."""
