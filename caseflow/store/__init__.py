"""Database operations shared by activities and the API; each one transaction, each idempotent."""
