"""The person's own genres: classifiers fitted on their tagged files, and the learned model."""
