"""The one error handler: an exception in any handler is logged, counted, reported to the admins
and answered, so the user is never left in silence.

Without it PTB only logs the exception: the user who typed a command hears nothing, and a
pressed button keeps its spinner. The idea is PTB's examples/errorhandlerbot.py; the
differences are what a public bot needs. The log line names the kind of update and where it
failed, but never the bot token and never the user's text in full (it may be about their
health). The admins hear of each exception type at most once an hour, not once per user it
hits. And the handler itself never raises: each step that fails is logged and counted.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from telegram import Update
from telegram.error import TelegramError

from bot.handlers.admin import notify_admins
from bot.handlers.common import Context, Deps, language_of, reply
from bot.i18n import translator
from trialbot import metrics

log = logging.getLogger(__name__)

USER_KEY = "error.try_again"
ADMIN_KEY = "admin.alert.handler_error"
ADMIN_QUIET_SECONDS = 3600.0
"""The admins hear of an exception type again only after this long."""
LOG_LINE_LIMIT = 300
"""Each line of a logged traceback is cut to this, so no long input survives in full."""
SHORTEST_REDACTED = 12
"""Any run of this many characters of the user's text is blanked out of a logged traceback
(the whole text, its command arguments, a quoted piece: whatever the exception repeats)."""
OUR_PACKAGES = frozenset({"app", "bot", "jobs", "storage", "trialbot"})
"""Where `where` looks for the innermost frame of our own code..."""
PASS_THROUGH = frozenset({"bot/ratelimit.py"})
"""...other than these, which every Telegram call goes through."""
_ROOT = Path(__file__).resolve().parents[1]


def update_kind(update: object) -> str:
    """Which kind of update failed ("message", "callback_query", ...); "none" without one."""
    if update is None:
        return "none"
    if not isinstance(update, Update):
        return type(update).__name__
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return str(kind)
    return "unknown"


def where(error: BaseException | None) -> str:
    """The innermost frame of our code in the traceback, e.g. `bot/handlers/manage.py:98`."""
    if error is None:
        return "-"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename)
        if not path.is_relative_to(_ROOT):
            continue
        ours = path.relative_to(_ROOT)
        if ours.parts[0] in OUR_PACKAGES and ours.as_posix() not in PASS_THROUGH:
            return f"{ours.as_posix()}:{frame.lineno} ({frame.name})"
    return "-"


def _user_texts(update: object) -> list[str]:
    """What the user sent that must not reach the log in full."""
    if not isinstance(update, Update):
        return []
    found: list[str | None] = []
    if update.effective_message is not None and update.callback_query is None:
        found += [update.effective_message.text, update.effective_message.caption]
    if update.callback_query is not None:
        found.append(update.callback_query.data)
    return [text for text in found if text and len(text) >= SHORTEST_REDACTED]


def scrub(text: str, *, token: str, user_texts: list[str]) -> str:
    """`text` without the bot token or the user's text, every line cut to LOG_LINE_LIMIT."""
    if token:
        text = text.replace(token, "[TOKEN]")
    lines = [
        line if len(line) <= LOG_LINE_LIMIT else line[: LOG_LINE_LIMIT - 1] + "…"
        for line in text.splitlines()
    ]
    for typed in user_texts:
        grams = {
            typed[i : i + SHORTEST_REDACTED] for i in range(len(typed) - SHORTEST_REDACTED + 1)
        }
        lines = [_blank_runs(line, typed, grams) for line in lines]
    return "\n".join(lines)


def _blank_runs(line: str, typed: str, grams: set[str]) -> str:
    """`line` with every run of SHORTEST_REDACTED or more characters found in `typed` blanked."""
    out, start, i = [], 0, 0
    while i + SHORTEST_REDACTED <= len(line):
        if line[i : i + SHORTEST_REDACTED] not in grams:
            i += 1
            continue
        end = i + SHORTEST_REDACTED
        while end < len(line) and line[i : end + 1] in typed:
            end += 1
        out.append(line[start:i] + "[user text]")
        start = i = end
    return "".join(out) + line[start:]


class ErrorReporter:
    """The application's error handler (`app.add_error_handler(reporter.on_error)`).

    It remembers when the admins last heard of each exception type, so that a failure hitting
    every user reaches them once an hour. That memory is per process, which is enough: a
    restart that repeats one message an hour early does no harm.
    """

    def __init__(
        self,
        *,
        quiet_seconds: float = ADMIN_QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.quiet_seconds = quiet_seconds
        self._clock = clock
        self._told: dict[str, float] = {}

    async def on_error(self, update: object, context: Context) -> None:
        """Log, count, answer the user, tell the admins. Never raises."""
        error = context.error
        name = type(error).__name__
        kind, at = update_kind(update), where(error)
        texts = _user_texts(update)

        def clean(text: str) -> str:
            return scrub(text, token=context.bot.token, user_texts=texts)

        try:
            metrics.HANDLER_ERRORS.labels(error=name, update=kind).inc()
            trace = name if error is None else "".join(traceback.format_exception(error))
            log.error(
                "%s while handling a %s update (update %s, chat %s, at %s)\n%s",
                name,
                kind,
                update.update_id if isinstance(update, Update) else "-",
                _chat_id(update),
                at,
                clean(trace),
            )
        except Exception as exc:
            _failed("log", exc, clean)
        try:
            await self._answer(update, context)
        except Exception as exc:
            _failed("answer", exc, clean)
        try:
            await self._tell_admins(context, name, kind, at)
        except Exception as exc:
            _failed("admins", exc, clean)

    async def _answer(self, update: object, context: Context) -> None:
        """The short answer: on the button for a button press, else a message in the chat."""
        if not isinstance(update, Update):
            return
        text = translator(language_of(update, context))(USER_KEY)
        query = update.callback_query
        if query is not None:
            try:
                await query.answer(text, show_alert=True)
                return
            except TelegramError:
                pass  # the handler had answered it already: say it in the chat instead
        if update.effective_message is not None:
            await reply(update, text)

    async def _tell_admins(self, context: Context, name: str, kind: str, at: str) -> None:
        now = self._clock()
        last = self._told.get(name)
        if last is not None and now - last < self.quiet_seconds:
            return
        self._told[name] = now  # before sending: concurrent failures must not all report
        deps = Deps.of(context)
        admins = deps.settings.admin_chat_ids
        if not admins:
            return
        sent = await notify_admins(
            context.bot, deps.settings, ADMIN_KEY, db=deps.db, error=name, update=kind, where=at
        )
        if sent < len(admins):
            metrics.ERROR_HANDLER_FAILURES.labels(step="admins").inc()


def _failed(step: str, exc: Exception, clean: Callable[[str], str]) -> None:
    """A step of the error handler failed in turn: count it, log it if even that works."""
    metrics.ERROR_HANDLER_FAILURES.labels(step=step).inc()
    with contextlib.suppress(Exception):
        log.warning(
            "error handler: step %r failed: %s", step, clean(f"{type(exc).__name__}: {exc}")
        )


def _chat_id(update: object) -> str:
    chat = update.effective_chat if isinstance(update, Update) else None
    return str(chat.id) if chat is not None else "-"
