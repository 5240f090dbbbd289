"""Failures the user must still hear about: oversized input quoted back, forged buttons, and
exceptions in handlers (the error handler answers, logs, counts and tells the admins)."""

from __future__ import annotations

import pytest

from bot.handlers.common import ECHO_LIMIT, echo
from tests.bot.conftest import Bot

ANA = 1001
HUGE = 4990
"""The length of the /subscribe that once got no reply (its echo was over 4096 characters)."""


def test_echo_bounds_then_escapes() -> None:
    assert echo("Sevilla & <Cádiz>") == "Sevilla &amp; &lt;Cádiz&gt;"
    cut = echo("&" * (ECHO_LIMIT + 50))
    assert cut == "&amp;" * (ECHO_LIMIT - 1) + "…"  # cut first: no entity split in half
    assert len(echo("x" * 10_000)) == ECHO_LIMIT


@pytest.mark.parametrize(
    "command",
    [
        "/subscribe ",  # an unknown stroke type, quoted back
        "/subscribe any near ",  # an unknown place
        "/subscribe any in Spain, ",  # an unknown country
        "/settings timezone ",  # an unknown time zone
        "/trial ",  # an unknown trial id
    ],
)
async def test_a_huge_command_gets_a_short_reply(bot: Bot, command: str) -> None:
    text = command + "x" * (HUGE - len(command))
    assert len(text) == HUGE
    (answer,) = await bot.says(ANA, text)
    assert "x" * (ECHO_LIMIT - 1) + "…" in answer["text"]
    assert len(answer["text"]) < 1000
    assert not bot.fake.errors


async def test_huge_typed_answers_get_short_replies(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Ischemic stroke")
    await bot.presses(ANA, "Near a place")
    (unknown,) = await bot.says(ANA, "z" * HUGE)
    assert "z" * 50 in unknown["text"] and len(unknown["text"]) < 1000
    (radius,) = await bot.says(ANA, "Madrid")
    assert "How far" in radius["text"]
    (invalid,) = await bot.says(ANA, "y" * HUGE)
    assert "y" * 50 in invalid["text"] and len(invalid["text"]) < 1000
    assert not bot.fake.errors


async def test_a_forged_huge_id_is_an_out_of_date_button(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe ischemic in Spain")
    await bot.says(ANA, "/list")
    for data in ("rm:999999999999999999999", "rm:2147483648", "lb:9223372036854775808"):
        answer = await bot.press_data(ANA, data)
        assert answer.get("show_alert") is True, data
        assert answer.get("text") == "This button is out of date. Please start again.", data
    assert len(await bot.subscriptions(ANA)) == 1
    assert not bot.fake.errors
