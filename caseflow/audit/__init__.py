"""The audit log: who did or read what, when, from where, with what outcome; append-only
and hash-chained per day, so `caseflow audit verify` finds an edited, added or removed
entry."""

from caseflow.audit.chain import GENESIS, Call, link
from caseflow.audit.store import Finding, append, verify

__all__ = ["GENESIS", "Call", "Finding", "append", "link", "verify"]
