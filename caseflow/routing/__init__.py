"""Routing: rules as data, the live rule book, conditions, what-if, choosing the person."""
