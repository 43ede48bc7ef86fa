"""A deal's steps as data (caseflow.deals.steps): each refusal a manager would read, from
the b2b pipeline `make run` ships."""

from __future__ import annotations

from datetime import UTC, datetime

from caseflow.deals.gates import DealAction, DealState, Missing
from caseflow.deals.steps import STEPS, illegal
from caseflow.payloads import Actor
from caseflow.requests.lifecycle import Role
from tests.conftest import PIPELINES

MANAGER = Actor(username="manager", role=Role.MANAGER)
UNMET = [Missing(kind="field", field="inn", reason="required")]


def deal(stage: int = 0, status: str = "open") -> DealState:
    return DealState.model_validate(
        {
            "terms": PIPELINES["b2b"],
            "people": {"owner": "manager"},
            "stage": stage,
            "status": status,
            "created_at": datetime(2026, 12, 1, tzinfo=UTC),
        }
    )


def step(name: str, **fields: object) -> DealAction:
    return DealAction.model_validate({"name": name, "actor": MANAGER, **fields})


def test_every_action_has_a_row_in_the_table() -> None:
    names = DealAction.model_fields["name"].annotation.__args__  # type: ignore[union-attr]
    assert set(names) == set(STEPS)


def test_a_closed_deal_takes_no_step() -> None:
    refused = illegal(step("patch"), deal(status="won"), lambda: [])
    assert refused is not None and refused.message == "the deal is won"


def test_advance_goes_one_stage_forward_and_only_when_the_stage_is_met() -> None:
    assert illegal(step("advance"), deal(), lambda: []) is None
    unmet = illegal(step("advance"), deal(), lambda: UNMET)
    assert unmet is not None and unmet.kind == "stage_requirements_unmet"
    assert unmet.details["missing"] == [m.model_dump(exclude_none=True) for m in UNMET]
    last = len(PIPELINES["b2b"].stages) - 1
    at_end = illegal(step("advance"), deal(stage=last), lambda: [])
    assert at_end is not None and at_end.message == "the last stage: win or lose the deal"
    skip = PIPELINES["b2b"].stages[2].code
    jumped = illegal(step("advance", to_stage=skip), deal(), lambda: [])
    assert jumped is not None and jumped.message == "advance goes to the next stage only"


def test_win_only_at_the_last_stage_and_lose_or_back_only_with_a_reason() -> None:
    early = illegal(step("win"), deal(), lambda: [])
    assert early is not None and early.message == "a deal is won at its last stage"
    last = len(PIPELINES["b2b"].stages) - 1
    assert illegal(step("win"), deal(stage=last), lambda: []) is None
    lose = illegal(step("lose"), deal(), lambda: [])
    assert lose is not None and lose.message == "losing a deal needs a reason"
    first = PIPELINES["b2b"].stages[0].code
    back = illegal(step("back", to_stage=first), deal(stage=1), lambda: [])
    assert back is not None and back.message == "going back needs a reason"
    assert illegal(step("back", to_stage=first, reason="ошибка"), deal(stage=1), lambda: []) is None


def test_a_task_step_names_an_open_task() -> None:
    refused = illegal(step("complete_task", task_id=7), deal(), lambda: [])
    assert refused is not None and refused.message == "no open task 7"
