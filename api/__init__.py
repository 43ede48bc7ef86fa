"""The HTTP edge: authentication, validation, and translating calls into Temporal and SQL."""
