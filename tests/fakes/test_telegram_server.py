"""The fake Bot API, driven by real python-telegram-bot 22.8 objects over real HTTP.

These pin down what other tests rely on: the wire contract PTB sees (error classes included),
Telegram's validation and flood limits, long polling, and the test-side and control APIs.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakes.telegram_server import (
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    HtmlError,
    render_html,
    utf16_len,
)

ROOT = Path(__file__).resolve().parents[2]
ALICE = 5001
BOB = 5002
GROUP = -4001
SUPERGROUP = -1001234567890


class Clock:
    """A hand-moved monotonic clock, so flood-limit tests do not depend on machine speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB reads PTB_TIMEDELTA on every access of a duration (RetryAfter.retry_after, ...);
    without it that access emits PTBDeprecationWarning, which filterwarnings=error fails."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limited(clock: Clock) -> Iterator[FakeTelegram]:
    """A fake whose flood limits run on a frozen clock that tests move by hand."""
    with FakeTelegram(clock=clock) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        yield client


@pytest.fixture
async def limited_bot(limited: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=limited.base_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


def http(
    fake: FakeTelegram, path: str, body: Any = None, *, raw: bytes | None = None, ctype: str = ""
) -> tuple[int, Any]:
    """One plain HTTP request (as a subprocess driver or another client would send it)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": ctype or "application/json"} if data is not None else {}
    request = urllib.request.Request(fake.root_url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- wire contract ----------------------------------------------------------------------------


async def test_base_url_and_get_me(fake: FakeTelegram, bot: Bot) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/bot"
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, BOT_USERNAME, True)
    assert me.can_join_groups and not me.can_read_all_group_messages
    assert not me.supports_inline_queries
    assert fake.calls_to("getMe")  # Bot.initialize() already asked


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("987654321:" + "A" * 35, base_url=fake.base_url):
            pass
    status, body = http(fake, f"/bot{TOKEN[:-1]}x/getMe", {})
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def test_unknown_method_404_and_case_insensitive_names(fake: FakeTelegram) -> None:
    status, body = http(fake, f"/bot{TOKEN}/sendTelepathy", {})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    [violation] = fake.take_violations()
    assert violation["method"] == "sendTelepathy"
    status, body = http(fake, f"/bot{TOKEN}/GETME", {})
    assert status == 200 and body["result"]["username"] == BOT_USERNAME
    assert fake.calls[-1][0] == "getMe"


def test_json_form_and_multipart_bodies(fake: FakeTelegram) -> None:
    fake.add_chat(ALICE)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = http(
        fake, f"/bot{TOKEN}/sendMessage", {"chat_id": ALICE, "text": 123, "reply_markup": markup}
    )
    assert status == 200 and body["result"]["text"] == "123"
    form = f"chat_id={ALICE}&text=true&disable_notification=true".encode()
    status, body = http(
        fake,
        f"/bot{TOKEN}/sendmessage",
        raw=form,
        ctype="application/x-www-form-urlencoded",
    )
    assert status == 200 and body["result"]["text"] == "true"  # a string field stays a string
    assert fake.sent[-1]["params"]["disable_notification"] is True
    boundary = "XyZ"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n{ALICE}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nmulti\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    status, body = http(
        fake,
        f"/bot{TOKEN}/sendMessage",
        raw=multipart,
        ctype=f"multipart/form-data; boundary={boundary}",
    )
    assert status == 200 and body["result"]["text"] == "multi"
    assert [s["text"] for s in fake.sent_to(ALICE)] == ["123", "true", "multi"]
    assert [s["message_id"] for s in fake.sent_to(ALICE)] == [1, 2, 3]


# -- a whole conversation over long polling ---------------------------------------------------


async def test_application_start_keyboard_press_answer_and_edit(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "<b>Welcome</b>, pick one:",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(("Stroke news", "sub:news"), ("Nothing", "sub:none")),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer("Saved")
        await query.edit_message_text(f"You chose {query.data.removeprefix('sub:')}")

    app = Application.builder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        fake.user_sends(ALICE, "/start", language_code="de")
        [welcome] = await fake.wait_for_sent_async(ALICE)
        assert welcome["plain"] == "Welcome, pick one:"
        assert welcome["text"] == "<b>Welcome</b>, pick one:"
        assert [r[0]["text"] for r in fake.buttons(ALICE)] == ["Stroke news", "Nothing"]
        update = fake.user_presses_button(ALICE, "news")
        assert update["callback_query"]["from"]["language_code"] == "de"  # remembered
        await fake.wait_for_async(lambda: fake.edits, what="the edit")
        await app.updater.stop()
        await app.stop()
    assert fake.last_text(ALICE) == "You chose news"
    assert fake.buttons(ALICE) == []  # an edit without reply_markup removes the keyboard
    [answer] = fake.callback_answers
    assert (answer["text"], answer["data"], answer["chat_id"]) == ("Saved", "sub:news", ALICE)
    methods = [m for m, _ in fake.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    final = fake.calls_to("getUpdates")[-1]
    assert final["timeout"] == 0 and final["offset"] == update["update_id"] + 1  # acknowledged
    assert fake.pending_updates == []
    assert fake.errors == []


async def test_command_entity_with_bot_name_in_groups(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(GROUP, f"/start@{BOT_USERNAME} hello", user_id=ALICE, chat_title="Carers")
    fake.user_sends(SUPERGROUP, "/help", user_id=BOB)
    fake.user_sends(ALICE, "just words")
    first, second, third = await bot.get_updates()
    assert first.message is not None and first.message.chat.type == "group"
    assert first.message.chat.title == "Carers"
    assert first.message.from_user is not None and first.message.from_user.id == ALICE
    [entity] = first.message.entities
    assert (entity.type, entity.offset, entity.length) == (
        "bot_command",
        0,
        len(f"/start@{BOT_USERNAME}"),
    )
    assert first.message.parse_entities() == {entity: f"/start@{BOT_USERNAME}"}
    assert second.message is not None and second.message.chat.type == "supergroup"
    assert third.message is not None and third.message.entities == ()
    assert third.message.chat.type == "private" and third.message.chat.first_name == "Ana"


async def test_location_and_raw_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_shares_location(ALICE, 38.72, -9.14, horizontal_accuracy=20.0)
    fake.push_update(
        {
            "message": {
                "message_id": 99,
                "date": 0,
                "chat": {"id": BOB, "type": "private"},
                "text": "raw",
            }
        }
    )
    located, raw = await bot.get_updates()
    assert located.message is not None and located.message.location is not None
    assert located.message.location.latitude == pytest.approx(38.72)
    assert raw.message is not None and raw.message.text == "raw"
    await bot.send_message(BOB, "known now")  # a chat that sent an update exists


# -- long polling -----------------------------------------------------------------------------


async def test_long_poll_returns_when_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    fake.user_sends(ALICE, "hi")
    [update] = await asyncio.wait_for(poll, 3)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2.0
    assert update.message is not None and update.message.text == "hi"


async def test_long_poll_times_out_empty(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2.5


async def test_offset_confirms_older_updates_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    for text in ("one", "two", "three"):
        fake.user_sends(ALICE, text)
    ids = [u.update_id for u in await bot.get_updates()]
    assert len(ids) == 3 and ids == sorted(ids)
    again = await bot.get_updates(limit=2)
    assert [u.update_id for u in again] == ids[:2]  # not confirmed yet: delivered again
    rest = await bot.get_updates(offset=ids[1] + 1)
    assert [u.update_id for u in rest] == ids[2:]
    assert len(fake.pending_updates) == 1
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert fake.pending_updates == []
    fake.user_sends(ALICE, "four")
    fake.user_sends(ALICE, "five")
    [last] = await bot.get_updates(offset=-1)
    assert last.message is not None and last.message.text == "five"


async def test_allowed_updates_filters_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fake.block(ALICE)
    fake.user_sends(BOB, "hello")
    [only] = await bot.get_updates(allowed_updates=["message"])
    assert only.message is not None  # my_chat_member was not requested: dropped
    assert fake.pending_updates[0]["message"]["text"] == "hello"


async def test_webhook_blocks_get_updates(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret-Token")
    assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret-Token"
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    fake.user_sends(ALICE, "queued")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_second_poller_ends_the_first_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(TOKEN, base_url=fake.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="only one bot instance"):
        await asyncio.wait_for(first, 3)
    assert fake.stats()["conflicts"] == 1


# -- error mapping as PTB sees it -------------------------------------------------------------


async def test_blocked_user_is_forbidden_and_gets_my_chat_member(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.add_chat(ALICE)
    await bot.send_message(ALICE, "before")
    fake.block(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "after")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.old_chat_member.status == "member"
    member = await bot.get_chat_member(ALICE, 123456789)
    assert member.status == "kicked"
    fake.unblock(ALICE)
    await bot.send_message(ALICE, "welcome back")
    assert [s["text"] for s in fake.sent_to(ALICE)] == ["before", "welcome back"]


async def test_unknown_chat_is_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.send_message(424242, "anyone?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat("@nobody")


async def test_migrated_group(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(GROUP, title="Stroke carers")
    fake.migrate(GROUP, SUPERGROUP)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "hello")
    assert caught.value.new_chat_id == SUPERGROUP
    await bot.send_message(caught.value.new_chat_id, "hello again")
    assert [s["text"] for s in fake.sent_to(SUPERGROUP)] == ["hello again"]
    assert fake.sent_to(GROUP) == []
    old, new = await bot.get_updates()
    assert old.message is not None and old.message.migrate_to_chat_id == SUPERGROUP
    assert new.message is not None and new.message.migrate_from_chat_id == GROUP
    assert new.message.chat.type == "supergroup" and new.message.chat.title == "Stroke carers"


async def test_scripted_failures(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fake.add_chat(BOB)
    fake.fail("sendMessage", chat_id=ALICE, status=429, parameters={"retry_after": 7})
    fake.fail("sendMessage", chat_id=BOB, status=403, description="Forbidden: user is deactivated")
    fake.fail("sendChatAction", status=502, raw_body="<html>Bad Gateway</html>", times=None)
    await bot.get_me()  # other calls are untouched
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "x")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(ALICE, "x")  # times=1: used up
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(BOB, "x")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_chat_action(ALICE, ChatAction.TYPING)
    fake.clear_faults()
    assert await bot.send_chat_action(ALICE, ChatAction.TYPING)
    assert fake.count_429 == 1
    assert [e["status"] for e in fake.errors] == [429, 403, 502, 502]


async def test_slow_answer_times_out_but_is_delivered(fake: FakeTelegram) -> None:
    fake.add_chat(ALICE)
    fake.delay("sendMessage", 2.0)
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(ALICE, "did it arrive?")
        assert fake.last_text(ALICE) == "did it arrive?"  # Telegram has no idempotency key
        await slow.send_message(ALICE, "fast again")


# -- validation -------------------------------------------------------------------------------


async def test_empty_and_too_long_text(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fake.set_limits(enforce=False)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode=ParseMode.HTML)
    await bot.send_message(ALICE, "😀" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, "😀" * 2048 + "!")
    # Limits apply after entity parsing: tags and escapes do not count.
    await bot.send_message(ALICE, "<b>" + "&lt;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, "<i>" + "a" * 4097 + "</i>", parse_mode=ParseMode.HTML)
    assert [v["description"] for v in fake.take_violations()] == [
        "Bad Request: message text is empty",
        "Bad Request: message is too long",
        "Bad Request: message is too long",
    ]


@pytest.mark.parametrize(
    ("html", "fragment"),
    [
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("a < b", 'Unsupported start tag ""'),
        ("<b>bold", "Can't find end tag corresponding to start tag b"),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag"),
        ("<a>link</a>", 'Tag "a" must have attribute "href"'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("Q&A", 'unescaped "&"'),
        ("&nbsp;x", 'Unsupported HTML entity "&nbsp;"'),
        ('<a href="https://x.org">x', "Can't find end tag"),
        ("<b", "Unclosed start tag"),
    ],
)
async def test_bad_html_is_bad_request(
    fake: FakeTelegram, bot: Bot, html: str, fragment: str
) -> None:
    fake.add_chat(ALICE)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as caught:
        await bot.send_message(ALICE, html, parse_mode=ParseMode.HTML)
    # PTB capitalize()s descriptions ("Bad Request: X" -> "X" lower-cased), so compare folded.
    assert fragment.lower() in caught.value.message.lower()
    assert fake.sent == []
    [violation] = fake.take_violations()
    assert "can't parse entities" in violation["description"]


def test_render_html_entities_and_utf16_offsets() -> None:
    text = (
        '😀 <b>bold <i>both</i></b> <a href="https://ct.gov/?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">s</span> <pre><code class="language-py">x = 1</code></pre> '
        "<blockquote expandable>q</blockquote> &lt;&gt;&quot;&amp;&#33;&#x21;"
    )
    plain, entities = render_html(text)
    assert plain == '😀 bold both link s x = 1 q <>"&!!'
    assert utf16_len(plain) == len(plain) + 1  # the emoji is a surrogate pair
    by_type = {e["type"]: e for e in entities}
    assert by_type["bold"] == {"type": "bold", "offset": 3, "length": 9}
    assert by_type["italic"] == {"type": "italic", "offset": 8, "length": 4}
    assert by_type["text_link"]["url"] == "https://ct.gov/?a=1&b=2"
    assert by_type["spoiler"]["length"] == 1
    assert by_type["pre"]["language"] == "py"
    assert "expandable_blockquote" in by_type
    with pytest.raises(HtmlError):
        render_html("<tg-emoji>x</tg-emoji>")


async def test_callback_data_limit_is_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    await bot.send_message(ALICE, "ok", reply_markup=keyboard(("a", "x" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "no", reply_markup=keyboard(("a", "x" * 65)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):  # 22 × 3 bytes = 66
        await bot.send_message(ALICE, "no", reply_markup=keyboard(("a", "€" * 22)))
    location = ReplyKeyboardMarkup([[KeyboardButton("Share", request_location=True)]])
    message = await bot.send_message(ALICE, "where?", reply_markup=location)
    assert message.reply_markup is None  # only inline keyboards come back on a Message
    assert fake.sent[-1]["reply_markup"]["keyboard"][0][0]["request_location"] is True
    status, body = http(
        fake,
        f"/bot{TOKEN}/sendMessage",
        {"chat_id": ALICE, "text": "x", "reply_markup": "{not json"},
    )
    assert status == 400 and "reply keyboard markup" in body["description"]
    assert [v["description"] for v in fake.take_violations()] == [
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: can't parse reply keyboard markup JSON object",
    ]


async def test_edit_not_modified_and_not_found(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    markup = keyboard(("Yes", "y"))
    sent = await bot.send_message(ALICE, "<b>Same</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>Same</b>", ALICE, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    edited = await bot.edit_message_text("Same", ALICE, sent.message_id, reply_markup=markup)
    assert not isinstance(edited, bool) and edited.text == "Same" and edited.entities == ()
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=markup)
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=None)
    assert fake.buttons(ALICE) == []
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    fake.user_sends(ALICE, "mine")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", ALICE, sent.message_id + 1)
    assert [e["method"] for e in fake.edits] == ["editMessageText", "editMessageReplyMarkup"]


async def test_callback_query_answered_once(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    sent = await bot.send_message(ALICE, "pick", reply_markup=keyboard(("A", "a")))
    fake.user_presses(ALICE, sent.message_id, "tampered-data")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "tampered-data"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="ok", show_alert=True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    assert fake.callback_answers[0]["show_alert"] is True
    with pytest.raises(KeyError):
        fake.user_presses(ALICE, 999, "x")


# -- flood limits -----------------------------------------------------------------------------


async def test_global_limit_across_chats(limited: FakeTelegram, limited_bot: Bot) -> None:
    for chat in range(1, 41):
        limited.add_chat(chat)
    outcomes: list[str] = []
    for chat in range(1, 41):
        try:
            await limited_bot.send_message(chat, "news")
            outcomes.append("sent")
        except RetryAfter as exc:
            assert exc.retry_after == timedelta(seconds=1)
            outcomes.append("429")
    assert outcomes == ["sent"] * 30 + ["429"] * 10
    assert limited.count_429 == 10 and len(limited.sent) == 30
    stats = http(limited, "/_control/stats")[1]["result"]
    assert stats["count_429"] == 10 and len(stats["sent_per_chat"]) == 30


async def test_paid_broadcast_skips_the_global_limit(
    limited: FakeTelegram, limited_bot: Bot
) -> None:
    for chat in range(1, 41):
        limited.add_chat(chat)
        await limited_bot.send_message(chat, "paid", allow_paid_broadcast=True)
    assert limited.count_429 == 0


def test_paid_broadcast_is_held_to_1000_a_second_apart_from_the_free_30(
    limited: FakeTelegram, clock: Clock
) -> None:
    """Called on the core (no HTTP), so a thousand sends fit in one frozen second."""
    for chat in range(1, 1004):
        limited.add_chat(chat)

    def send(chat: int, paid: bool) -> int:
        params: dict[str, Any] = {"chat_id": chat, "text": "x"}
        if paid:
            params["allow_paid_broadcast"] = True
        return limited.call(TOKEN, "sendMessage", params).status

    assert [send(chat, True) for chat in range(1, 1001)] == [200] * 1000
    assert send(1001, True) == 429
    assert send(1002, False) == 200  # a reply to a command still has the free 30 a second
    assert limited.stats()["limits"]["paid_per_second"] == 1000
    clock.advance(1.0)
    assert send(1001, True) == 200
    limited.set_limits(paid_per_second=2)
    assert [send(1003, True), send(1002, True), send(1001, True)] == [200, 200, 429]
    assert limited.take_violations() == []


async def test_private_chat_burst_then_one_per_second(
    limited: FakeTelegram, limited_bot: Bot, clock: Clock
) -> None:
    limited.add_chat(ALICE)
    for n in range(3):  # the burst
        await limited_bot.send_message(ALICE, f"quick {n}")
    with pytest.raises(RetryAfter) as caught:
        await limited_bot.send_message(ALICE, "one too many")
    assert caught.value.retry_after == timedelta(seconds=1)
    clock.advance(1.0)
    await limited_bot.send_message(ALICE, "after a second")
    with pytest.raises(RetryAfter):
        await limited_bot.send_message(ALICE, "again too fast")
    limited.add_chat(BOB)
    await limited_bot.send_message(BOB, "other chats are not affected")
    assert limited.count_429 == 2


async def test_group_twenty_per_minute(
    limited: FakeTelegram, limited_bot: Bot, clock: Clock
) -> None:
    limited.add_chat(GROUP, title="Carers")
    for n in range(20):
        await limited_bot.send_message(GROUP, f"m{n}")
        clock.advance(0.5)  # slower than the global limit, faster than the group one
    with pytest.raises(RetryAfter) as caught:
        await limited_bot.send_message(GROUP, "21st")
    assert caught.value.retry_after == timedelta(seconds=50)  # when the first leaves the window
    clock.advance(50)
    await limited_bot.send_message(GROUP, "later")


async def test_limits_can_be_switched_off(limited: FakeTelegram, limited_bot: Bot) -> None:
    limited.add_chat(ALICE)
    limited.set_limits(enforce=False)
    for n in range(50):
        await limited_bot.send_message(ALICE, f"m{n}")
    assert limited.count_429 == 0
    limited.set_limits(enforce=True, per_chat_burst=1)
    await limited_bot.send_message(ALICE, "first")
    with pytest.raises(RetryAfter):
        await limited_bot.send_message(ALICE, "second")


async def test_edits_count_chat_actions_do_not(limited: FakeTelegram, limited_bot: Bot) -> None:
    limited.add_chat(ALICE)
    sent = await limited_bot.send_message(ALICE, "v0", reply_markup=keyboard(("A", "a")))
    for n in range(1, 3):
        await limited_bot.edit_message_text(f"v{n}", ALICE, sent.message_id)
    for _ in range(5):
        await limited_bot.send_chat_action(ALICE, ChatAction.TYPING)
    with pytest.raises(RetryAfter):
        await limited_bot.edit_message_text("v3", ALICE, sent.message_id)


# -- chats, members, commands -----------------------------------------------------------------


async def test_group_membership_admins_and_leaving(fake: FakeTelegram, bot: Bot) -> None:
    fake.bot_added_to_group(GROUP, "Stroke carers", by_user_id=ALICE)
    added, service = await bot.get_updates()
    assert added.my_chat_member is not None
    assert added.my_chat_member.new_chat_member.status == "member"
    assert added.my_chat_member.from_user.id == ALICE
    assert service.message is not None and service.message.new_chat_members[0].is_bot
    fake.set_admins(GROUP, [ALICE], creator=BOB)
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "creator"
    assert (await bot.get_chat_member(GROUP, 777)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [BOB, ALICE]
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("group", "Stroke carers")
    assert await bot.leave_chat(GROUP)
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(GROUP, "still here?")
    left = await bot.get_updates(offset=service.update_id + 1)
    assert left[0].my_chat_member is not None
    assert left[0].my_chat_member.new_chat_member.status == "left"


async def test_commands_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("stop", "Stop")])
    await bot.set_my_commands([BotCommand("start", "Beginnen")], scope=scope, language_code="de")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "stop"]
    german = await bot.get_my_commands(scope=scope, language_code="de")
    assert [c.description for c in german] == ["Beginnen"]
    assert await bot.get_my_commands(scope=scope) == ()
    assert fake.commands({"type": "all_private_chats"}, "de")[0]["command"] == "start"
    await bot.delete_my_commands(scope=scope, language_code="de")
    assert await bot.get_my_commands(scope=scope, language_code="de") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start-Now", "bad")])
    [violation] = fake.take_violations()
    assert violation["description"] == "Bad Request: BOT_COMMAND_INVALID"


async def test_chat_action_and_delete(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    assert await bot.send_chat_action(ALICE, ChatAction.TYPING)
    assert fake.chat_actions == [(ALICE, "typing")]
    sent = await bot.send_message(ALICE, "oops")
    assert await bot.delete_message(ALICE, sent.message_id)
    assert fake.deleted == [(ALICE, sent.message_id)]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


# -- the test-side API ------------------------------------------------------------------------


def test_wait_for_reports_recent_calls_on_timeout(fake: FakeTelegram) -> None:
    fake.add_chat(ALICE)
    http(fake, f"/bot{TOKEN}/sendMessage", {"chat_id": ALICE, "text": "hello"})
    http(fake, f"/bot{TOKEN}/sendMessage", {"chat_id": 999, "text": "lost"})
    assert fake.wait_for_sent(ALICE)[0]["text"] == "hello"
    with pytest.raises(AssertionError) as caught:
        fake.wait_for_sent(ALICE, n=2, timeout=0.2)
    report = str(caught.value)
    assert "2 message(s) sent to chat 5001" in report
    assert "sendMessage" in report and "400 Bad Request: chat not found" in report
    fake.clear()
    assert fake.calls == [] and fake.sent == [] and fake.errors == []
    assert fake.last_text(ALICE) == "hello"  # chats and messages survive clear()


async def test_blocking_wait_refused_inside_event_loop(fake: FakeTelegram) -> None:
    with pytest.raises(RuntimeError, match="wait_for_async"):
        fake.wait_for(lambda: True)
    assert await fake.wait_for_async(lambda: 42) == 42
    with pytest.raises(AssertionError, match="nothing"):
        await fake.wait_for_async(lambda: False, timeout=0.05, what="nothing")


async def test_control_api(fake: FakeTelegram, bot: Bot) -> None:
    assert http(fake, "/_control/add_chat", {"chat_id": ALICE})[0] == 200
    status, body = http(fake, "/_control/user_sends", {"chat_id": ALICE, "text": "/start"})
    assert status == 200 and body["result"]["message"]["entities"][0]["type"] == "bot_command"
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.text == "/start"
    sent = await bot.send_message(ALICE, "hi", reply_markup=keyboard(("Go", "go")))
    assert http(fake, f"/_control/sent?chat_id={ALICE}")[1]["result"][0]["text"] == "hi"
    assert http(fake, f"/_control/wait_sent?chat_id={ALICE}&n=1")[0] == 200
    assert http(fake, f"/_control/wait_sent?chat_id={ALICE}&n=2&timeout=0.1")[0] == 408
    body = {"chat_id": ALICE, "message_id": sent.message_id, "data": "go"}
    assert http(fake, "/_control/user_presses", body)[0] == 200
    assert http(fake, "/_control/user_presses_button", {"chat_id": ALICE, "label": "Go"})[0] == 200
    fail = {"method": "sendMessage", "status": 429, "parameters": {"retry_after": 2}}
    assert http(fake, "/_control/fail", fail)[0] == 200
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "x")
    limits = http(fake, "/_control/limits", {"enforce": False})[1]["result"]
    assert limits["enforce"] is False and limits["global_per_second"] == 30
    assert http(fake, "/_control/block", {"chat_id": ALICE})[0] == 200
    with pytest.raises(Forbidden):
        await bot.send_message(ALICE, "x")
    assert (
        http(fake, "/_control/migrate", {"group_id": GROUP, "new_supergroup_id": SUPERGROUP})[0]
        == 200
    )
    with pytest.raises(ChatMigrated):
        await bot.send_message(GROUP, "x")
    calls = http(fake, "/_control/calls?method=sendmessage")[1]["result"]
    assert [c["params"]["text"] for c in calls] == ["hi", "x", "x", "x"]
    stats = http(fake, "/_control/stats")[1]["result"]
    assert stats["count_429"] == 1 and stats["sent_per_chat"] == {str(ALICE): 1}
    assert http(fake, "/_control/nonsense", {})[0] == 404
    assert http(fake, "/_control/user_sends", {"chat": 1})[0] == 400


def test_standalone_process_serves_and_stops_on_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram_server"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
            with urllib.request.urlopen(f"{base_url}{TOKEN}/getMe", data=b"", timeout=5) as reply:
                assert json.loads(reply.read())["result"]["username"] == BOT_USERNAME
        finally:
            process.terminate()
            assert process.wait(timeout=5) == 0
