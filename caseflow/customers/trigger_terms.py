"""What an offer trigger carries through its workflow: plain data, no I/O."""

from __future__ import annotations

from pydantic import BaseModel

from caseflow.deals.gates import DealStart


class TriggerStart(BaseModel):
    customer_id: str
    trigger: str
    offer: str
    period: int  # which period of the trigger's length since the epoch: once per period


class TriggerOutcome(BaseModel):
    deal: DealStart | None = None
    skipped: str | None = None  # why no deal: not for them now, no manager…
