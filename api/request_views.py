"""How a request is shown: who may see it, its live view, and what the caller may do next."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import actor_of
from caseflow.models import Request, User
from caseflow.payloads import Assignment, RequestStart, RequestView
from caseflow.requests.lifecycle import (
    Line,
    Role,
    State,
)
from caseflow.requests.steps import Case, offered
from caseflow.requests.topics import rank


class RequestOut(RequestView):
    """The live view of a request, with what the caller may do next."""

    allowed_actions: list[str]
    fields: dict[str, Any] = Field(default_factory=dict, description="asked at intake")
    hidden_fields: list[str] = Field(
        default_factory=list, description="not shown: the caller was not entitled to them"
    )
    unidentified: bool = Field(
        default=False, description="the caller was not entitled to what the topic discloses"
    )
    disclosure_allowed: str = "public"


def out(
    view: RequestView, allowed: list[str], row: Request | RequestStart, user: User
) -> RequestOut:
    """An operator does not see fields above what the caller was entitled to hear. `row`:
    the read model's row, or the intake itself (both carry what was asked and allowed)."""
    fields, hidden = dict(row.fields or {}), []
    if user.role == Role.OPERATOR:
        levels = row.field_disclosure or {}
        hidden = [n for n in fields if rank(levels.get(n, "public")) > rank(row.disclosure_allowed)]
        fields = {n: v for n, v in fields.items() if n not in hidden}
    return RequestOut(
        **dict(view),
        allowed_actions=allowed,
        fields=fields,
        hidden_fields=hidden,
        unidentified=row.unidentified,
        disclosure_allowed=row.disclosure_allowed,
    )


def view_from_row(row: Request) -> RequestView:
    """The read model's picture, for requests whose workflow history is gone."""
    assignment = None
    if row.assignment_rule:
        assignment = Assignment(
            line=Line(row.line),
            queue=row.queue,
            assignee=row.assignee,
            rule=row.assignment_rule,
            explanation=row.assignment_explanation or "",
        )
    return RequestView(
        id=row.id,
        workflow_id=row.workflow_id,
        number=row.number,
        state=State(row.state),
        line=Line(row.line),
        queue=row.queue,
        assignee=row.assignee,
        priority=row.priority,
        channel=row.channel,
        topic=row.topic,
        subtopic=row.subtopic,
        subject=row.subject,
        customer_id=row.customer_id,
        created_by=row.created_by,
        registered_at=row.created_at,
        assignment=assignment,
        escalations=[],
        auto_close_at=None,
        last_seq=row.last_seq,
    )


async def allowed_for(db: AsyncSession, user: User, view: RequestView) -> list[str]:
    handed_by = view.escalations[-1].line if view.escalations else None
    case = Case(view.state, view.line, view.queue, view.assignee, handed_by, view.resolving_line)
    return offered(await actor_of(user, db), case)
