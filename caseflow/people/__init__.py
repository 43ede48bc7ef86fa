"""Teams, users and their working hours."""
