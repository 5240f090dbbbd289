"""Button payloads: numbers that no database row can have are stale before any query runs."""

from __future__ import annotations

import pytest

from bot import callbacks
from bot.handlers import manage, subscribe


@pytest.mark.parametrize(
    "data",
    [
        "rm:999999999999999999999",  # overflowed SQLite's 64-bit integers
        f"rm:{callbacks.MAX_NUMBER + 1}",  # overflowed PostgreSQL's INTEGER id column
        "rr:9223372036854775808",
        "lb:-1",
        "sp:x",
        "sr:1e3",
    ],
)
def test_numbers_beyond_the_id_columns_are_stale(data: str) -> None:
    with pytest.raises(callbacks.BadCallback):
        callbacks.decode(data)


def test_numbers_in_range_decode() -> None:
    data = callbacks.decode(f"{manage.REMOVE}:{callbacks.MAX_NUMBER}")
    assert data.number() == callbacks.MAX_NUMBER
    assert callbacks.decode(f"{subscribe.PICK_RADIUS}:300").number() == 300


def test_encode_refuses_what_decode_would_reject() -> None:
    with pytest.raises(ValueError):
        callbacks.encode(manage.REMOVE, callbacks.MAX_NUMBER + 1)
    with pytest.raises(ValueError):
        callbacks.encode(manage.REMOVE, "abc")


def test_an_action_cannot_change_its_kind_of_arguments() -> None:
    with pytest.raises(ValueError):
        callbacks.register(manage.REMOVE, 1)
    assert callbacks.register(manage.REMOVE, 1, numbers=True) == manage.REMOVE
