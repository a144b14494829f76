"""Storage backends. The JSON backend is the default; others arrive through plugins."""
