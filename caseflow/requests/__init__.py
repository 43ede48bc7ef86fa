"""Requests: the lifecycle as data, guided intake, topics, attached files, the read model's
store and the queues' backlog."""
