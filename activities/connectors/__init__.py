"""Connectors to external ticket systems over HTTP (httpx): one interface, two systems."""

from __future__ import annotations

import httpx

from activities.connectors.base import TicketSystem
from activities.connectors.otrs import OtrsConnector
from activities.connectors.rt import RtConnector
from caseflow.tickets.connectors import ConnectorConfig


def connector_for(config: ConnectorConfig, http: httpx.AsyncClient) -> TicketSystem:
    if config.kind == "request_tracker":
        return RtConnector(config, http)
    return OtrsConnector(config, http)
