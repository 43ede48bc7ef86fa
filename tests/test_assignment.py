"""Choosing the person: eligibility, load, round-robin, overflow, and concurrency on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from activities.requests import RequestActivities
from caseflow.models import Absence, Request, User
from caseflow.payloads import AssignInput, CustomerFacts, EventRecord, RegisterInput
from caseflow.people.store import upsert_team, upsert_user
from caseflow.platform.db import transaction
from caseflow.requests.lifecycle import Line, State
from caseflow.routing import assignment
from caseflow.routing.assignment import Candidate, Need
from caseflow.routing.rulebook import RuleHolder
from tests.helpers import OPERATOR, ROMASHKA_FACTS, request_start

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def make_team(
    sessions, members: list[dict], line: Line = Line.L2, requeue_when_away: bool = False
) -> tuple[str, list[str]]:
    """A fresh team with uniquely named members: {name, availability, skills, capacity, absent}."""
    code = f"t-{uuid.uuid4().hex[:8]}"
    names = []
    async with transaction(sessions) as session:
        await upsert_team(
            session, code=code, name=code, line=line, requeue_when_away=requeue_when_away
        )
        for member in members:
            name = f"{member['name']}-{code}"
            user = await upsert_user(
                session,
                username=name,
                role=OPERATOR.role,
                team=code,
                capacity=member.get("capacity", 10),
                skills=member.get("skills", {}),
            )
            user.availability = member.get("availability", "available")
            if member.get("absent"):
                session.add(
                    Absence(
                        user_id=user.id,
                        starts_at=NOW - timedelta(days=1),
                        ends_at=NOW + timedelta(days=1),
                        reason="отпуск",
                    )
                )
            names.append(name)
    return code, names


async def test_only_eligible_people_are_chosen_and_every_loser_is_explained(sessions) -> None:
    code, (able, away, absent, junior, full) = await make_team(
        sessions,
        [
            {"name": "able", "skills": {"cards": 3}},
            {"name": "away", "skills": {"cards": 5}, "availability": "away"},
            {"name": "absent", "skills": {"cards": 5}, "absent": True},
            {"name": "junior", "skills": {"cards": 1}},
            {"name": "full", "skills": {"cards": 5}, "capacity": 0},
        ],
    )
    async with transaction(sessions) as session:
        choice = await assignment.choose(session, code, Need(at=NOW, skill="cards", level=2))
    assert choice.assignee == able
    verdicts = {c["username"]: c["verdict"] for c in choice.candidates}
    assert verdicts == {
        able: "chosen",
        away: "not eligible: is away",
        absent: "not eligible: is absent (planned)",
        junior: "not eligible: cards level 1 < 2",
        full: "not eligible: at capacity (0/0)",
    }
    async with transaction(sessions) as session:
        later = await assignment.choose(
            session, code, Need(at=NOW + timedelta(days=2), skill="cards", level=4)
        )
    assert later.assignee == absent  # the absence is over; higher skill wanted


async def test_equals_take_turns(sessions) -> None:
    code, names = await make_team(sessions, [{"name": n} for n in ("a", "b", "c")])
    picked = []
    for _ in range(4):
        async with transaction(sessions) as session:
            picked.append((await assignment.choose(session, code, Need(at=NOW))).assignee)
    assert picked == [names[0], names[1], names[2], names[0]]


def register_input(queue: str, facts: CustomerFacts = ROMASHKA_FACTS) -> RegisterInput:
    start = request_start(customer=facts)
    workflow_id = f"request-{start.request_id}"
    event = EventRecord(
        workflow_id=workflow_id,
        request_id=start.request_id,
        seq=2,
        at=NOW,
        actor="operator",
        actor_role=OPERATOR.role,
        action="assign",
        from_state=State.REGISTERED,
        to_state=State.ASSIGNED,
        line=Line.L1,
        queue=None,
        assignee=None,
        priority="normal",
    )
    return RegisterInput(
        workflow_id=workflow_id,
        seq=1,
        at=NOW,
        request=start,
        assign=AssignInput(event=event, request=start, queue=queue),
    )


async def test_fifty_intakes_at_once_never_overfill_and_spread_evenly(sessions, rules) -> None:
    code, names = await make_team(sessions, [{"name": f"m{i}", "capacity": 12} for i in range(5)])
    activities = RequestActivities(sessions, rules)
    results = await asyncio.gather(
        *(activities.register_request(register_input(code)) for _ in range(50))
    )
    numbers = sorted(int(r.number.removeprefix("REQ-")) for r in results)
    assert numbers == list(range(numbers[0], numbers[0] + 50))  # gapless under contention
    async with sessions() as session:
        rows = await session.execute(
            select(Request.assignee, func.count())
            .where(Request.queue == code)
            .group_by(Request.assignee)
        )
        per_agent = dict(rows.all())
    assert per_agent == dict.fromkeys(names, 10)


async def test_a_retried_registration_returns_the_first_decision(sessions, rules) -> None:
    code, _ = await make_team(sessions, [{"name": "solo"}])
    activities = RequestActivities(sessions, rules)
    data = register_input(code)
    first = await activities.register_request(data)
    again = await activities.register_request(data)
    assert again == first


def rules_dir(tmp_path: Path, target: str, overflow: str) -> RuleHolder:
    (tmp_path / "00.yaml").write_text("defaults: {L1: hotline, L2: l2-support, L3: l3-experts}\n")
    (tmp_path / "10.yaml").write_text(
        f"rules:\n  - name: test-rule\n    target: {target}\n    overflow: {overflow}\n"
    )
    return RuleHolder(tmp_path)


async def test_overflow_to_the_regions_supervisor(sessions, tmp_path) -> None:
    code, _ = await make_team(sessions, [{"name": "busy", "availability": "off"}])
    holder = rules_dir(tmp_path, f"{{line: L2, queue: {code}}}", "{supervisor: region}")
    result = await RequestActivities(sessions, holder).register_request(register_input_routed())
    assert result.assignment.assignee == "supervisor"
    assert "overflow to the supervisor of RU-MOW" in result.assignment.explanation


async def test_overflow_hold_leaves_it_waiting_with_a_retry(sessions, tmp_path) -> None:
    code, _ = await make_team(sessions, [{"name": "busy", "availability": "off"}])
    holder = rules_dir(tmp_path, f"{{line: L1, queue: {code}}}", "{hold: PT15M}")
    result = await RequestActivities(sessions, holder).register_request(register_input_routed())
    assert result.assignment.assignee is None
    assert result.assignment.retry_after == timedelta(minutes=15)
    async with sessions() as session:
        state = await session.scalar(select(Request.state).where(Request.number == result.number))
    assert state == State.REGISTERED


async def test_personal_manager_away_overflows_to_the_vip_desk(sessions, rules) -> None:
    _, (manager,) = await make_team(sessions, [{"name": "pm", "availability": "away"}])
    vip = ROMASHKA_FACTS.model_copy(update={"tier": "vip", "personal_manager": manager})
    result = await RequestActivities(sessions, rules).register_request(register_input_routed(vip))
    decision = result.assignment
    assert (decision.rule, decision.queue, decision.assignee) == (
        "vip-personal-manager",
        "l2-vip",
        "agent2-vip",
    )
    assert f"{manager} is away" in decision.explanation


def register_input_routed(facts: CustomerFacts = ROMASHKA_FACTS) -> RegisterInput:
    data = register_input("unused", facts)
    data.assign.queue = None
    return data


candidate = st.builds(
    Candidate,
    username=st.text(alphabet="abcdefgh", min_size=1, max_size=4),
    open=st.integers(0, 12),
    capacity=st.integers(0, 10),
    availability=st.sampled_from(["available", "available", "away", "off"]),
    absent=st.booleans(),
    skill_level=st.one_of(st.none(), st.integers(1, 5)),
)


@given(
    people=st.lists(candidate, max_size=12, unique_by=lambda c: c.username),
    level=st.integers(1, 5),
    cursor=st.one_of(st.none(), st.text("abcdefgh", max_size=4)),
)
def test_pick_never_passes_over_an_eligible_person(people, level, cursor) -> None:
    need = Need(at=NOW, skill="cards", level=level)
    choice = assignment.pick(people, need, cursor)
    eligible = [c for c in people if c.why_not(need) is None]
    if not eligible:
        assert choice.assignee is None
        return
    winner = next(c for c in people if c.username == choice.assignee)
    assert winner.why_not(need) is None
    assert winner.load == min(c.load for c in eligible)
    assert len(choice.candidates) == len(people)


def test_big_teams_list_the_closest_contenders_and_count_the_rest() -> None:
    people = [
        Candidate(f"p{i:02d}", i % 5, 10, "available" if i % 3 else "away", False, None)
        for i in range(40)
    ]
    choice = assignment.pick(people, Need(at=NOW), None)
    assert choice.assignee == "p05"  # load 0 and available: p00 and p15 are away
    listed = choice.candidates
    assert len(listed) == 26 and listed[0]["username"] == "p05"
    assert listed[0]["verdict"] == "chosen, round-robin among equals"
    assert listed[-1]["verdict"] == "15 more: 14 not eligible, 1 eligible"  # 14 are away


async def test_people_off_shift_are_passed_over(sessions) -> None:
    code, (day, night) = await make_team(sessions, [{"name": "day"}, {"name": "night"}])
    async with transaction(sessions) as session:
        for name, start, end in ((day, "09:00", "18:00"), (night, "21:00", "09:00")):
            user = await session.scalar(select(User).where(User.username == name))
            assert user is not None
            user.schedule = {
                "timezone": "Europe/Moscow",
                "days": [0, 1, 2, 3, 4, 5, 6],
                "start": start,
                "end": end,
            }
    monday_noon_moscow = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    late_evening = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    async with transaction(sessions) as session:
        noon = await assignment.choose(session, code, Need(at=monday_noon_moscow))
        evening = await assignment.choose(session, code, Need(at=late_evening))
    assert noon.assignee == day and evening.assignee == night
    verdicts = {c["username"]: str(c["verdict"]) for c in noon.candidates}
    assert verdicts[night].startswith("not eligible: is off shift (Mon,Tue,Wed,Thu,Fri,Sat,Sun")
