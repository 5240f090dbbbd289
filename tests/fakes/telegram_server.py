"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1, standard library only.

Real HTTP (not an httpx mock transport) so python-telegram-bot's own request encoding, timeouts,
long polling and error mapping run exactly as in production, and so a bot started as a
subprocess can be pointed at it (`TELEGRAM_API_BASE_URL=fake.base_url`, which looks like
`http://127.0.0.1:PORT/bot`; PTB appends `{token}/{method}`).

Layout: `FakeTelegramCore` holds all state and logic and is transport-free (`call(token, method,
params)` plus the test-side API); `FakeTelegram` adds the HTTP server, whose handler only decodes
requests (form, JSON or multipart bodies) and encodes replies. See shared/telegram.md §1–2.

Like Telegram, so bot bugs become test failures:
* Envelope `{"ok": true, "result": ...}`; errors set the HTTP status (PTB maps by status) and
  `{"ok": false, "error_code", "description", "parameters"?}`. Wrong token -> 401
  "Unauthorized"; unknown method -> 404 "Not Found"; method names are case-insensitive.
* Every call is held to the real Bot API (tests/fixtures/telegram/bot-api-10.1.json, read by
  `tests.fakes.bot_api`): the method exists, required parameters are present, no unknown
  parameter (stricter than Telegram, which ignores them), every value of the right type, down
  to the fields of a reply_markup. A call the real API would refuse, or a broken limit below,
  answers Telegram's 400 envelope AND is recorded in `violations`; any left when the `with`
  block of the fake ends fail the test (`FakeTelegram._after_with`). A Bot API method the fake
  does not answer yet is a violation too (501), so the fake learns it rather than the bot being
  excused.
