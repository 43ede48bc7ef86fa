"""A deal's steps as data, like the request lifecycle's table: what each step needs, and
why it cannot be made on the deal as it is now. Pure: the workflow checks every step with
it (in the validator before anything is written, and again in the handler)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from caseflow.deals.gates import DealAction, DealState, Missing


@dataclass(frozen=True)
class DealStep:
    gated: bool = False  # the stage's requirements must be met first
    at_last_stage: str | None = None  # made only at the last stage: the refusal
    reason_needed: str | None = None  # a reason must be given: the refusal
    on_open_task: bool = False  # names an open task of the deal


STEPS: dict[str, DealStep] = {
    "advance": DealStep(gated=True),
    "back": DealStep(reason_needed="going back needs a reason"),
    "win": DealStep(gated=True, at_last_stage="a deal is won at its last stage"),
    "lose": DealStep(reason_needed="losing a deal needs a reason"),
    "patch": DealStep(),
    "complete_task": DealStep(on_open_task=True),
    "cancel_task": DealStep(on_open_task=True),
}


class Refused(NamedTuple):
    kind: str
    message: str
    details: dict[str, Any]


def illegal(
    action: DealAction, state: DealState, missing: Callable[[], list[Missing]]
) -> Refused | None:
    """The first objection to the step, if any; `missing` reads the stage's unmet
    requirements (asked only for a gated step)."""
    step = STEPS[action.name]
    if state.status != "open":
        return Refused("illegal_transition", f"the deal is {state.status}", {})
    last = len(state.terms.stages) - 1
    if action.name == "advance":
        if state.stage == last:
            return Refused("illegal_transition", "the last stage: win or lose the deal", {})
        target = action.to_stage
        if target is not None and state.terms.index(target) != state.stage + 1:
            return Refused("illegal_transition", "advance goes to the next stage only", {})
    if step.at_last_stage and state.stage != last:
        return Refused("illegal_transition", step.at_last_stage, {})
    if step.gated and (unmet := missing()):
        code = state.terms.stages[state.stage].code
        return Refused(
            "stage_requirements_unmet",
            f"{len(unmet)} requirement(s) of '{code}' unmet",
            {"missing": [m.model_dump(exclude_none=True) for m in unmet]},
        )
    if action.name == "back":
        codes = [stage.code for stage in state.terms.stages[: state.stage]]
        if action.to_stage not in codes:
            return Refused("illegal_transition", f"back goes to one of {codes}", {})
    if step.reason_needed and not action.reason:
        return Refused("illegal_transition", step.reason_needed, {})
    if step.on_open_task:
        task = next((t for t in state.tasks if t.id == action.task_id), None)
        if task is None or task.status != "open":
            return Refused("illegal_transition", f"no open task {action.task_id}", {})
    return None
