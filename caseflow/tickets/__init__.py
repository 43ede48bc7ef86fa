"""External ticket systems: connectors as data, inbound webhooks, tickets' store."""
