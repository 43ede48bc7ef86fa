"""The queue's named views, one definition for the console's tabs and the API
(`GET /requests?view=`, `GET /requests/views`): the caller's own, their team's, waiting for
the customer, with a breached clock, all open. Their words are the console's; here they are
codes and filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from api.request_reads import RequestFilters
from caseflow.models import User
from caseflow.requests.lifecycle import OPEN_STATES, Role, State

OPEN = tuple(sorted(OPEN_STATES))
ViewCode = Literal["mine", "team", "waiting", "breached", "open"]


@dataclass(frozen=True)
class View:
    code: ViewCode

    def filters(self, user: User) -> RequestFilters:
        if self.code == "mine":
            return RequestFilters(assignee="me", states=OPEN)
        if self.code == "team":
            return RequestFilters(queue=user.team_code, states=OPEN)
        if self.code == "waiting":
            return RequestFilters(state=State.WAITING_CUSTOMER)
        if self.code == "breached":
            return RequestFilters(breached=True, states=OPEN)
        return RequestFilters(states=OPEN)


VIEWS = [View("mine"), View("team"), View("waiting"), View("breached"), View("open")]


def views_for(user: User) -> list[View]:
    """Overseers have no team queue of their own (their zone is "all open"), nor has a
    person without a team."""
    if Role(user.role) in (Role.SUPERVISOR, Role.ADMIN) or not user.team_code:
        return [v for v in VIEWS if v.code != "team"]
    return VIEWS
