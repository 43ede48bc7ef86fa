"""Supervisors and SLA: breaches, clocks at risk (due soon or predicted late), statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select

from api.bounds import Moment, day_or_moment
from api.deps import CurrentUser, DbSession, State
from api.pagination import Cursor, Limit, Page, cut, decode_place, encode_place
from api.problems import invalid
from api.routes.supervisor import require_overseer
from caseflow import access
from caseflow.access import Kind
from caseflow.models import User
from caseflow.people.schedule import today_starts, zone_of_day
from caseflow.requests.lifecycle import Line
from caseflow.sla import reports as sla_reports
from caseflow.sla.calendar import BusinessCalendar, BusinessTime
from caseflow.sla.ledger import clock_of_row
from caseflow.sla.reports import ClockRow, Filters, Position

router = APIRouter(prefix="/supervisor/sla", tags=["supervisor"])

MAX_WINDOW = timedelta(days=31)
SCAN_BATCH = 200


class ClockAlert(BaseModel):
    request_id: str
    number: str
    clock: Literal["first_response", "resolution"]
    line: Line
    queue: str | None
    assignee: str | None
    policy: str
    target: BusinessTime
    elapsed: BusinessTime = Field(description="business time used by now (or when stopped)")
    due: datetime | None = Field(description="when it falls (or fell) due; none while paused")
    breached_at: datetime | None = None
    overdue_by: BusinessTime | None = Field(
        default=None, description="business time past the target, if breached"
    )
    remaining: BusinessTime | None = Field(
        default=None, description="business time left, if not breached"
    )
    predicted: bool = Field(
        default=False,
        description="not due within the window, but the assignee's queue depth × the "
        "queue's median handling time says it will be late",
    )
    expected_completion: datetime | None = None


def alert(clock: ClockRow, now: datetime, calendars: dict[str, BusinessCalendar]) -> ClockAlert:
    """A clock of the ledger read now, with the same arithmetic as the request's page."""
    calendar = calendars.get(clock.calendar)
    if calendar is not None:
        status = clock_of_row(clock).status(calendar, now)
        elapsed, due, over = status.elapsed, status.due, status.overdue_by
    else:  # a calendar no longer in the policies: the ledger as last recorded
        elapsed, due = timedelta(seconds=clock.elapsed_s), clock.breached_at or clock.due_at
        over = elapsed - timedelta(seconds=clock.target_s) if clock.breached_at else None
    target = timedelta(seconds=clock.target_s)
    return ClockAlert(
        request_id=clock.request_id,
        number=clock.number,
        clock=clock.kind,
        line=Line(clock.line),
        queue=clock.queue,
        assignee=clock.assignee,
        policy=clock.policy,
        target=target,
        elapsed=elapsed,
        due=due,
        breached_at=clock.breached_at,
        overdue_by=over,
        remaining=None if over is not None else max(target - elapsed, timedelta(0)),
    )


def zone_of(user: User) -> sla_reports.Zone:
    def zone(query: Select[Any]) -> Select[Any]:
        return query.where(access.where(Kind.REQUEST, user))

    return zone


# A clock's place in a list: (time, request, segment, kind).
POSITION = (datetime, str, int, str)


@router.get("/breaches", response_model=Page[ClockAlert], operation_id="sla_breaches")
async def breaches(
    db: DbSession,
    user: CurrentUser,
    state: State,
    line: Line | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    since: Moment | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ClockAlert]:
    """Breached clocks of open requests in the caller's zone, longest breached first."""
    require_overseer(user)
    now = datetime.now(UTC)
    rows = await sla_reports.breaches(
        db,
        zone_of(user),
        Filters(line, queue, assignee),
        since=since,
        after=decode_place(cursor, POSITION),
        limit=limit + 1,
    )
    rows, next_cursor = cut(
        rows, limit, lambda clock: sla_reports.position(clock, clock.breached_at)
    )
    return Page(
        items=[alert(clock, now, state.calendars) for clock in rows], next_cursor=next_cursor
    )


Window = Annotated[timedelta, Query(description="ISO 8601 duration, e.g. PT1H", examples=["PT1H"])]


