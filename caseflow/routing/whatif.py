"""What a proposed rule set would change: the same intakes routed by both books, compared."""

from __future__ import annotations

from collections import Counter
from typing import Any

from caseflow.payloads import RequestStart
from caseflow.routing.rules import Route, RuleBook


def _target(route: Route) -> dict[str, Any]:
    return {"rule": route.rule, "line": route.line, "queue": route.queue, "person": route.person}


def compare(
    current: RuleBook, proposed: RuleBook, intakes: list[tuple[str, RequestStart]]
) -> dict[str, Any]:
    changed = []
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for number, start in intakes:
        old, new = _target(current.route(start)), _target(proposed.route(start))
        before[old["queue"] or f"person:{old['person']}"] += 1
        after[new["queue"] or f"person:{new['person']}"] += 1
        if old != new:
            changed.append(
                {"request_id": start.request_id, "number": number, "before": old, "after": new}
            )
    queues = sorted(set(before) | set(after))
    return {
        "sample_size": len(intakes),
        "changed": changed,
        "unchanged": len(intakes) - len(changed),
        "volume": {q: {"before": before[q], "after": after[q]} for q in queues},
    }
