"""Temporal activities: every side effect of Caseflow, each idempotent on a business key."""
