"""The fake Bot API refuses what the real one refuses, and says so loudly.

Each refusal is checked three ways: the envelope Telegram sends (so PTB raises what it raises
in production), the violation the fake records, and - for the whole suite - that a violation
nobody took fails the test when the fake stops.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import (
    Bot,
    ChatMemberRestricted,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, NetworkError

from tests.fakes.bot_api import BotApi, Upload, Violation, bot_api
from tests.fakes.telegram_server import TOKEN, BotApiViolation, FakeTelegram

ALICE = 5001
BOB = 5002
GROUP = -4001


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB warns on duration access without it, and filterwarnings=error fails the test."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=False) as server:
        server.add_chat(ALICE)
        server.add_chat(GROUP, title="Carers")
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url) as client:
        yield client


def post(fake: FakeTelegram, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One JSON call, as another client (or a hand-written request) would make it."""
    request = urllib.request.Request(
        f"{fake.base_url}{TOKEN}/{method}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def refused(fake: FakeTelegram) -> str:
    """The one violation the fake recorded, taken (so the test may end cleanly)."""
    [violation] = fake.take_violations()
    return str(violation["description"])


def send(fake: FakeTelegram, markup: Any) -> tuple[int, dict[str, Any]]:
    """sendMessage to ALICE with a hand-written reply_markup."""
    return post(fake, "sendMessage", {"chat_id": ALICE, "text": "x", "reply_markup": markup})


def inline(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(list(rows))


# -- the method and its parameters ------------------------------------------------------------


async def test_unknown_method_is_404_and_a_violation(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):  # what PTB makes of Telegram's 404
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": ALICE})
    assert "sendTelepathy is not a method of Bot API 10.1" in refused(fake)
    status, body = post(fake, "sendTelepathy", {})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert fake.take_violations()


async def test_missing_required_parameter(fake: FakeTelegram, bot: Bot) -> None:
    status, body = post(fake, "sendMessage", {"chat_id": ALICE})
    assert status == 400
    assert refused(fake) == 'Bad Request: parameter "text" is required by sendMessage'
    status, body = post(fake, "getChatMember", {"chat_id": GROUP})
    assert status == 400 and body == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: parameter "user_id" is required by getChatMember',
    }
    assert fake.take_violations()
    assert fake.sent == []


async def test_unknown_parameter(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="disable_preview"):
        await bot.send_message(ALICE, "hello", api_kwargs={"disable_preview": True})
    assert 'parameter "disable_preview" is unknown to sendMessage' in refused(fake)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a", "colour": "red"}]]}
    status, body = send(fake, markup)
    assert (
        status == 400
        and '"reply_markup.inline_keyboard[0][0].colour" is unknown' in (body["description"])
    )
    assert fake.take_violations() and fake.sent == []


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("sendMessage", {"disable_notification": "maybe"}, '"disable_notification" must be of'),
        ("sendMessage", {"message_thread_id": "12a"}, '"message_thread_id" must be of type'),
        ("getUpdates", {"timeout": 1.5}, '"timeout" must be of type Integer'),
        ("sendMessage", {"reply_markup": [1, 2]}, "can't parse reply keyboard markup"),
        ("sendMessage", {"link_preview_options": '{"is_disabled": "yes"}'}, "type Boolean"),
        ("sendMessage", {"reply_markup": {"force_reply": "true"}}, "reply keyboard markup"),
        ("setMyCommands", {"commands": [{"command": "start"}]}, 'description" is required'),
        ("setMyCommands", {"commands": [], "scope": {"type": "everyone"}}, "must be one of"),
        ("getChatMember", {"chat_id": GROUP, "user_id": "me"}, '"user_id" must be of type'),
        ("editMessageText", {"chat_id": ALICE, "message_id": "first", "text": "x"}, "Integer"),
    ],
)
def test_wrong_types(
    fake: FakeTelegram, method: str, params: dict[str, Any], fragment: str
) -> None:
    body = {"chat_id": ALICE, "text": "x", **params} if method == "sendMessage" else params
    status, answer = post(fake, method, body)
    assert (status, answer["ok"], answer["error_code"]) == (400, False, 400)
    assert answer["description"].startswith("Bad Request: ")
    assert fragment in answer["description"]
    assert fragment in refused(fake)