* `getUpdates` long-polls (blocks until an update arrives or `timeout` passes), `offset` confirms
  older updates, a newer `getUpdates` ends an older waiting one with 409 ("terminated by other
  getUpdates request": two bot instances), and 409 while a webhook is set.
* Limits (HTTP 400 with Telegram's wording, recorded as violations): empty text, > 4096 UTF-16
  units after HTML parsing, caption > 1024, answerCallbackQuery text > 200, malformed HTML
  (tdlib's rules: unknown tag, unclosed or mismatched tag, `<a>` without href; STRICTER than
  Telegram: a bare `&` or an unknown `&name;` in text is rejected, since it nearly always means
  a value was not escaped), callback_data outside 1-64 UTF-8 bytes, more than 100 inline
  buttons, a button with no or two actions.
* State (HTTP 400/403, not violations): "message is not modified", "chat not found" for chats
  that never wrote to the bot (or were registered with `add_chat`), blocked users, a group
  migrated to a supergroup.
* The Message a send or edit returns carries reply_markup only for an inline keyboard, as
  Telegram's does; a reply keyboard, ForceReply or keyboard removal is seen in `sent` (the
  request as recorded), not in the returned message.
* Flood limits (HTTP 429 + `parameters.retry_after`), on by default: 30 messages/s over all
  chats, 1 message/s per private chat with a burst of 3, 20 messages/minute per group.
  Only sendMessage, editMessageText and editMessageReplyMarkup count. A sendMessage with
  `allow_paid_broadcast=true` is held to 1,000/s instead of 30/s (Bot API 7.11; Telegram
  charges Stars for it); the two are counted apart, as PTB's AIORateLimiter paces them
  (Telegram does not say how they share), and the per-chat and group limits apply to both.

Test-side API: `user_sends`, `user_presses`, `user_presses_button`, `user_shares_location`,
`bot_added_to_group`, `block`/`unblock`, `migrate`, `push_update`, `add_chat`, `set_admins`,
`set_member_status` (what getChatMember answers: member, administrator, creator...);
scripted faults `fail`/`delay`; assertions `calls`, `sent`, `sent_to`, `last_text`,
`callback_answers`, `errors`, `violations`/`take_violations`, `count_429`,
`wait_for`/`wait_for_sent` (blocking; from threads) and `wait_for_async`/`wait_for_sent_async`
(inside async tests, where the bot shares the event loop and a blocking wait would freeze it).

Standalone: `python -m tests.fakes.telegram_server [--port N] [--token T]` prints the base URL as
its first stdout line; steer it with the `/_control/...` HTTP API (see `_control_actions`).
"""

from __future__ import annotations

import asyncio
import copy
import email.parser
import email.policy
import itertools
import json
import math
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.bot_api import Upload, Violation, bot_api
from tests.fakes.http_fake import (
    FakeHttpServer,
    Fault,
    FaultKind,
    FaultQueue,
    Reply,
    Request,
)

JsonDict = dict[str, Any]

TOKEN = "123456789:" + "FAKE" + "test" * 8 + "tok"
"""A made-up token shaped like a real one; built so no token-shaped literal sits in the repo."""
BOT_USERNAME = "trialbot_test_bot"
BOT_FIRST_NAME = "TrialBot (test)"
CONTROL_PREFIX = "/_control"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
DEFAULT_FIRST_NAME = "Ana"
DEFAULT_LANGUAGE = "en"
DEFAULT_GROUP_USER_ID = 10_001
"""Sender of group messages when a test does not name one."""
SUPERGROUP_ID_LIMIT = -1_000_000_000_000
"""Supergroup/channel ids are -100xxxxxxxxxx; anything at or below this is a supergroup."""

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)

IMPLEMENTED = (
    "getMe",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendMessage",
    "sendDocument",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "sendChatAction",
    "deleteMessage",
    "getChat",
    "getChatMember",
    "getChatAdministrators",
    "leaveChat",
)
"""The Bot API methods the fake answers; any other method of the Bot API is refused as a
violation (the test needs the fake to learn it), any method not in the Bot API with 404."""

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
"""What Telegram delivers when `allowed_updates` was never set (or set to [])."""

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})

_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BUTTON_URL_RE = re.compile(r"^(https?|tg)://\S+$")
SUPERSEDE_GRACE = 0.25
"""How long a superseded long poll waits to see whether its client hung up before answering 409."""
ABANDONED = 499
"""Status recorded (nginx's "client closed request") for an abandoned poll; not an error."""
_ERROR_FAULTS: tuple[FaultKind, ...] = ("status", "garbage")
_DELAY_FAULTS: tuple[FaultKind, ...] = ("delay",)
_API_PATH_RE = re.compile(r"^/bot([^/]+)/([A-Za-z0-9_]+)/?$")


# -- errors and replies -----------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer: the HTTP status is what PTB maps into an exception."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def envelope(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class _Abandoned(Exception):
    """The client of a long poll went away; nobody will read the answer."""


class Refused(ApiError):
    """A call Telegram refuses whatever the state of its chats: a bug in the caller, recorded
    as a violation (see `FakeTelegramCore.violations`)."""


def _bad(description: str) -> ApiError:
    """A 400 that depends on Telegram's state (a message that is gone, a private chat...)."""
    return ApiError(400, f"Bad Request: {description}")


def _refused(description: str) -> Refused:
    """A 400 for a call that is wrong in itself (a bad value, a broken limit)."""
    return Refused(400, f"Bad Request: {description}")


@dataclass
class Limits:
    """Flood limits (Bot FAQ numbers by default; exact real limits are unpublished)."""

    enforce: bool = True
    global_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: float = 3.0
    group_per_minute: int = 20
    paid_per_second: int = 1000
    """Global limit for `allow_paid_broadcast=true` sends."""


@dataclass
class _Call:
    method: str
    params: JsonDict
    status: int | None = None
    description: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _MessageMeta:
    """What the bot sent, beside the Telegram-shaped message (for edits and assertions)."""

    raw_text: str | None
    parse_mode: str | None
    markup: JsonDict | None
    from_bot: bool


# -- HTML (Telegram's parse_mode=HTML, after tdlib's parse_html) ------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{0,31});")


class HtmlError(ValueError):
    """Markup Telegram would refuse; the message follows tdlib's wording."""


@dataclass
class _OpenTag:
    name: str
    begin: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED_ENTITIES.get(body)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _decode_attribute(value: str) -> str:
    """Attribute values: known entities decoded, anything else kept (as tdlib does)."""

    def one(match: re.Match[str]) -> str:
        decoded = _decode_entity(match.group(1))
        return match.group(0) if decoded is None else decoded

    return _ENTITY_RE.sub(one, value)


def render_html(text: str) -> tuple[str, list[JsonDict]]:
    """Plain text and entities of `text` under parse_mode=HTML, or HtmlError."""
    out: list[str] = []
    entities: list[JsonDict] = []
    stack: list[_OpenTag] = []
    u16 = 0
    i, n = 0, len(text)

    def at(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    while i < n:
        c = text[i]
        if c == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                raise HtmlError(
                    f'unescaped "&" at byte offset {at(i)} (write &amp;; the fake is stricter '
                    "than Telegram here)"
                )
            decoded = _decode_entity(match.group(1))
            if decoded is None:
                raise HtmlError(
                    f'Unsupported HTML entity "{match.group(0)}" at byte offset {at(i)}'
                )
            out.append(decoded)
            u16 += utf16_len(decoded)
            i = match.end()
            continue
        if c != "<":
            out.append(c)
            u16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if text.startswith("</", i):
            close = text.find(">", i + 2)
            if close < 0:
                raise HtmlError(f"Unclosed end tag at byte offset {at(begin)}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {at(begin)}")
            top = stack.pop()
            if name != top.name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {at(begin)}, expected "</{top.name}>", '
                    f'found "</{name}>"'
                )
            entity = _close_tag(top, u16, stack)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        name = text[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {at(begin)}')
        attrs, i = _parse_attributes(text, j, name, at(begin))
        _check_tag(name, attrs, at(begin))
        stack.append(_OpenTag(name, u16, attrs))
    if stack:
        raise HtmlError(f"Can't find end tag corresponding to start tag {stack[-1].name}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(text: str, j: int, tag: str, offset: int) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from just after its name; returns them and the index past '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    unclosed = HtmlError(f"Unclosed start tag at byte offset {offset}")
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise unclosed
        if text[j] == ">":
            return attrs, j + 1
        k = j
        while k < n and not text[k].isspace() and text[k] not in "=>":
            k += 1
        attribute = text[j:k].lower()
        if not attribute:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        j = k
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != "=":
            if tag == "blockquote" and attribute == "expandable":
                attrs[attribute] = ""
                continue
            raise HtmlError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte '
                f"offset {offset}"
            )
        j += 1
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise unclosed
        if text[j] in "'\"":
            end = text.find(text[j], j + 1)
            if end < 0:
                raise unclosed
            attrs[attribute] = _decode_attribute(text[j + 1 : end])
            j = end + 1
        else:
            k = j
            while k < n and not text[k].isspace() and text[k] != ">":
                k += 1
            attrs[attribute] = _decode_attribute(text[j:k])
            j = k


def _check_tag(name: str, attrs: dict[str, str], offset: int) -> None:
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "a" and not attrs.get("href"):
        raise HtmlError(f'Tag "a" must have attribute "href" at byte offset {offset}')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}')


def _close_tag(tag: _OpenTag, end: int, parents: list[_OpenTag]) -> JsonDict | None:
    """The MessageEntity a closed tag produces (None for empty ones, which Telegram drops)."""
    language = tag.attrs.get("class", "")
    if tag.name == "code" and parents and parents[-1].name == "pre":
        if language.startswith("language-"):
            parents[-1].attrs["language"] = language.removeprefix("language-")
        return None
    length = end - tag.begin
    if length == 0:
        return None
    entity: JsonDict = {"type": _HTML_TAGS[tag.name], "offset": tag.begin, "length": length}
    if tag.name == "a":
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


# -- request decoding (used by the HTTP adapter) ----------------------------------------------


def decode_params(content_type: str, body: bytes, query: str = "") -> JsonDict:
    """Parameters of one API request from its query string and form, JSON or multipart body,
    as they are on the wire (strings, `Upload`s, a JSON body's members); `BotApi.check_call`
    reads them as Telegram does."""
    params: JsonDict = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        decoded = json.loads(body.decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        params.update(decoded)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                params[name] = Upload(filename, len(data), data)
            else:
                params[name] = data.decode("utf-8")
    else:  # PTB: application/x-www-form-urlencoded
        text = body.decode("utf-8")
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


def _norm_chat(value: Any) -> int | str | None:
    """A chat_id as sent (5, "5" or "@name") in one comparable form."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text.lower()


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


# -- the core ---------------------------------------------------------------------------------


class FakeTelegramCore:
    """State and logic of the fake Bot API, with no transport (thread-safe)."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        bot_username: str = BOT_USERNAME,
        enforce_limits: bool = True,
        global_per_second: int = 30,
        per_chat_per_second: float = 1.0,
        per_chat_burst: float = 3.0,
        group_per_minute: int = 20,
        paid_per_second: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: JsonDict = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.limits = Limits(
            enforce=enforce_limits,
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
            per_chat_burst=per_chat_burst,
            group_per_minute=group_per_minute,
            paid_per_second=paid_per_second,
        )
        self._clock = clock
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        # Telegram-side state
        self._chats: dict[int, JsonDict] = {}
        self._users: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._meta: dict[tuple[int, int], _MessageMeta] = {}
        self._next_message_id: dict[int, int] = {}
        self._blocked: dict[int, str] = {}
        self._left: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._statuses: dict[int, dict[int, str]] = {}
        """chat -> user -> what getChatMember says (default "member")."""
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._open_queries: dict[str, JsonDict] = {}
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self.webhook: JsonDict | None = None
        # flood-limit state
        self._global_window: deque[float] = deque()
        self._paid_window: deque[float] = deque()
        self._group_windows: dict[int, deque[float]] = {}
        self._buckets: dict[int, tuple[float, float]] = {}
        # scripted faults
        self._faults = FaultQueue()
        # recording
        self._log: list[_Call] = []
        self._sent: list[JsonDict] = []
        self._edits: list[JsonDict] = []
        self._deleted: list[tuple[int, int]] = []
        self._callback_answers: list[JsonDict] = []
        self._chat_actions: list[tuple[int, str]] = []
        self._violations: list[JsonDict] = []
        self._count_429 = 0
        self._conflicts = 0
        self._unauthorized = 0
        self._version = 0

    # -- the API ---------------------------------------------------------------------------

    def call(
        self,
        token: str,
        method: str,
        params: JsonDict,
        client_gone: Callable[[], bool] | None = None,
    ) -> Reply:
        """Answer one Bot API call (blocks for a long-polling getUpdates).

        The call is first held to the real Bot API (`BotApi.check_call`: the method exists,
        required parameters are there, no unknown ones, types right) and to Telegram's limits
        (`_check_rules`); one the real API would refuse gets its error envelope and is recorded
        in `violations`. `client_gone` lets the transport say the caller hung up, so an
        abandoned long poll is not reported as an error.
        """
        if token != self.token:
            with self._cond:
                self._unauthorized += 1
            return Reply.json(ApiError(401, "Unauthorized").envelope(), 401)
        canonical = bot_api().method_name(method)
        if canonical is None:
            note = f"{method} is not a method of {bot_api().version}"
            return self._refuse(method, params, ApiError(404, "Not Found"), note)
        try:
            uploads = {k: v for k, v in params.items() if isinstance(v, Upload)}
            params = bot_api().check_call(canonical, params)
            _check_rules(canonical, params)
            if canonical not in IMPLEMENTED:
                raise Refused(501, f"Not Implemented: the fake does not answer {canonical} yet")
            params |= uploads  # an answered call keeps its files' bytes (sendDocument)
        except Violation as exc:
            return self._refuse(canonical, params, _refused(str(exc)))
        except Refused as exc:
            return self._refuse(canonical, params, exc)
        with self._cond:
            entry = _Call(canonical, params)
            self._log.append(entry)
            self._changed()
            target = {"method": canonical, "chat_id": _norm_chat(params.get("chat_id"))}
            fault = self._faults.take(_ERROR_FAULTS, **target)
            held = self._faults.take(_DELAY_FAULTS, **target)
            delay = held.seconds if held is not None else 0.0
            try:
                if fault is not None and fault.kind == "garbage":
                    entry.status = fault.status
                    entry.description = fault.body.decode("utf-8", "replace")[:200]
                    return Reply(fault.status, fault.body, fault.content_type, delay=delay)
                if fault is not None:
                    raise ApiError(fault.status, fault.message or "", fault.parameters)
                if canonical == "getUpdates":
                    result: Any = self._m_getUpdates(params, client_gone)
                else:
                    handler: Callable[[JsonDict], Any] = getattr(self, "_m_" + canonical)
                    result = handler(params)
                entry.status = 200
                return Reply.json({"ok": True, "result": result}, delay=delay)
            except _Abandoned:
                entry.status, entry.description = ABANDONED, "client hung up during the long poll"
                return Reply.json(ApiError(ABANDONED, entry.description).envelope(), ABANDONED)
            except ApiError as exc:
                entry.status, entry.description = exc.status, exc.description
                if exc.status == 429:
                    self._count_429 += 1
                if isinstance(exc, Refused):
                    self._violations.append(_violation(canonical, params, exc))
                return Reply.json(exc.envelope(), exc.status, delay=delay)
            except Exception as exc:  # a bug in the fake or a request it cannot read
                entry.status, entry.description = 500, f"fake Telegram internal error: {exc!r}"
                return Reply.json(ApiError(500, entry.description).envelope(), 500)
            finally:
                self._changed()

    def _refuse(
        self, method: str, params: JsonDict, error: ApiError, note: str | None = None
    ) -> Reply:
        """Answer a call Telegram would refuse, and record it as a violation."""
        with self._cond:
            self._log.append(_Call(method, params, error.status, error.description))
            self._violations.append(_violation(method, params, error, note))
            self._changed()
        return Reply.json(error.envelope(), error.status)

    def _m_getMe(self, params: JsonDict) -> JsonDict:
        return dict(self.bot_user)

    def _m_deleteWebhook(self, params: JsonDict) -> bool:
        self.webhook = None
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _m_setWebhook(self, params: JsonDict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._m_deleteWebhook(params)
        if not re.match(r"^https://", url):
            raise _refused("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
            raise _refused("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": allowed if isinstance(allowed, list) else None,
        }
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook and self.webhook.get("allowed_updates") is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _m_getUpdates(
        self, params: JsonDict, client_gone: Callable[[], bool] | None = None
    ) -> list[JsonDict]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._cond.notify_all()  # ends an older waiting getUpdates
        deadline = time.monotonic() + timeout
        gone = client_gone or (lambda: False)
        while True:
            if generation != self._poll_generation:
                self._superseded(gone)
            self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
            if self._updates or self._stopping.is_set():
                return copy.deepcopy(self._updates[:limit])
            if gone():
                raise _Abandoned
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._cond.wait(min(remaining, 0.1) if client_gone else remaining)

    def _superseded(self, gone: Callable[[], bool]) -> None:
        """A newer getUpdates came in. If this poll's client already hung up (PTB cancels its
        poll on stop, then acknowledges with timeout=0) nobody is told; if it is still
        listening, two bot instances are polling: 409, as Telegram answers."""
        grace_end = time.monotonic() + SUPERSEDE_GRACE
        while time.monotonic() < grace_end:
            if gone():
                raise _Abandoned
            self._cond.wait(0.01)
        self._conflicts += 1
        raise ApiError(409, POLL_CONFLICT)

    def _m_sendMessage(self, params: JsonDict) -> JsonDict:
        chat_id = self._sendable_chat(params)
        text, parse_mode = params.get("text"), params.get("parse_mode")
        plain, entities = _render(text, parse_mode)
        markup = params.get("reply_markup")
        self._take_quota(chat_id, paid=_flag(params.get("allow_paid_broadcast")))
        message = self._store_message(
            chat_id,
            self.bot_user,
            {"text": plain, **({"entities": entities} if entities else {})},
            _MessageMeta(str(text), parse_mode, markup, from_bot=True),
        )
        self._sent.append(
            {
                "method": "sendMessage",
                "chat_id": chat_id,
                "message_id": message["message_id"],
                "text": str(text),
                "plain": plain,
                "parse_mode": parse_mode,
                "reply_markup": markup,
                "date": message["date"],
                "params": params,
            }
        )
        return message

    def _m_sendDocument(self, params: JsonDict) -> JsonDict:
        """A file (an upload, or a file_id or URL string) with an optional caption. Recorded in
        `sent` like a message, `text` being the caption, with the upload under `document`."""
        chat_id = self._sendable_chat(params)
        document, caption = params.get("document"), params.get("caption")
        parse_mode, markup = params.get("parse_mode"), params.get("reply_markup")
        upload = document if isinstance(document, Upload) else None
        file: JsonDict = {"file_id": f"doc{len(self._sent) + 1}", "file_unique_id": "u"}
        if upload is not None:
            file |= {"file_name": upload.filename, "file_size": upload.size}
        content: JsonDict = {"document": file}
        plain = ""
        if caption:
            plain, entities = _render_markup(str(caption), parse_mode)
            content |= {"caption": plain, **({"caption_entities": entities} if entities else {})}
        message = self._store_message(
            chat_id,
            self.bot_user,
            content,
            _MessageMeta(str(caption or ""), parse_mode, markup, from_bot=True),
        )
        self._sent.append(
            {
                "method": "sendDocument",
                "chat_id": chat_id,
                "message_id": message["message_id"],
                "text": str(caption or ""),
                "plain": plain,
                "parse_mode": parse_mode,
                "reply_markup": markup,
                "date": message["date"],
                "params": params,
                "document": upload,
            }
        )
        return message

    def _m_editMessageText(self, params: JsonDict) -> JsonDict:
        key, message, meta = self._editable(params)
        text, parse_mode = params.get("text"), params.get("parse_mode")
        plain, entities = _render(text, parse_mode)
        markup = params.get("reply_markup")
        if (
            message.get("text") == plain
            and message.get("entities", []) == entities
            and meta.markup == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._take_quota(key[0])
        message["text"] = plain
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        meta.raw_text, meta.parse_mode = str(text), parse_mode
        return self._edited(key, message, meta, markup, params, "editMessageText")

    def _m_editMessageReplyMarkup(self, params: JsonDict) -> JsonDict:
        key, message, meta = self._editable(params)
        markup = params.get("reply_markup")
        if meta.markup == markup:
            raise ApiError(400, NOT_MODIFIED)
        self._take_quota(key[0])
        return self._edited(key, message, meta, markup, params, "editMessageReplyMarkup")

    def _m_answerCallbackQuery(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._open_queries.pop(query_id, None)
        if query is None:
            raise ApiError(400, QUERY_INVALID)
        self._callback_answers.append(
            {
                "callback_query_id": query_id,
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "data": query["data"],
                "text": params.get("text"),
                "show_alert": _flag(params.get("show_alert")),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
            }
        )
        return True

    def _m_setMyCommands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _refused("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _refused("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _refused("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _commands_key(params)
        self._commands[key] = [
            {"command": str(c["command"]), "description": str(c["description"])} for c in commands
        ]
        return True

    def _m_getMyCommands(self, params: JsonDict) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def _m_deleteMyCommands(self, params: JsonDict) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _m_sendChatAction(self, params: JsonDict) -> bool:
        chat_id = self._sendable_chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise _refused("wrong parameter action in request")
        self._chat_actions.append((chat_id, action))
        return True

    def _m_deleteMessage(self, params: JsonDict) -> bool:
        chat_id = self._known_chat(params)
        key = (chat_id, _int_param(params, "message_id", 0))
        if key not in self._messages:
            raise _bad("message to delete not found")
        del self._messages[key]
        del self._meta[key]
        self._deleted.append(key)
        return True

    def _m_getChat(self, params: JsonDict) -> JsonDict:
        chat = dict(self._chats[self._known_chat(params)])
        chat.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return chat

    def _m_getChatMember(self, params: JsonDict) -> JsonDict:
        chat_id = self._known_chat(params)
        return self._member(chat_id, _int_param(params, "user_id", 0))

    def _m_getChatAdministrators(self, params: JsonDict) -> list[JsonDict]:
        chat_id = self._known_chat(params)
        if self._chats[chat_id]["type"] == "private":
            raise _bad("there are no administrators in the private chat")
        statuses = self._statuses.get(chat_id, {})
        ids = [u for u, status in statuses.items() if status == "creator"]
        ids += [u for u, status in statuses.items() if status == "administrator"]
        return [self._member(chat_id, u) for u in ids]

    def _m_leaveChat(self, params: JsonDict) -> bool:
        chat_id = self._known_chat(params)
        if self._chats[chat_id]["type"] == "private":
            raise _bad("chat member status can't be changed in private chats")
        self._left.add(chat_id)
        self.push_update(self._my_chat_member(chat_id, self.bot_user, "member", "left"))
        return True

    # -- helpers for the API ---------------------------------------------------------------

    def _resolve_chat(self, value: Any) -> int:
        chat = _norm_chat(value)
        if chat is None or chat == "":
            raise _refused("chat_id is empty")
        if isinstance(chat, str):
            name = chat.removeprefix("@")
            for chat_id, known in self._chats.items():
                if str(known.get("username", "")).lower() == name:
                    return chat_id
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat

    def _known_chat(self, params: JsonDict) -> int:
        chat_id = self._resolve_chat(params.get("chat_id"))
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        if chat_id not in self._chats:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _sendable_chat(self, params: JsonDict) -> int:
        chat_id = self._known_chat(params)
        if chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id])
        if chat_id in self._left:
            kind = self._chats[chat_id]["type"]
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat_id

    def _editable(self, params: JsonDict) -> tuple[tuple[int, int], JsonDict, _MessageMeta]:
        if params.get("inline_message_id"):
            raise Refused(501, "Not Implemented: the fake has no inline messages")
        chat_id = self._sendable_chat(params)
        key = (chat_id, _int_param(params, "message_id", 0))
        if key not in self._messages:
            raise _bad("message to edit not found")
        meta = self._meta[key]
        if not meta.from_bot:
            raise _bad("message can't be edited")
        return key, self._messages[key], meta

    def _edited(
        self,
        key: tuple[int, int],
        message: JsonDict,
        meta: _MessageMeta,
        markup: JsonDict | None,
        params: JsonDict,
        method: str,
    ) -> JsonDict:
        meta.markup = markup
        message.pop("reply_markup", None)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self._edits.append(
            {
                "method": method,
                "chat_id": key[0],
                "message_id": key[1],
                "text": meta.raw_text,
                "plain": message.get("text"),
                "parse_mode": meta.parse_mode,
                "reply_markup": markup,
                "params": params,
            }
        )
        return copy.deepcopy(message)

    def _member(self, chat_id: int, user_id: int) -> JsonDict:
        if user_id == self.bot_user["id"]:
            user = dict(self.bot_user)
            if chat_id in self._blocked:
                return {"status": "kicked", "user": user, "until_date": 0}
            if chat_id in self._left:
                return {"status": "left", "user": user}
        else:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": f"User {user_id}",
            }
        status = self._statuses.get(chat_id, {}).get(user_id, "member")
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "administrator":
            return {"status": status, "user": user, **_ADMIN_RIGHTS}
        if status == "restricted":
            rights = bot_api().required_defaults("ChatMemberRestricted")
            return {**rights, "status": status, "user": user, "is_member": True}
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def _store_message(
        self, chat_id: int, sender: JsonDict, content: JsonDict, meta: _MessageMeta
    ) -> JsonDict:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message: JsonDict = {
            "message_id": message_id,
            "from": dict(sender),
            "chat": dict(self._chats[chat_id]),
            "date": int(time.time()),
            **content,
        }
        if meta.markup is not None and "inline_keyboard" in meta.markup:
            message["reply_markup"] = meta.markup
        self._messages[(chat_id, message_id)] = message
        self._meta[(chat_id, message_id)] = meta
        return copy.deepcopy(message)

    def _take_quota(self, chat_id: int, *, paid: bool = False) -> None:
        """Spend one message of the flood limits, or raise 429 with retry_after."""
        limits = self.limits
        if not limits.enforce:
            return
        now = self._clock()
        window = self._paid_window if paid else self._global_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        per_second = limits.paid_per_second if paid else limits.global_per_second
        waits: list[float] = []
        if len(window) >= per_second:
            waits.append(1.0 - (now - window[-per_second]))
        group: deque[float] | None = None
        tokens = 0.0
        if chat_id < 0:
            group = self._group_windows.setdefault(chat_id, deque())
            while group and now - group[0] >= 60.0:
                group.popleft()
            if len(group) >= limits.group_per_minute:
                waits.append(60.0 - (now - group[-limits.group_per_minute]))
        else:
            burst = max(limits.per_chat_burst, 1.0)
            tokens, last = self._buckets.get(chat_id, (burst, now))
            rate = max(limits.per_chat_per_second, 1e-6)
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / rate)
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        window.append(now)
        if group is not None:
            group.append(now)
        else:
            self._buckets[chat_id] = (tokens - 1.0, now)

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    # -- updates: what users do -------------------------------------------------------------

    def push_update(self, update: JsonDict) -> JsonDict:
        """Queue a raw update (update_id assigned if missing); its chats become known."""
        with self._cond:
            update = copy.deepcopy(update)
            if "update_id" not in update:
                update["update_id"] = next(self._update_ids)
            for value in update.values():
                chat = value.get("chat") if isinstance(value, dict) else None
                if chat is None and isinstance(value, dict):
                    chat = (value.get("message") or {}).get("chat")
                if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                    self._chats.setdefault(chat["id"], chat)
            self._updates.append(update)
            self._changed()
            return copy.deepcopy(update)

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> JsonDict:
        """Register a chat as one that has started the bot (private: also its user)."""
        with self._cond:
            kind = _chat_type(chat_id, chat_type)
            existing = self._chats.get(chat_id)
            if kind == "private":
                user = self._user(chat_id, first_name, username, language_code, last_name)
                chat: JsonDict = {"id": chat_id, "type": "private"}
                for key in ("first_name", "last_name", "username"):
                    if key in user:
                        chat[key] = user[key]
            else:
                old_title = existing.get("title") if existing else None
                chat = {
                    "id": chat_id,
                    "type": kind,
                    "title": title or old_title or f"Group {chat_id}",
                }
                if username:
                    chat["username"] = username
            self._chats[chat_id] = chat
            self._changed()
            return dict(chat)

    def _user(
        self,
        user_id: int,
        first_name: str | None,
        username: str | None,
        language_code: str | None,
        last_name: str | None = None,
    ) -> JsonDict:
        """The user with this id; given values replace stored ones ("" removes an optional one)."""
        user = self._users.setdefault(
            user_id,
            {
                "id": user_id,
                "is_bot": False,
                "first_name": DEFAULT_FIRST_NAME,
                "language_code": DEFAULT_LANGUAGE,
            },
        )
        if first_name:
            user["first_name"] = first_name
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value == "":
                user.pop(key, None)
            elif value is not None:
                user[key] = value
        return dict(user)

    def _sender_and_chat(
        self,
        chat_id: int,
        user_id: int | None,
        chat_type: str | None,
        chat_title: str | None,
        first_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> tuple[JsonDict, JsonDict]:
        kind = _chat_type(chat_id, chat_type)
        if user_id is None:
            user_id = chat_id if kind == "private" else DEFAULT_GROUP_USER_ID
        user = self._user(user_id, first_name, username, language_code)
        if kind == "private" and chat_id == user_id:
            chat = self.add_chat(chat_id, chat_type=kind)
        elif chat_id in self._chats and chat_title is None:
            chat = dict(self._chats[chat_id])
        else:
            chat = self.add_chat(chat_id, chat_type=kind, title=chat_title)
        return user, chat

    def _user_message(self, chat_id: int, user: JsonDict, content: JsonDict) -> JsonDict:
        return self._store_message(
            chat_id, user, content, _MessageMeta(content.get("text"), None, None, from_bot=False)
        )

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        chat_title: str | None = None,
    ) -> JsonDict:
        """A user writes `text` (a leading /cmd or /cmd@bot gets a bot_command entity).

        chat_id > 0 is a private chat with that user (unless user_id says otherwise); < 0 is a
        group ("supergroup" at -100…). User fields not given keep their stored values, defaulting
        to first_name "Ana" and language_code "en"; pass language_code="" to omit it.
        """
        with self._cond:
            user, _ = self._sender_and_chat(
                chat_id, user_id, chat_type, chat_title, first_name, username, language_code
            )
            content: JsonDict = {"text": text}
            command = _COMMAND_RE.match(text)
            if command:
                length = utf16_len(command.group(0))
                content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            message = self._user_message(chat_id, user, content)
            return self.push_update({"message": message})

    def user_forwards(
        self,
        chat_id: int,
        text: str,
        *,
        from_channel: str | None = None,
        from_name: str = "Clinic Promotions",
        language_code: str | None = None,
    ) -> JsonDict:
        """A user forwards a message: from a channel (`from_channel` is its title) or from a
        user who hides their account (`from_name`), with a `forward_origin` as Bot API 7+
        sends it."""
        when = int(time.time()) - 3600
        origin: JsonDict
        if from_channel is not None:
            origin = {
                "type": "channel",
                "date": when,
                "chat": {"id": -1009876543210, "type": "channel", "title": from_channel},
                "message_id": 77,
            }
        else:
            origin = {"type": "hidden_user", "date": when, "sender_user_name": from_name}
        return self._user_content(
            chat_id, {"text": text, "forward_origin": origin}, language_code=language_code
        )

    def user_sends_photo(
        self, chat_id: int, caption: str | None = None, *, language_code: str | None = None
    ) -> JsonDict:
        """A user sends a photo (two sizes, as Telegram sends them), with a caption or not."""
        sizes = [
            {
                "file_id": f"photo-{chat_id}-{w}",
                "file_unique_id": f"u{w}",
                "width": w,
                "height": w * 3 // 4,
                "file_size": w * 50,
            }
            for w in (90, 800)
        ]
        content: JsonDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._user_content(chat_id, content, language_code=language_code)

    def _user_content(
        self, chat_id: int, content: JsonDict, *, language_code: str | None = None
    ) -> JsonDict:
        """A private-chat message with `content`, checked against the Bot API's Message type
        first, so a test cannot send what Telegram never would."""
        with self._cond:
            user, _ = self._sender_and_chat(chat_id, None, None, None, None, None, language_code)
            message = self._user_message(chat_id, user, content)
            bot_api()._json("Message", message, "message")
            return self.push_update({"message": message})

    def user_sends_media(
        self,
        chat_id: int,
        kind: str,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = None,
    ) -> JsonDict:
        """A user sends a voice note, sticker, photo, video, video_note, audio or document
        (`kind`), Telegram-shaped with made-up file ids; `caption` where Telegram allows one."""
        ids = {"file_id": f"{kind}-{chat_id}", "file_unique_id": f"u-{kind}"}
        shapes: dict[str, Any] = {
            "voice": ids | {"duration": 3, "mime_type": "audio/ogg"},
            "audio": ids | {"duration": 60},
            "sticker": ids
            | {"type": "regular", "width": 512, "height": 512, "is_animated": False}
            | {"is_video": False, "emoji": "👍"},
            "photo": [ids | {"width": 90, "height": 90}, ids | {"width": 800, "height": 800}],
            "video": ids | {"width": 640, "height": 360, "duration": 5},
            "video_note": ids | {"length": 240, "duration": 5},
            "document": ids | {"file_name": "scan.pdf", "mime_type": "application/pdf"},
        }
        if kind not in shapes:
            raise ValueError(f"unknown media kind {kind!r}")
        with self._cond:
            user, _ = self._sender_and_chat(
                chat_id, user_id, chat_type, None, None, None, language_code
            )
            content: JsonDict = {kind: shapes[kind]}
            if caption is not None:
                content["caption"] = caption
            message = self._user_message(chat_id, user, content)
            return self.push_update({"message": message})

    def user_shares_location(
        self,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        user_id: int | None = None,
        horizontal_accuracy: float | None = None,
        chat_type: str | None = None,
        language_code: str | None = None,
        first_name: str | None = None,
    ) -> JsonDict:
        """A user shares a location (what a request_location keyboard button sends)."""
        with self._cond:
            user, _ = self._sender_and_chat(
                chat_id, user_id, chat_type, None, first_name, None, language_code
            )
            location: JsonDict = {"latitude": latitude, "longitude": longitude}
            if horizontal_accuracy is not None:
                location["horizontal_accuracy"] = horizontal_accuracy
            message = self._user_message(chat_id, user, {"location": location})
            return self.push_update({"message": message})

    def user_presses(
        self,
        chat_id: int,
        message_or_message_id: int | JsonDict,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JsonDict:
        """A user presses an inline button of a message the bot sent; `data` is not checked."""
        with self._cond:
            if isinstance(message_or_message_id, dict):
                message_id = int(message_or_message_id["message_id"])
            else:
                message_id = int(message_or_message_id)
            message = self._messages.get((chat_id, message_id))
            if message is None or not self._meta[(chat_id, message_id)].from_bot:
                raise KeyError(f"the bot has no message {message_id} in chat {chat_id}")
            user, _ = self._sender_and_chat(
                chat_id, user_id, None, None, first_name, username, language_code
            )
            query_id = str(4_242_000_000_000_000 + next(self._query_ids))
            self._open_queries[query_id] = {
                "chat_id": chat_id,
                "message_id": message_id,
                "data": data,
                "user_id": user["id"],
            }
            query = {
                "id": query_id,
                "from": user,
                "message": copy.deepcopy(message),
                "chat_instance": str(-abs(chat_id) * 7919),
                "data": data,
            }
            return self.push_update({"callback_query": query})

    def user_presses_button(
        self, chat_id: int, label: str, *, message_id: int | None = None, user_id: int | None = None
    ) -> JsonDict:
        """Press the callback button labelled `label` (exact, else unique case-insensitive part)
        on `message_id`, by default the bot's latest message in the chat that has a keyboard."""
        with self._cond:
            if message_id is None:
                with_keyboard = [
                    key[1]
                    for key, msg in self._messages.items()
                    if key[0] == chat_id and "reply_markup" in msg
                ]
                if not with_keyboard:
                    raise KeyError(f"no bot message with an inline keyboard in chat {chat_id}")
                message_id = max(with_keyboard)
            buttons = [
                b for row in self.buttons(chat_id, message_id) for b in row if "callback_data" in b
            ]
            exact = [b for b in buttons if b.get("text") == label]
            loose = [b for b in buttons if label.lower() in str(b.get("text", "")).lower()]
            found = exact or loose
            if len(found) != 1:
                labels = [b.get("text") for b in buttons]
                raise KeyError(f"{len(found)} buttons match {label!r} among {labels}")
            return self.user_presses(
                chat_id, message_id, str(found[0]["callback_data"]), user_id=user_id
            )

    def bot_added_to_group(
        self,
        group_id: int,
        title: str,
        by_user_id: int,
        *,
        chat_type: str | None = None,
        service_message: bool = True,
    ) -> JsonDict:
        """Someone adds the bot to a group: my_chat_member (left -> member), like Telegram,
        plus the `new_chat_members` service message basic groups also get."""
        with self._cond:
            chat = self.add_chat(group_id, chat_type=chat_type, title=title)
            user = self._user(by_user_id, None, None, None)
            self._blocked.pop(group_id, None)
            self._left.discard(group_id)
            update = self.push_update(self._my_chat_member(group_id, user, "left", "member"))
            if service_message and chat["type"] == "group":
                message = self._user_message(
                    group_id, user, {"new_chat_members": [dict(self.bot_user)]}
                )
                self.push_update({"message": message})
            return update

    def block(self, chat_id: int, *, by_user_id: int | None = None) -> JsonDict:
        """The user blocks the bot (groups: kicks it): a my_chat_member update, then 403s."""
        with self._cond:
            if chat_id not in self._chats:
                self.add_chat(chat_id)
            kind = self._chats[chat_id]["type"]
            user_id = by_user_id or (chat_id if kind == "private" else DEFAULT_GROUP_USER_ID)
            user = self._user(user_id, None, None, None)
            self._blocked[chat_id] = (
                BLOCKED if kind == "private" else f"Forbidden: bot was kicked from the {kind} chat"
            )
            return self.push_update(self._my_chat_member(chat_id, user, "member", "kicked"))

    def unblock(self, chat_id: int) -> JsonDict:
        """The user unblocks the bot: my_chat_member kicked -> member; sends work again."""
        with self._cond:
            self._blocked.pop(chat_id, None)
            kind = self._chats[chat_id]["type"]
            user_id = chat_id if kind == "private" else DEFAULT_GROUP_USER_ID
            user = self._user(user_id, None, None, None)
            return self.push_update(self._my_chat_member(chat_id, user, "kicked", "member"))

    def migrate(self, group_id: int, new_supergroup_id: int, *, updates: bool = True) -> None:
        """The group becomes a supergroup: sends to the old id answer 400 + migrate_to_chat_id.

        With `updates`, the two service messages Telegram sends are queued as well.
        """
        if group_id >= 0 or new_supergroup_id > SUPERGROUP_ID_LIMIT:
            raise ValueError("migrate a group id (< 0) to a supergroup id (-100…)")
        with self._cond:
            old = self._chats.get(group_id) or self.add_chat(group_id, chat_type="group")
            self.add_chat(new_supergroup_id, chat_type="supergroup", title=old.get("title"))
            if updates:
                user = self._user(DEFAULT_GROUP_USER_ID, None, None, None)
                self.push_update(
                    {
                        "message": self._user_message(
                            group_id, user, {"migrate_to_chat_id": new_supergroup_id}
                        )
                    }
                )
                self.push_update(
                    {
                        "message": self._user_message(
                            new_supergroup_id, user, {"migrate_from_chat_id": group_id}
                        )
                    }
                )
            self._migrated[group_id] = new_supergroup_id
            self._changed()

    def set_admins(
        self, chat_id: int, user_ids: Iterable[int], *, creator: int | None = None
    ) -> None:
        """Who getChatMember reports as "administrator" (replacing the earlier ones) and
        "creator" in a group."""
        with self._cond:
            statuses = self._statuses.setdefault(chat_id, {})
            for user_id, status in list(statuses.items()):
                if status == "administrator" or (creator is not None and status == "creator"):
                    del statuses[user_id]
            for user_id in user_ids:
                self.set_member_status(chat_id, int(user_id), "administrator")
            if creator is not None:
                self.set_member_status(chat_id, int(creator), "creator")

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember says of a user in a chat: "creator", "administrator", "member"
        (everyone's default), "restricted", "left" or "kicked" (tests of non-admins need
        "member" as much as others need an admin)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {sorted(MEMBER_STATUSES)}")
        with self._cond:
            if chat_id not in self._chats:
                self.add_chat(chat_id)
            self._statuses.setdefault(chat_id, {})[user_id] = status
            self._changed()

    def _my_chat_member(self, chat_id: int, actor: JsonDict, old: str, new: str) -> JsonDict:
        def member(status: str) -> JsonDict:
            entry: JsonDict = {"status": status, "user": dict(self.bot_user)}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        return {
            "my_chat_member": {
                "chat": dict(self._chats[chat_id]),
                "from": dict(actor),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    # -- scripted faults and limits ---------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        chat_id: int | str | None = None,
        status: int = 500,
        description: str | None = None,
        parameters: JsonDict | None = None,
        times: int | None = 1,
        *,
        raw_body: str | None = None,
    ) -> None:
        """Answer the next `times` matching calls (None: all) with an error.

        method=None matches every method except getUpdates. A 429 without parameters gets
        retry_after=1 (Telegram always sends it). `raw_body` answers non-JSON (a proxy's page).
        """
        canonical = None if method is None else _method_name(method)
        if status == 429 and not parameters:
            parameters = {"retry_after": 1}
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
            if status == 429 and parameters:
                description = f"Too Many Requests: retry after {parameters.get('retry_after', 1)}"
        where = {"method": canonical or _not_get_updates, "chat_id": _norm_chat(chat_id)}
        if raw_body is not None:
            fault = Fault("garbage", times, where, status=status, body=raw_body.encode("utf-8"))
        else:
            fault = Fault(
                "status", times, where, status=status, message=description, parameters=parameters
            )
        self._faults.add(fault)

    def delay(
        self,
        method: str | None,
        seconds: float,
        times: int | None = 1,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Hold the answer of the next `times` matching calls for `seconds` (client timeouts).

        The call itself takes effect at once, like a message Telegram delivered while the
        client timed out: the case that makes sendMessage non-idempotent.
        """
        canonical = None if method is None else _method_name(method)
        where = {"method": canonical, "chat_id": _norm_chat(chat_id)}
        self._faults.add(Fault("delay", times, where, seconds=seconds))

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_limits(
        self,
        enforce: bool | None = None,
        global_per_second: int | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: float | None = None,
        group_per_minute: int | None = None,
        paid_per_second: int | None = None,
        reset: bool = True,
    ) -> JsonDict:
        """Change flood limits (None keeps a value); `reset` forgets messages already counted."""
        with self._cond:
            limits = self.limits
            if enforce is not None:
                limits.enforce = enforce
            if global_per_second is not None:
                limits.global_per_second = global_per_second
            if per_chat_per_second is not None:
                limits.per_chat_per_second = per_chat_per_second
            if per_chat_burst is not None:
                limits.per_chat_burst = per_chat_burst
            if group_per_minute is not None:
                limits.group_per_minute = group_per_minute
            if paid_per_second is not None:
                limits.paid_per_second = paid_per_second
            if reset:
                self.reset_limits()
            return asdict(limits)

    def reset_limits(self) -> None:
        with self._cond:
            self._global_window.clear()
            self._paid_window.clear()
            self._group_windows.clear()
            self._buckets.clear()

    # -- assertions -------------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, JsonDict]]:
        """(method, decoded params) of every API call, oldest first (getUpdates included)."""
        with self._cond:
            return [(c.method, c.params) for c in self._log]

    def calls_to(self, method: str) -> list[JsonDict]:
        canonical = bot_api().method_name(method) or method
        with self._cond:
            return [c.params for c in self._log if c.method == canonical]

    @property
    def errors(self) -> list[JsonDict]:
        """Calls answered with an error: method, params, status, description."""
        with self._cond:
            return [
                {
                    "method": c.method,
                    "params": c.params,
                    "status": c.status,
                    "description": c.description,
                }
                for c in self._log
                if c.status not in (None, 200, ABANDONED)
            ]

    @property
    def violations(self) -> list[JsonDict]:
        """Calls Telegram would refuse whatever the state of its chats (method, params,
        description): an unknown method or parameter, a missing or mistyped one, a broken
        limit or markup. Each is a bug in the caller: one left when the fake's `with` block
        ends fails the test (`FakeTelegram._after_with`); a test that makes one on purpose
        takes it with `take_violations`. `clear` keeps them."""
        with self._cond:
            return list(self._violations)

    def take_violations(self) -> list[JsonDict]:
        """The violations so far, forgotten (a test that provoked them asserts on them)."""
        with self._cond:
            taken, self._violations = self._violations, []
            return taken

    @property
    def sent(self) -> list[JsonDict]:
        """Messages the bot sent: chat_id, message_id, text (as sent), plain (as shown),
        parse_mode, reply_markup (parsed), date, params."""
        with self._cond:
            return list(self._sent)

    @property
    def edits(self) -> list[JsonDict]:
        with self._cond:
            return list(self._edits)

    @property
    def deleted(self) -> list[tuple[int, int]]:
        with self._cond:
            return list(self._deleted)

    @property
    def callback_answers(self) -> list[JsonDict]:
        with self._cond:
            return list(self._callback_answers)

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        with self._cond:
            return list(self._chat_actions)

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    @property
    def count_429(self) -> int:
        with self._cond:
            return self._count_429

    def sent_to(self, chat_id: int) -> list[JsonDict]:
        with self._cond:
            return [s for s in self._sent if s["chat_id"] == chat_id]

    def message(self, chat_id: int, message_id: int) -> JsonDict:
        """A message as it is now (after edits), Telegram-shaped."""
        with self._cond:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    def last_message(self, chat_id: int) -> JsonDict:
        """The bot's latest message in the chat as it is now (after edits)."""
        with self._cond:
            ids = [k[1] for k, m in self._meta.items() if k[0] == chat_id and m.from_bot]
            if not ids:
                raise AssertionError(f"the bot sent nothing to chat {chat_id}\n{self._summary()}")
            return self.message(chat_id, max(ids))

    def last_text(self, chat_id: int, *, raw: bool = False) -> str:
        """What the user now sees in the bot's latest message (`raw`: the markup as sent)."""
        with self._cond:
            message = self.last_message(chat_id)
            if raw:
                return str(self._meta[(chat_id, message["message_id"])].raw_text)
            return str(message.get("text", ""))

    def buttons(self, chat_id: int, message_id: int | None = None) -> list[list[JsonDict]]:
        """The inline keyboard of a bot message (default: the latest), [] if none."""
        with self._cond:
            message = (
                self.last_message(chat_id)
                if message_id is None
                else self.message(chat_id, message_id)
            )
            keyboard: list[list[JsonDict]] = message.get("reply_markup", {}).get(
                "inline_keyboard", []
            )
            return keyboard

    def commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        with self._cond:
            key = _commands_key({"scope": scope, "language_code": language_code})
            return copy.deepcopy(self._commands.get(key, []))

    def stats(self) -> JsonDict:
        with self._cond:
            by_method: dict[str, int] = {}
            for c in self._log:
                by_method[c.method] = by_method.get(c.method, 0) + 1
            per_chat: dict[str, int] = {}
            for s in self._sent:
                per_chat[str(s["chat_id"])] = per_chat.get(str(s["chat_id"]), 0) + 1
            return {
                "calls": len(self._log),
                "by_method": by_method,
                "sent": len(self._sent),
                "sent_per_chat": per_chat,
                "edits": len(self._edits),
                "callback_answers": len(self._callback_answers),
                "count_429": self._count_429,
                "errors": sum(1 for c in self._log if c.status not in (None, 200, ABANDONED)),
                "violations": len(self._violations),
                "conflicts": self._conflicts,
                "unauthorized": self._unauthorized,
                "pending_updates": len(self._updates),
                "webhook": self.webhook is not None,
                "limits": asdict(self.limits),
            }

    def clear(self) -> None:
        """Forget what was recorded (calls, sent, edits, answers, 429 count); keep chats,
        messages, pending updates, faults, flood-limit counters and violations (only
        `take_violations` forgets those)."""
        with self._cond:
            self._log.clear()
            self._sent.clear()
            self._edits.clear()
            self._deleted.clear()
            self._callback_answers.clear()
            self._chat_actions.clear()
            self._count_429 = self._conflicts = self._unauthorized = 0
            self._changed()

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str | None = None
    ) -> Any:
        """Block until `predicate()` is truthy (returns it) or raise AssertionError.

        For threads and subprocess-driven tests; in an async test use `wait_for_async`.
        """
        _refuse_inside_event_loop("wait_for")
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(timeout, what or repr(predicate)))
                self._cond.wait(min(remaining, 0.05))

    async def wait_for_async(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str | None = None
    ) -> Any:
        """`wait_for` that yields to the event loop, so an in-process bot keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_report(timeout, what or repr(predicate)))
            await asyncio.sleep(0.005)

    def wait_for_sent(self, chat_id: int, n: int = 1, timeout: float = 5.0) -> list[JsonDict]:
        """Block until at least `n` messages were sent to the chat (since start or `clear`)."""
        return list(
            self.wait_for(
                lambda: len(self.sent_to(chat_id)) >= n and self.sent_to(chat_id),
                timeout,
                f"{n} message(s) sent to chat {chat_id}",
            )
        )

    async def wait_for_sent_async(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[JsonDict]:
        return list(
            await self.wait_for_async(
                lambda: len(self.sent_to(chat_id)) >= n and self.sent_to(chat_id),
                timeout,
                f"{n} message(s) sent to chat {chat_id}",
            )
        )

    def _timeout_report(self, timeout: float, what: str) -> str:
        return f"timed out after {timeout}s waiting for {what}\n{self._summary()}"

    def _summary(self, last: int = 20) -> str:
        with self._cond:
            calls = [c for c in self._log if c.method != "getUpdates"][-last:]
            polls = sum(1 for c in self._log if c.method == "getUpdates")
            lines = [f"recent calls (newest last; {polls} getUpdates not shown):"]
            for c in calls:
                shown = {k: v for k, v in c.params.items() if k != "reply_markup"}
                text = json.dumps(shown, ensure_ascii=False, default=str)[:160]
                outcome = c.status if c.description is None else f"{c.status} {c.description}"
                lines.append(f"  {c.method} {text} -> {outcome}")
            if not calls:
                lines.append("  (none)")
            lines.append(f"pending updates: {len(self._updates)}")
            if self._violations:
                lines.append(violations_report(self._violations))
            return "\n".join(lines)

    def _shutdown_waiters(self) -> None:
        with self._cond:
            self._stopping.set()
            self._cond.notify_all()


_ADMIN_RIGHTS: JsonDict = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected by the fake",
    401: "Unauthorized",
    403: BLOCKED,
    404: "Not Found",
    409: POLL_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _method_name(name: str) -> str:
    """A Bot API method's canonical name; KeyError for a name the Bot API does not have."""
    canonical = bot_api().method_name(name)
    if canonical is None:
        raise KeyError(f"{name} is not a Bot API method")
    return canonical


def _not_get_updates(method: Any) -> bool:
    """What a fault for "any method" matches: the background poll would eat it otherwise."""
    return bool(method != "getUpdates")


class BotApiViolation(AssertionError):
    """The code under test made calls the real Bot API would refuse."""


def violations_report(violations: Iterable[JsonDict]) -> str:
    lines = ["calls the real Bot API would refuse (fix the caller, not the fake):"]
    for v in violations:
        params = json.dumps(v["params"], ensure_ascii=False, default=str)[:300]
        lines.append(f"  {v['method']} {params}: {v['description']}")
    return "\n".join(lines)


def _refuse_inside_event_loop(name: str) -> None:
    """A blocking wait on the loop thread would freeze the in-process bot it waits for."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name} blocks; inside async code use `await fake.{name}_async(...)`")


def _int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _refused(f'field "{name}" must be of type Integer') from None


def _float_param(params: JsonDict, name: str, default: float) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _refused(f'field "{name}" must be of type Number') from None


def _update_type(update: JsonDict) -> str:
    return next((k for k in update if k != "update_id"), "")


def _commands_key(params: JsonDict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _chat_type(chat_id: int, chat_type: str | None) -> str:
    if chat_type is None:
        if chat_id > 0:
            return "private"
        return "supergroup" if chat_id <= SUPERGROUP_ID_LIMIT else "group"
    if chat_type not in ("private", "group", "supergroup", "channel"):
        raise ValueError(f"unknown chat type {chat_type!r}")
    if (chat_type == "private") != (chat_id > 0):
        raise ValueError(f"chat {chat_id}: private chats have positive ids, groups negative")
    return chat_type


def _render(text: Any, parse_mode: Any) -> tuple[str, list[JsonDict]]:
    """Validate a message text like Telegram (1-4096 UTF-16 units once the markup is parsed:
    tags do not count, entities count as the character they stand for); returns what the user
    sees and its entities."""
    if text is None or str(text) == "":
        raise _refused("message text is empty")
    plain, entities = _render_markup(str(text), parse_mode)
    if not plain.strip():
        raise _refused("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise _refused("message is too long")
    return plain, entities


def _render_markup(text: str, parse_mode: Any) -> tuple[str, list[JsonDict]]:
    """A text or caption as the user sees it under `parse_mode`, and its entities."""
    mode = str(parse_mode).lower() if parse_mode else ""
    if mode == "html":
        try:
            return render_html(text)
        except HtmlError as exc:
            raise _refused(f"can't parse entities: {exc}") from None
    if mode in ("", "markdown", "markdownv2"):  # Markdown is not validated by the fake
        return text, []
    raise _refused(f"unsupported parse_mode {parse_mode}")


def _check_rules(method: str, params: JsonDict) -> None:
    """Telegram's limits on a call whose types are right (shared/telegram.md section 2):
    reply_markup, caption <= 1024 and a callback answer <= 200 characters. Message texts are
    checked where they are rendered (`_render`)."""
    markup = params.get("reply_markup")
    if markup is not None:
        _check_markup(markup)
    caption = params.get("caption")
    if caption is not None:
        plain, _ = _render_markup(caption, params.get("parse_mode"))
        if utf16_len(plain) > MAX_CAPTION_LENGTH:
            raise _refused("message caption is too long")
    answer = params.get("text") if method == "answerCallbackQuery" else None
    if answer is not None and utf16_len(answer) > MAX_CALLBACK_ANSWER_LENGTH:
        raise _refused("MESSAGE_TOO_LONG")


def _check_markup(markup: JsonDict) -> None:
    """What Telegram checks in a well-typed reply_markup: at most 100 inline buttons, each with
    exactly one action and callback_data of 1-64 bytes; keyboard buttons with a label; and a
    keyboard removal or forced reply that says `true`."""
    if "inline_keyboard" in markup:
        buttons = [b for row in markup["inline_keyboard"] for b in row]
        if len(buttons) > MAX_INLINE_BUTTONS:
            raise _refused(f"reply markup is too long ({len(buttons)} buttons, at most 100)")
        for button in buttons:
            _check_inline_button(button)
    elif "keyboard" in markup:
        if not all(b["text"] for row in markup["keyboard"] for b in row):
            raise _refused("keyboard button text is empty")
    elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
        raise _refused("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: JsonDict) -> None:
    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
    if len(actions) != 1:
        raise _refused(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
        raise _refused("BUTTON_DATA_INVALID")
    if "url" in button and not _BUTTON_URL_RE.match(button["url"]):
        raise _refused(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")


def _violation(method: str, params: JsonDict, error: ApiError, note: str | None = None) -> JsonDict:
    return {"method": method, "params": params, "description": note or error.description}


# -- HTTP transport ---------------------------------------------------------------------------


def _control_actions(fake: FakeTelegramCore) -> dict[str, Callable[..., Any]]:
    """POST /_control/<name> with a JSON object of keyword arguments calls these."""
    return {
        "user_sends": fake.user_sends,
        "user_presses": lambda chat_id, message_id, data, **kw: fake.user_presses(
            chat_id, message_id, data, **kw
        ),
        "user_presses_button": fake.user_presses_button,
        "user_shares_location": fake.user_shares_location,
        "bot_added_to_group": fake.bot_added_to_group,
        "block": fake.block,
        "unblock": fake.unblock,
        "migrate": fake.migrate,
        "fail": fake.fail,
        "delay": fake.delay,
        "limits": fake.set_limits,
        "add_chat": fake.add_chat,
        "set_admins": fake.set_admins,
        "set_member_status": fake.set_member_status,
        "push_update": lambda **update: fake.push_update(update),
        "clear": fake.clear,
        "clear_faults": fake.clear_faults,
        "take_violations": fake.take_violations,
    }


def _control(fake: FakeTelegramCore, verb: str, action: str, request: Request) -> Reply:
    """Steering for a test driving the fake from another process.

    POST: see `_control_actions` (JSON keyword arguments; `push_update` takes the update).
    GET:  sent[?chat_id=] | calls[?method=] | stats | callback_answers | updates | errors
          | violations
          | wait_sent?chat_id=&n=&timeout= (blocks; 408 on timeout).
    Answers {"ok": true, "result": ...}; bad arguments -> 400 {"ok": false, "description"}
    (from `FakeHttpServer._handle`).
    """
    args = request.query
    if verb == "POST":
        actions = _control_actions(fake)
        if action not in actions:
            return Reply.json({"ok": False, "description": f"unknown action {action}"}, 404)
        kwargs = json.loads(request.body or b"{}")
        if not isinstance(kwargs, dict):
            raise TypeError("the body must be a JSON object")
        return Reply.json({"ok": True, "result": actions[action](**kwargs)})
    if action == "sent":
        chat = args.get("chat_id")
        result: Any = fake.sent if chat is None else fake.sent_to(int(chat))
    elif action == "calls":
        method = args.get("method")
        calls = fake.calls
        result = [
            {"method": m, "params": p}
            for m, p in calls
            if method is None or m.lower() == method.lower()
        ]
    elif action == "stats":
        result = fake.stats()
    elif action == "callback_answers":
        result = fake.callback_answers
    elif action == "updates":
        result = fake.pending_updates
    elif action == "errors":
        result = fake.errors
    elif action == "violations":
        result = fake.violations
    elif action == "wait_sent":
        try:
            result = fake.wait_for_sent(
                int(args["chat_id"]), int(args.get("n", 1)), float(args.get("timeout", 5))
            )
        except AssertionError as exc:
            return Reply.json({"ok": False, "description": str(exc)}, 408)
    else:
        return Reply.json({"ok": False, "description": f"unknown view {action}"}, 404)
    return Reply.json({"ok": True, "result": result})


class FakeTelegram(FakeTelegramCore, FakeHttpServer):
    """The fake Bot API over real HTTP. Use as `with FakeTelegram() as fake:`."""

    api_prefix = "/bot"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        FakeHttpServer.__init__(self, host=host, port=port)
        FakeTelegramCore.__init__(self, **options)  # its `_stopping` is the one both use

    def _dispatch(self, request: Request) -> Reply:
        """Decode a Bot API request (query, form, JSON or multipart) and answer it."""
        match = _API_PATH_RE.match(request.path)
        if match is None:
            return self._error(404, "Not Found")
        content_type = request.headers.get("content-type", "")
        try:
            params = decode_params(content_type, request.body, request.raw_query)
        except ValueError as exc:
            return self._refuse(match.group(2), {}, _refused(f"can't parse request: {exc}"))
        return self.call(match.group(1), match.group(2), params, request.client_gone)

    def _control(self, method: str, action: str, request: Request) -> Reply:
        return _control(self, method, action.removeprefix("/"), request)

    def _error(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        """Telegram's error envelope."""
        return Reply.json(ApiError(status, message).envelope(), status, headers=headers)

    def _on_stop(self) -> None:
        """Long-polling getUpdates and delayed answers return at once."""
        self._shutdown_waiters()

    def _after_with(self, exc: BaseException | None) -> None:
        """Any violation nobody took fails the test (added to the error already failing it,
        if there is one), so no call the real API would refuse goes unnoticed."""
        left = self.take_violations()
        if not left:
            return
        report = violations_report(left)
        if exc is not None:
            exc.add_note(report)
            return
        raise BotApiViolation(report)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; the first stdout line is the base URL."""
    parser = FakeTelegram.command_line(__doc__)
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--no-limits", action="store_true", help="do not enforce flood limits")
    args = parser.parse_args(argv)
    fake = FakeTelegram(
        host=args.host, port=args.port, token=args.token, enforce_limits=not args.no_limits
    )
    return fake.serve_until_signalled(lambda: f"fake Telegram: control API at {fake.control_url}")


if __name__ == "__main__":
    sys.exit(main())
