"""A library as a whole: albums, collections, context from albums/artists/folders, and cleanup."""
