"""Inline-button payloads: one compact, strictly parsed format for every button.

`callback_data` comes back from the user's client and can be stale or forged, so every
payload is parsed against a fixed grammar here and anything else is rejected; handlers then
check that what it names still exists and belongs to the chat. Payloads stay within
Telegram's 64-byte limit (checked on encode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MAX_BYTES = 64
_ARG = r"[A-Za-z0-9_.\-]{1,40}"
_PAYLOAD = re.compile(rf"^(?P<action>[a-z]{{1,8}})(?::(?P<args>{_ARG}(?::{_ARG}){{0,3}}))?$")

ACTIONS: dict[str, int] = {}
"""action -> number of arguments it takes. Handlers register theirs with `register()`."""
NUMERIC: set[str] = set()
"""Actions whose arguments are all numbers (ids, indexes, km), checked by `decode`."""
MAX_NUMBER = 2**31 - 1
"""The biggest number a numeric argument may be: subscription ids are INTEGER columns (32-bit
on PostgreSQL). A bigger one names nothing, and sent to the database it overflows the query
instead of finding no row (`rm:999999999999999999999` did), so it is stale at parse time."""


class BadCallback(ValueError):
    """Unknown, stale or tampered button data."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        return encode(self.action, *self.args)

    def number(self, index: int = 0) -> int:
        """A numeric argument (an action registered with `numbers=True`; `decode` checked it)."""
        return int(self.args[index])


def register(action: str, nargs: int, *, numbers: bool = False) -> str:
    """Declare an action and its arity; `numbers`: every argument is a number in 0..MAX_NUMBER."""
    if not re.fullmatch(r"[a-z]{1,8}", action):
        raise ValueError(f"bad action name {action!r}")
    if action in ACTIONS and (ACTIONS[action] != nargs or (action in NUMERIC) != numbers):
        raise ValueError(f"action {action!r} registered twice with different arguments")
    ACTIONS[action] = nargs
    if numbers:
        NUMERIC.add(action)
    return action


def _numbers_ok(action: str, args: tuple[str, ...]) -> bool:
    return action not in NUMERIC or all(
        a.isascii() and a.isdigit() and int(a) <= MAX_NUMBER for a in args
    )


def encode(action: str, *args: str | int) -> str:
    if action not in ACTIONS or len(args) != ACTIONS[action]:
        raise ValueError(f"unregistered action or wrong arguments: {action}{args}")
    data = ":".join([action, *(str(a) for a in args)])
    if len(data.encode("utf-8")) > MAX_BYTES or not _PAYLOAD.match(data):
        raise ValueError(f"callback data {data!r} is too long or has bad characters")
    if not _numbers_ok(action, tuple(str(a) for a in args)):
        raise ValueError(f"callback data {data!r}: arguments must be numbers up to {MAX_NUMBER}")
    return data


def decode(data: str | None) -> Callback:
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        raise BadCallback("empty or oversized")
    found = _PAYLOAD.match(data)
    if not found:
        raise BadCallback("malformed")
    action = found["action"]
    args = tuple(found["args"].split(":")) if found["args"] else ()
    if ACTIONS.get(action) != len(args):
        raise BadCallback(f"unknown action {action!r} or wrong arity")
    if not _numbers_ok(action, args):
        raise BadCallback(f"{action!r} wants numbers up to {MAX_NUMBER}")
    return Callback(action, args)


def stamp(now: datetime) -> str:
    """The minute a question was asked, in base 36 (6 characters until the year 5000), for
    buttons that must not work for ever: a destructive "Yes" carries it and expires."""
    minutes = int(now.timestamp()) // 60
    digits = ""
    while True:
        minutes, digit = divmod(minutes, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not minutes:
            return digits


def minutes_since(stamped: str, now: datetime) -> int | None:
    """How many minutes ago `stamp` was issued; None if it is no stamp or from the future
    (forged or a clock gone wrong: treated as expired by callers)."""
    if not (stamped.isascii() and stamped.isalnum()):
        return None
    issued = int(stamped, 36)
    age = int(now.timestamp()) // 60 - issued
    return age if age >= 0 else None


TRIAL_DETAILS = register("td", 2)
"""td:<registry>:<registry id> -> the detail view of a trial."""
COULD_I_JOIN = register("cj", 3)
"""cj:<registry>:<registry id>:<subscription id | 0 (not known) | n (none)> -> "Could I join?"
for that trial, for the person of that subscription (bot/handlers/join.py)."""
PROFILE = register("pf", 1, numbers=True)
"""pf:<subscription id> -> ask the time since the stroke and the age for that alert (after it
is made, and from /list)."""
