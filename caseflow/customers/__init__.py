"""Customers: one profile per company or person, and how their identifiers are normalised."""
