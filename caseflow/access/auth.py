"""Passwords and bearer tokens.

Every token carries `exp` and `jti`; a token without them is refused. Integration tokens
(long-lived) are also recorded by their `jti` (`caseflow.access.tokens`), so one can be
revoked without deactivating the account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

import bcrypt
import jwt

ALGORITHM = "HS256"
INTEGRATION_TTL = timedelta(days=365)
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]
TokenKind = Literal["person", "integration"]


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


@cache
def _stand_in_hash() -> str:
    """Checked against when the username is unknown, so an unknown name takes as long to
    refuse as a wrong password (no telling which usernames exist by the time taken)."""
    return hash_password(uuid.uuid4().hex)


def check_password(password: str, hashed: str | None) -> bool:
    """Whether the password matches; always does the work of one bcrypt check."""
    try:
        matched = bcrypt.checkpw(password.encode(), (hashed or _stand_in_hash()).encode())
    except ValueError:
        bcrypt.checkpw(password.encode(), _stand_in_hash().encode())
        return False
    return matched and hashed is not None


@dataclass(frozen=True)
class Issued:
    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime


def issue_token(
    *, username: str, role: str, secret: str, ttl: timedelta, kind: TokenKind = "person"
) -> Issued:
    now = datetime.now(UTC).replace(microsecond=0)
    jti = str(uuid.uuid4())
    claims = {
        "sub": username,
        "role": role,
        "kind": kind,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
    }
    return Issued(jwt.encode(claims, secret, algorithm=ALGORITHM), jti, now, now + ttl)


def read_token(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token that has all of them; None otherwise."""
    try:
        return jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
        )
    except jwt.PyJWTError:
        return None