async def test_ptb_raises_bad_request_for_a_wrong_value(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)must be of type Boolean"):
        await bot.send_message(ALICE, "x", api_kwargs={"protect_content": "sometimes"})
    assert refused(fake).startswith('Bad Request: parameter "protect_content"')


async def test_numbers_may_arrive_as_strings(fake: FakeTelegram, bot: Bot) -> None:
    """What PTB and Telegram do with numbers: form values are strings, JSON may hold either."""
    status, body = post(fake, "sendMessage", {"chat_id": str(ALICE), "text": 42})
    assert status == 200 and body["result"]["text"] == "42"
    markup = {"inline_keyboard": [[{"text": 7, "callback_data": "go"}]]}
    status, body = send(fake, markup)
    assert status == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "7"
    assert fake.calls_to("sendMessage")[0]["chat_id"] == ALICE  # read as the Integer it is
    assert fake.violations == []


# -- limits -----------------------------------------------------------------------------------


async def test_text_length_counts_what_the_user_sees(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(ALICE, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, "a" * 4097)
    assert refused(fake) == "Bad Request: message is too long"
    # 4096 characters once the tags are gone and the entities read: accepted
    marked = "<b>" + "a" * 4000 + "</b>" + "&amp;" * 96
    assert len(marked) > 4096
    message = await bot.send_message(ALICE, marked, parse_mode=ParseMode.HTML)
    assert message.text == "a" * 4000 + "&" * 96
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ALICE, "<i></i>", parse_mode=ParseMode.HTML)
    assert refused(fake) == "Bad Request: message text is empty"


async def test_callback_data_is_1_to_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(
        ALICE, "ok", reply_markup=inline([InlineKeyboardButton("A", callback_data="x" * 64)])
    )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            ALICE, "no", reply_markup=inline([InlineKeyboardButton("A", callback_data="x" * 65)])
        )
    assert refused(fake) == "Bad Request: BUTTON_DATA_INVALID"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": ""}]]}
    status, _ = send(fake, markup)
    assert status == 400 and refused(fake) == "Bad Request: BUTTON_DATA_INVALID"