@router.get("/at-risk", response_model=Page[ClockAlert], operation_id="sla_at_risk")
async def at_risk(
    db: DbSession,
    user: CurrentUser,
    state: State,
    within: Window = timedelta(hours=1),
    line: Line | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ClockAlert]:
    """Running clocks due within the window, and later ones predicted to be late; paused
    clocks are left out (they cannot breach while paused). Soonest due first."""
    require_overseer(user)
    if within <= timedelta(0) or within > MAX_WINDOW:
        raise invalid("within", f"a positive duration of at most {MAX_WINDOW.days} days")
    now = datetime.now(UTC)
    soon = now + within
    forecast = await state.forecasts.get(db, now)
    # No clock due after this can be predicted late: the longest queue on the slowest calendar.
    horizon = max(
        [soon, now + forecast.longest()]
        + [c.add(now, forecast.longest()) for c in state.calendars.values()]
    )
    found: list[tuple[ClockAlert, Position]] = []
    after, filters, zone = (
        decode_place(cursor, POSITION),
        Filters(line, queue, assignee),
        zone_of(user),
    )
    more = False
    while not more:
        rows = await sla_reports.due_before(
            db, zone, filters, horizon, after=after, limit=SCAN_BATCH
        )
        for clock in rows:
            item = alert(clock, now, state.calendars)
            if clock.due_at > soon:
                calendar = state.calendars.get(clock.calendar)
                expected = (
                    forecast.expected(clock, calendar, now)
                    if calendar is not None
                    else now + forecast.longest()
                )
                if expected <= clock.due_at:
                    continue
                item.predicted, item.expected_completion = True, expected
            if len(found) == limit:
                more = True
                break
            found.append((item, sla_reports.position(clock, clock.due_at)))
        if len(rows) < SCAN_BATCH:
            break
        last = rows[-1]
        after = sla_reports.position(last, last.due_at)
    return Page(
        items=[item for item, _ in found],
        next_cursor=encode_place(found[-1][1]) if more else None,
    )


class GroupStats(BaseModel):
    group: str | None = Field(description="the line, queue or agent; null: none recorded")
    clocks: int = Field(description="clocks started in the period")
    met: int = Field(description="stopped within target")
    breached: int
    met_pct: float | None = Field(description="met ÷ (met + breached), %; null if none decided")
    median_first_response: BusinessTime | None = Field(description="business time, when answered")
    median_resolution: BusinessTime | None = Field(description="business time, when resolved")


class SlaStats(BaseModel):
    start: datetime = Field(serialization_alias="from")
    to: datetime
    group_by: Literal["line", "queue", "agent"]
    groups: list[GroupStats]


def seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=round(value))


@router.get("/stats", response_model=SlaStats, operation_id="sla_stats")
async def stats(
    db: DbSession,
    user: CurrentUser,
    app: State,
    start_at: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description="a date (its start in the caller's time zone) or an RFC 3339 time; "
            "default: today",
        ),
    ] = None,
    to_at: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=40,
            description="a date (taken in whole) or an RFC 3339 time; default: a day after from",
        ),
    ] = None,
    group_by: Literal["line", "queue", "agent"] = "line",
) -> SlaStats:
    """Per group, the clocks started in [from, to): met %, breached, median business times."""
    require_overseer(user)
    zone = zone_of_day(user.schedule, app.settings.default_timezone)
    try:
        start = (
            day_or_moment(start_at, "from", zone)
            if start_at
            else today_starts(user.schedule, app.settings.default_timezone)
        )
        to = day_or_moment(to_at, "to", zone, end=True) if to_at else start + timedelta(days=1)
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise invalid(field, reason) from None
    if to <= start:
        raise invalid("to", "must be after from")
    rows = await sla_reports.stats(db, zone_of(user), group_by, start, to)
    return SlaStats(
        start=start,
        to=to,
        group_by=group_by,
        groups=[
            GroupStats(
                group=row.group,
                clocks=row.clocks,
                met=row.met,
                breached=row.breached,
                met_pct=row.met_pct,
                median_first_response=seconds(row.median_first_response_s),
                median_resolution=seconds(row.median_resolution_s),
            )
            for row in rows
        ],
    )
