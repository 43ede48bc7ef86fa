"""DealWorkflow on the time-skipping server with the real activities on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from caseflow.deals.gates import DealAction, DealStart, DealView
from caseflow.models import DealEventRow, DealTask
from caseflow.payloads import Actor, Intake
from caseflow.requests.lifecycle import Role
from tests.conftest import PIPELINES, capture_history
from tests.helpers import ROMASHKA
from workflows.deal import DealWorkflow

OWNER = Actor(username="manager", role=Role.MANAGER, lines=[])
OTHER = Actor(username="manager-b", role=Role.MANAGER, lines=[])
BUDGET_ORG = {"kind": "organization", "segment": "b2b_budget", "inn": "7707083893", "kpp": None}


async def open_deal(
    env,
    queue: str,
    *,
    customer: dict | None = None,
    max_history: int = 1500,
    pipeline: str = "b2b",
    **fields: object,
) -> tuple[WorkflowHandle, DealView]:
    start = DealStart(
        deal_id=str(uuid.uuid4()),
        pipeline=pipeline,
        title="Поставка 2027",
        owner=OWNER,
        customer=customer or dict(BUDGET_ORG),
        customer_id=ROMASHKA,
        amount=1_000_000,
        fields=fields,
        body_hash="b",
        max_history=max_history,
    )
    operation = WithStartWorkflowOperation(
        DealWorkflow.run,
        start,
        id=f"deal-{start.deal_id}",
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    view = await env.client.execute_update_with_start_workflow(
        DealWorkflow.create, Intake(body_hash="b"), start_workflow_operation=operation
    )
    return env.client.get_workflow_handle_for(DealWorkflow.run, f"deal-{start.deal_id}"), view


async def do(handle: WorkflowHandle, name: str, actor: Actor = OWNER, **data: object) -> DealView:
    action = DealAction.model_validate({"name": name, "actor": actor, **data})
    view: DealView = await handle.execute_update(DealWorkflow.act, action)
    return view


async def refusal(
    handle: WorkflowHandle, name: str, actor: Actor = OWNER, **data: object
) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await do(handle, name, actor, **data)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_stage_entry_tasks_and_gates_list_every_reason(env) -> None:
    ts, queue = env
    handle, view = await open_deal(ts, queue)
    (call,) = view.tasks
    calendar = PIPELINES["b2b"].calendar.build()
    assert call.title == "Первый звонок клиенту" and call.blocking and call.assignee == "manager"
    assert call.due_at == calendar.add(view.created_at, timedelta(hours=4))  # business hours

    refused = await refusal(handle, "advance")
    assert refused.type == "stage_requirements_unmet"
    missing = refused.details[0]["missing"]
    assert [m.get("field") or m.get("task") for m in missing] == [
        "budget",
        "decision_maker",
        call.id,
    ]
    unchanged = await handle.query(DealWorkflow.view)
    assert unchanged.stage == "qualification" and unchanged.last_seq == view.last_seq

    await do(handle, "patch", fields={"budget": 900_000, "decision_maker": "CFO"})
    await do(handle, "complete_task", task_id=call.id, result="договорились о встрече")
    analysis = await do(handle, "advance")
    assert analysis.stage == "needs_analysis" and analysis.tasks[-1].type == "meeting"
    await do(handle, "patch", fields={"volume": 5000})
    await do(handle, "complete_task", task_id=analysis.tasks[-1].id)
    proposal = await do(handle, "advance")
    assert [t.title for t in proposal.tasks if t.stage == "proposal"] == [
        "Подготовить КП",
        "Согласовать скидку",
    ]
    await do(handle, "patch", fields={"tariff": "commercial", "discount": 15})
    conflicts = (await refusal(handle, "advance")).details[0]["missing"]
    assert [(m.get("field"), m.get("fields")) for m in conflicts if m.get("fields")] == [
        ("discount, approval_ref", ["discount", "approval_ref"]),
        ("customer.segment, tariff", ["customer.segment", "tariff"]),
    ]
    assert (await refusal(handle, "advance", actor=OTHER)).type == "forbidden"
    lost = await do(handle, "lose", reason="выбрали конкурента")
    assert lost.status == "lost" and all(t.status != "open" for t in lost.tasks)
    await handle.result()
    await capture_history(ts.client, handle.id)


async def test_reminder_and_overdue_fire_once(env, sessions) -> None:
    ts, queue = env
    handle, view = await open_deal(ts, queue)
    (call,) = view.tasks
    assert call.reminder_at is not None
    await ts.sleep(call.due_at - view.created_at + timedelta(hours=1))
    await ts.sleep(timedelta(days=3))

    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(DealEventRow.action)
                .where(DealEventRow.deal_id == view.id, DealEventRow.action.like("task-%"))
                .order_by(DealEventRow.seq)
            )
        )
        task = await session.get(DealTask, (view.id, call.id))
    assert actions == ["task-reminder", "task-overdue"]
    assert task is not None and task.overdue_at is not None and task.reminded_at is not None
    await do(handle, "lose", reason="тест")
    await capture_history(ts.client, handle.id)


async def test_three_hundred_task_cycles_survive_continue_as_new(env, sessions) -> None:
    ts, queue = env
    handle, view = await open_deal(
        ts, queue, max_history=400, budget=1, decision_maker="CEO", volume=10
    )
    for cycle in range(300):
        current = await handle.query(DealWorkflow.view)
        task = next(t for t in current.tasks if t.status == "open" and t.blocking)
        await do(handle, "complete_task", task_id=task.id, result=f"cycle {cycle}")
        if current.stage == "qualification":
            await do(handle, "advance")
        else:
            await do(handle, "back", to_stage="qualification", reason=f"cycle {cycle}")
    final = await handle.query(DealWorkflow.view)
    assert final.runs > 1  # it continued as new, at least once
    assert final.fields == {"budget": 1, "decision_maker": "CEO", "volume": 10}
    assert final.stage == "qualification"
    assert max(t.id for t in final.tasks) == 301  # one task per cycle, ids never reused
    history = await handle.fetch_history()
    assert len(history.events) < 400 + 50
    async with sessions() as session:
        done = list(
            await session.scalars(
                select(DealTask.result).where(
                    DealTask.deal_id == view.id, DealTask.status == "done"
                )
            )
        )
    assert len(done) == 300 and "cycle 299" in done
    await do(handle, "lose", reason="тест")


async def test_a_finished_task_rings_no_more(env, sessions) -> None:
    ts, queue = env
    handle, view = await open_deal(ts, queue, budget=1, decision_maker="CEO")
    (call,) = view.tasks
    await do(handle, "complete_task", task_id=call.id, result="дозвонился")
    analysis = await do(handle, "advance")
    meeting = analysis.tasks[-1]
    await do(handle, "cancel_task", task_id=meeting.id, reason="встреча не нужна")
    await ts.sleep(meeting.due_at - view.created_at + timedelta(days=1))
    async with sessions() as session:
        rung = list(
            await session.scalars(
                select(DealEventRow.action).where(
                    DealEventRow.deal_id == view.id, DealEventRow.action.like("task-%")
                )
            )
        )
    assert rung == []
    await do(handle, "lose", reason="тест")


async def test_gates_read_the_profile_sent_with_the_action(env) -> None:
    ts, queue = env
    person = {"kind": "person", "segment": "b2c", "email": None}
    handle, view = await open_deal(ts, queue, customer=person, pipeline="b2c", tariff="basic")
    await do(handle, "complete_task", task_id=view.tasks[0].id)
    await do(handle, "advance")
    contract = await do(handle, "advance")
    assert contract.stage == "contract"
    refused = await refusal(handle, "win")
    assert [m["field"] for m in refused.details[0]["missing"]] == ["customer.email"]
    # The e-mail was added to the profile since the deal started: the API sends it along.
    won = await do(handle, "win", customer={**person, "email": "p@example.org"})
    assert won.status == "won"


async def test_going_back_cancels_the_abandoned_stage_and_closing_all(env) -> None:
    ts, queue = env
    handle, view = await open_deal(ts, queue, budget=1, decision_maker="CEO")
    await do(handle, "complete_task", task_id=view.tasks[0].id)
    analysis = await do(handle, "advance")
    meeting = analysis.tasks[-1]
    assert meeting.blocking and meeting.status == "open"
    back = await do(handle, "back", to_stage="qualification", reason="клиент передумал")
    tasks = {t.id: t for t in back.tasks}
    assert tasks[meeting.id].status == "cancelled"
    assert tasks[meeting.id].reason == "moved back: клиент передумал"
    fresh = [t for t in back.tasks if t.status == "open"]
    assert [t.stage for t in fresh] == ["qualification"]  # entering again: a new call
    lost = await do(handle, "lose", reason="тест")
    assert {t.reason for t in lost.tasks if t.id == fresh[0].id} == {"deal lose"}