async def test_at_most_100_inline_buttons(fake: FakeTelegram, bot: Bot) -> None:
    def grid(n: int) -> InlineKeyboardMarkup:
        return inline(*[[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(n)])

    await bot.send_message(ALICE, "a hundred", reply_markup=grid(100))
    with pytest.raises(BadRequest, match=r"(?i)reply markup is too long"):
        await bot.send_message(ALICE, "one more", reply_markup=grid(101))
    assert "101 buttons" in refused(fake)
    assert len(fake.sent) == 1


async def test_caption_and_callback_answer_limits(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(ALICE, photo=b"\x89PNG fake", caption="c" * 1025)
    assert refused(fake) == "Bad Request: message caption is too long"
    sent = await bot.send_message(
        ALICE, "pick", reply_markup=inline([InlineKeyboardButton("A", callback_data="a")])
    )
    update = fake.user_presses(ALICE, sent.message_id, "a")
    query_id = update["callback_query"]["id"]
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="t" * 201)
    assert refused(fake) == "Bad Request: MESSAGE_TOO_LONG"
    assert await bot.answer_callback_query(query_id, text="t" * 200)


async def test_a_method_the_fake_does_not_answer_is_a_violation_too(
    fake: FakeTelegram, bot: Bot
) -> None:
    """A real method with a valid upload: the fake cannot answer it, and says so loudly
    rather than letting a test pass on a call nobody checked."""
    with pytest.raises(NetworkError, match="does not answer sendPhoto"):
        await bot.send_photo(ALICE, photo=b"\x89PNG fake", caption="c" * 1024)
    [violation] = fake.take_violations()
    assert violation["params"]["photo"] == {"filename": "application.octet-stream", "size": 9}


# -- what comes back --------------------------------------------------------------------------


async def test_only_inline_keyboards_come_back_on_the_message(fake: FakeTelegram, bot: Bot) -> None:
    forced = await bot.send_message(
        GROUP, "Which condition?", reply_markup=ForceReply(selective=True)
    )
    assert forced.reply_markup is None  # Telegram does not echo a ForceReply
    assert fake.sent[-1]["reply_markup"] == {"force_reply": True, "selective": True}
    removed = await bot.send_message(ALICE, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert removed.reply_markup is None
    keyed = await bot.send_message(
        ALICE, "pick", reply_markup=inline([InlineKeyboardButton("A", callback_data="a")])
    )
    assert keyed.reply_markup is not None
    assert keyed.reply_markup.inline_keyboard[0][0].callback_data == "a"


async def test_get_chat_member_answers_the_status_a_test_sets(fake: FakeTelegram, bot: Bot) -> None:
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"  # everyone's default
    fake.set_admins(GROUP, [ALICE])
    fake.set_member_status(GROUP, BOB, "member")
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    fake.set_member_status(GROUP, ALICE, "member")  # demoted
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "member"
    assert await bot.get_chat_administrators(GROUP) == ()
    fake.set_member_status(GROUP, BOB, "restricted")
    restricted = await bot.get_chat_member(GROUP, BOB)
    assert isinstance(restricted, ChatMemberRestricted) and restricted.is_member
    for status in ("left", "kicked", "creator"):
        fake.set_member_status(GROUP, BOB, status)
        assert (await bot.get_chat_member(GROUP, BOB)).status == status
    with pytest.raises(ValueError, match="status must be one of"):
        fake.set_member_status(GROUP, BOB, "owner")
    assert fake.violations == []


# -- violations fail the test -----------------------------------------------------------------


def test_a_violation_nobody_took_fails_when_the_fake_stops() -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}
    with (
        pytest.raises(BotApiViolation, match=r"sendMessage.*BUTTON_DATA_INVALID"),
        FakeTelegram() as fake,
    ):
        fake.add_chat(ALICE)
        assert send(fake, markup)[0] == 400
        assert fake.violations  # recorded, and still there at the end


def test_a_violation_is_added_to_the_error_already_failing_the_test() -> None:
    with pytest.raises(KeyError) as caught, FakeTelegram() as fake:
        post(fake, "getMe", {"verbose": True})
        raise KeyError("the test's own failure")
    assert any("verbose" in note for note in caught.value.__notes__)


def test_the_control_api_shows_violations_to_another_process(fake: FakeTelegram) -> None:
    post(fake, "getMe", {"verbose": True})
    with urllib.request.urlopen(fake.control_url + "/violations", timeout=5) as response:
        [shown] = json.loads(response.read())["result"]
    assert shown["method"] == "getMe" and "verbose" in shown["description"]
    fake.clear()  # forgets calls, not violations
    with urllib.request.urlopen(fake.control_url + "/stats", timeout=5) as response:
        assert json.loads(response.read())["result"]["violations"] == 1
    request = urllib.request.Request(fake.control_url + "/take_violations", data=b"{}")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert len(json.loads(response.read())["result"]) == 1
    assert fake.violations == []


# -- the schema reader ------------------------------------------------------------------------


def test_schema_reads_unions_by_their_tag() -> None:
    api = bot_api()
    assert api.version == "Bot API 10.1"
    assert api.method_name("SENDMESSAGE") == "sendMessage"
    scope = '{"type": "chat", "chat_id": 5}'
    read = api.check_call("setMyCommands", {"commands": "[]", "scope": scope})
    assert read["scope"] == {"type": "chat", "chat_id": 5}
    member_scope = '{"type": "chat_member", "chat_id": 5}'
    with pytest.raises(Violation, match=r'"scope\.user_id" is required'):
        api.check_call("setMyCommands", {"commands": "[]", "scope": member_scope})
    photo = api.check_call("sendPhoto", {"chat_id": "5", "photo": Upload("a.png", 3)})
    assert photo == {"chat_id": 5, "photo": {"filename": "a.png", "size": 3}}
    with pytest.raises(Violation, match="must not be a file upload"):
        api.check_call("sendMessage", {"chat_id": "5", "text": Upload("a.txt", 1)})


def test_schema_from_data_needs_no_file() -> None:
    api = BotApi(
        {
            "methods": {
                "ping": {"fields": [{"name": "n", "types": ["Integer"], "required": True}]}
            },
            "types": {},
        }
    )
    assert api.check_call("ping", {"n": "-3"}) == {"n": -3}
    with pytest.raises(Violation):
        api.check_call("ping", {"n": "1.0"})
