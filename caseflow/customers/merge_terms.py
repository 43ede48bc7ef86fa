"""What a merge of customer profiles is, as the merge workflow carries it: plain data, no
I/O (workflows may import this)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from caseflow.payloads import Actor


class MergeStart(BaseModel):
    merge_id: str
    survivor: str
    duplicates: list[str]
    reason: str
    actor: Actor
    undo: bool = Field(default=False, description="an unmerge of the merge `merge_id`")


class Moved(BaseModel):
    """What moved to the survivor (or back): row ids by kind."""

    requests: list[str] = Field(default_factory=list)
    deals: list[str] = Field(default_factory=list)
    interactions: list[int] = Field(default_factory=list)
    representatives: list[int] = Field(default_factory=list)
    notifications: list[str] = Field(default_factory=list)
    consents: list[int] = Field(default_factory=list)
    products: list[int] = Field(default_factory=list)
    offer_outcomes: list[int] = Field(default_factory=list)
    facts: list[int] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in self.model_dump().items()}

    def add(self, other: Moved) -> Moved:
        """Both, each id once (a retried step finds what it moved already)."""
        mine, theirs = self.model_dump(), other.model_dump()
        return Moved.model_validate(
            {kind: list(dict.fromkeys([*mine[kind], *theirs[kind]])) for kind in mine}
        )


class Told(BaseModel):
    """A running workflow to tell which customer its record now belongs to."""

    workflow_id: str
    customer_id: str
    kind: Literal["request", "deal"]


class CustomerMoved(BaseModel):
    """The `customer_merged` signal: the record belongs to this customer from now on;
    `profile`: the facts a deal's gates read."""

    customer_id: str
    profile: dict[str, Any] | None = None


class MergeOutcome(BaseModel):
    merge_id: str
    survivor: str
    duplicates: list[str]
    status: Literal["done", "undone"]
    moved: dict[str, int]
    told: int = Field(description="running request and deal workflows signalled")


class MoveStep(BaseModel):
    """One batch of a merge: how many records moved (0: none left), whom to tell."""

    count: int
    told: list[Told] = Field(default_factory=list)


class UndoStep(BaseModel):
    outcome: MergeOutcome
    told: list[Told] = Field(default_factory=list)
