"""The one access policy: who may see which record, for every edge (API, console, exports).

`rules` declares it as data, `where` turns it into SQL predicates for lists, `records`
loads one record or says it is not there. No route decides visibility by itself.
"""

from caseflow.access.ownership import HOLDERS, OWNERSHIP_FIELDS, may_set
from caseflow.access.records import (
    customer,
    deal,
    live_customer,
    may_see,
    person,
    request,
    seen,
)
from caseflow.access.rules import DERIVED, GRANTS, Grant, Kind, NotVisible, Viewer, grants
from caseflow.access.where import where

__all__ = [
    "DERIVED",
    "GRANTS",
    "HOLDERS",
    "OWNERSHIP_FIELDS",
    "Grant",
    "Kind",
    "NotVisible",
    "Viewer",
    "customer",
    "deal",
    "grants",
    "live_customer",
    "may_see",
    "may_set",
    "person",
    "request",
    "seen",
    "where",
]
