"""Throttling of password logins, per username and per client address (the `limits`
library, moving window). Only failures count; while a window is spent, the login is
refused with Retry-After before any password is checked.

Kept in the API process's memory: with several API processes each counts its own, and the
lockout in the database (`users.failed_logins`) is what holds across all of them.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginGuard:
    def __init__(self, *, per_user: str, per_address: str) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.rates = {"user": parse(per_user), "address": parse(per_address)}

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.strip().lower()), ("address", address)]

    def retry_after(self, username: str, address: str) -> int | None:
        """Seconds until another try is heard, if the user or the address is throttled."""
        waits = []
        for scope, key in self._keys(username, address):
            rate = self.rates[scope]
            if not self.limiter.test(rate, scope, key):
                reset = self.limiter.get_window_stats(rate, scope, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits, default=None)

    def failed(self, username: str, address: str) -> None:
        for scope, key in self._keys(username, address):
            self.limiter.hit(self.rates[scope], scope, key)

    def succeeded(self, username: str) -> None:
        scope, key = self._keys(username, "")[0]
        self.limiter.clear(self.rates[scope], scope, key)
