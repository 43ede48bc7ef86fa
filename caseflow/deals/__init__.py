"""Deals: pipelines as data, stage gates and tasks, and the deals' store."""
