"""The one permission guard, over the real bot: in a group, members who are not admins are
refused everything that changes what the group receives, with the answers they always got."""

from __future__ import annotations

import pytest

from bot.handlers import buttons
from tests.bot.conftest import Bot

GROUP = -1002003004005
ADMIN, MEMBER = 77, 88
REFUSED = "Only group admins can change this."


@pytest.fixture
async def group(bot: Bot) -> Bot:
    bot.fake.set_admins(GROUP, [ADMIN])
    await bot.says(GROUP, "/subscribe any in Spain", user_id=ADMIN, chat_title="Stroke club")
    return bot


@pytest.mark.parametrize(
    "command",
    [
        "/subscribe any in France",
        "/unsubscribe all",
        "/pause",
        "/resume",
        "/settings language es",
        "/mydata",
        "/forget",
    ],
)
async def test_members_are_refused_commands_that_change_things(group: Bot, command: str) -> None:
    (answer,) = await group.says(GROUP, command, user_id=MEMBER)
    assert answer["text"] == REFUSED
    (sub,) = await group.subscriptions(GROUP)
    assert sub.countries == ["ES"]
    chat = await group.chat(GROUP)
    assert chat is not None and chat.language == "en" and not chat.paused


async def test_members_may_look_but_not_press_or_pin(group: Bot) -> None:
    (shown,) = await group.says(GROUP, "/settings", user_id=MEMBER)
    assert "Language" in shown["text"]
    answer = await group.press_data(GROUP, "st:lang:es")
    assert answer["show_alert"] is True and answer["text"] == REFUSED
    before = len(group.fake.sent_to(GROUP))
    group.fake.user_shares_location(GROUP, 40.4168, -3.7038, user_id=MEMBER)
    await group.fake.wait_for_sent_async(GROUP, before + 1)
    assert group.fake.last_text(GROUP) == REFUSED
    assert len(await group.subscriptions(GROUP)) == 1


def test_every_button_that_changes_something_is_guarded() -> None:
    for action, route in buttons.ROUTES.items():
        guarded = hasattr(route, "__wrapped__")
        assert guarded == (action not in buttons.READ_ONLY), action
