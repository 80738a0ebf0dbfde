"""Audio in: decoding a file, choosing its excerpt, and turning it into log-mel patches."""
