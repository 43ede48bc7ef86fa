"""RequestWorkflow's rules: who may make which step now (role, line, lifecycle, the house
rules of TAKE_RULES_PATCH), and the actions it offers each caller."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from caseflow.payloads import (
        Action,
        Actor,
    )
    from caseflow.requests.lifecycle import (
        ACTIONS,
        takes_from,
    )
    from caseflow.requests.steps import Case, house_rule, illegal, line_access, offered

from workflows.request_base import RequestBase


class RequestRules(RequestBase):
    def _check(self, action: Action, *, strict: bool) -> None:
        """Role, line and lifecycle; `strict`: also the rules of TAKE_RULES_PATCH (always in
        the validator, which is never replayed; in the handler once the patch is in)."""
        rule = ACTIONS.get(action.name)
        if rule is None:
            raise ApplicationError(
                f"unknown action '{action.name}'", type="unknown_action", non_retryable=True
            )
        actor = action.actor
        if action.expected_seq is not None and action.expected_seq != self.seq:
            # Never applied over someone else's change (actions before this field had none).
            raise ApplicationError(
                f"the request changed since you loaded it (you saw version "
                f"{action.expected_seq}, it is now at {self.seq})",
                {"version": self.seq, "seen": action.expected_seq},
                type="stale",
                non_retryable=True,
            )
        if actor.role not in rule.roles:
            raise ApplicationError(
                f"the {actor.role} role may not {action.name}", type="forbidden", non_retryable=True
            )
        if not self._line_access(actor):
            raise ApplicationError(
                f"{actor.username} does not work line {self.line}",
                type="forbidden",
                non_retryable=True,
            )
        if strict and action.name == "take" and not takes_from(actor.role, actor.team, self.queue):
            raise ApplicationError(
                f"{actor.username} takes from their own queue ({actor.team or 'none'}), "
                f"not from {self.queue}: a supervisor reassigns",
                type="forbidden",
                non_retryable=True,
            )
        reason = self._illegal(action) or (self._house_rule(action) if strict else None)
        if reason:
            raise ApplicationError(
                reason,
                {"allowed": self.allowed_for(actor)},
                type="illegal_transition",
                non_retryable=True,
            )

    def _house_rule(self, action: Action) -> str | None:
        return house_rule(
            action,
            line=self.line,
            assignee=self.assignee,
            topic=self.start.topic,
            resolving_line=self.start.resolving_line,
        )

    def _illegal(self, action: Action) -> str | None:
        return illegal(action, state=self.state, line=self.line, escalated=bool(self.hops))

    def _case(self) -> Case:
        handed_by = self.hops[-1].line if self.hops else None
        return Case(
            self.state, self.line, self.queue, self.assignee, handed_by, self.start.resolving_line
        )

    def _line_access(self, actor: Actor) -> bool:
        return line_access(actor, self._case())

    def allowed_for(self, actor: Actor) -> list[str]:
        return offered(actor, self._case())
