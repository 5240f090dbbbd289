"""For the people who run the bot: /stats, and messages when a registry is in trouble.

Admins are the chats listed in ADMIN_CHAT_IDS. To everyone else /stats does not exist: they
get the same answer as any unknown command, so the bot does not advertise an admin surface.

`RegistryWatch` decides, from `poll_state` rows alone, when the admins should hear about a
registry; it does no I/O so the rules are unit-tested directly. The service runs it after each
poll and sends what it returns with `notify_admins`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot.handlers.common import Context, Deps, chat_of, esc, guard, reply
from bot.i18n import Translator, translator
from storage import chats as chat_store
from storage.db import Database
from storage.stats import Stats, gather_stats
from trialbot.settings import Settings

log = logging.getLogger(__name__)

FAILING = "admin.alert.failing"
EMPTY = "admin.alert.empty"
RECOVERED = "admin.alert.recovered"
ALERT_KEYS = (FAILING, EMPTY, RECOVERED)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


# -- /stats ------------------------------------------------------------------------------------


def stats_text(stats: Stats, t: Translator, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    b = stats.backlog
    lines = [
        t("admin.stats.head"),
        t("admin.stats.chats", active=stats.chats_active, inactive=stats.chats_inactive),
        t("admin.stats.subscriptions", count=stats.subscriptions),
        t("admin.stats.trials", relevant=stats.trials_relevant, total=stats.trials_total),
        t("admin.stats.outbox", pending=b.pending, held=b.held, sending=b.sending, failed=b.failed),
    ]
    if b.oldest_pending_seconds is not None:
        lines.append(t("admin.stats.outbox_oldest", hours=f"{b.oldest_pending_seconds / 3600:.1f}"))
    if not stats.registries:
        lines.append(t("admin.stats.no_polls"))
    for row in stats.registries:
        if row.last_success_at is None:
            lines.append(
                t(
                    "admin.stats.registry_never",
                    registry=esc(row.registry_name),
                    failures=row.consecutive_failures,
                )
            )
        else:
            hours = (now - row.last_success_at).total_seconds() / 3600
            lines.append(
                t(
                    "admin.stats.registry",
                    registry=esc(row.registry_name),
                    when=_when(row.last_success_at),
                    hours=f"{hours:.1f}",
                    failures=row.consecutive_failures,
                )
            )
        if row.consecutive_failures and row.last_failure_reason:
            lines.append(t("admin.stats.last_error", reason=esc(row.last_failure_reason[:300])))
    return "\n".join(lines)


async def is_bot_admin(update: Update, context: Context) -> bool:
    """The chat is one of ADMIN_CHAT_IDS: the people who run the bot."""
    chat = update.effective_chat
    return chat is not None and chat.id in Deps.of(context).settings.admin_chat_ids


@guard(is_bot_admin, refusal="unknown.command")  # the same answer as any command the bot lacks
async def stats_command(update: Update, context: Context) -> None:
    _, t = await chat_of(update, context)
    deps = Deps.of(context)
    async with deps.db.read() as session:
        stats = await gather_stats(session)
    await reply(update, stats_text(stats, t))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /stats; must come before `start.register_fallbacks` like every command."""
    app.add_handler(CommandHandler("stats", stats_command))


# -- messages to the admins ------------------------------------------------------------------


async def notify_admins(
    bot: Bot, settings: Settings, text_key: str, *, db: Database | None = None, **values: Any
) -> int:
    """Send one catalog message to every admin chat, each in its language; returns how many.

    The language comes from the chat's row when `db` is given and the admin has talked to the
    bot; English otherwise. Values are HTML-escaped. A chat that cannot be reached is logged
    and skipped, so one bad id never keeps the others uninformed.
    """
    if not settings.admin_chat_ids:
        return 0
    languages: dict[int, str | None] = {}
    if db is not None:
        try:
            async with db.read() as session:
                for chat_id in settings.admin_chat_ids:
                    row = await chat_store.get_chat(session, chat_id)
                    languages[chat_id] = row.language if row is not None else None
        except Exception:
            log.exception("admin alert: could not read the admins' languages; using English")
    escaped = {name: esc(value) for name, value in values.items()}
    sent = 0
    for chat_id in settings.admin_chat_ids:
        text = translator(languages.get(chat_id))(text_key, **escaped)
        try:
            await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
            )
            sent += 1
        except TelegramError as exc:
            log.warning("admin alert to %s not delivered: %s", chat_id, exc)
    return sent


# -- when to tell them -------------------------------------------------------------------------


class PollState(Protocol):
    """What RegistryWatch reads from a `poll_state` row (storage.tables.PollStateRow)."""

    @property
    def registry_name(self) -> str: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def last_failure_at(self) -> datetime | None: ...
    @property
    def last_failure_reason(self) -> str | None: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def last_counts(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AdminAlert:
    """One message for `notify_admins(bot, settings, alert.key, **alert.values)`."""

    key: str
    registry: str
    values: dict[str, Any]


@dataclass
class _Track:
    """What the watch remembers about one registry between checks."""

    success_at: datetime | None = None
    """last_success_at when last checked: a new value means a new successful poll."""
    streak_success_at: datetime | None = None
    """last_success_at when the current failure streak was first seen (None: no streak)."""
    streak_start: datetime | None = None
    """The first failure of the current streak, as far as the watch knows."""
    in_streak: bool = False
    last_fetched: int | None = None
    """What the registry's search matched at the latest successful poll that was not skipped."""
    failing_alerted: bool = False
    empty_alerted: bool = False


@dataclass
class RegistryWatch:
    """Decides when the admins hear about a registry. Pure: feed it `poll_state` rows.

    - Failing: failures since the last success span at least `alert_after` (first failure of
      the streak to the latest one), so a single failed poll never alerts and the span is
      evidence, not a guess. The first failure of a streak is exact when the watch sees
      `consecutive_failures == 1`; if it first meets a streak already longer (a restart during
      an outage), the streak is dated from the latest failure then, which can delay, never
      hasten, the alert.
    - Empty: the registry's search matches nothing (`matching`, its count of all candidate
      records whatever their date) while at the previous poll it matched some. Not "fetched":
      an incremental poll of a narrow search often fetches nothing, and that is news to nobody.
      Needs two such polls seen by this watch (memory only).
    - Once per incident; when a successful poll ends a failing incident, or a poll fetches
      records again after an empty one, a "recovered" message follows.

    Memory lives in this object: one per service, checked after every poll (each check looks
    at the rows as they are; a poll between two checks that left no trace in the row, such as
    a success followed by another success, is not seen individually).
    """

    alert_after: timedelta
    _tracks: dict[str, _Track] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistryWatch:
        return cls(timedelta(seconds=settings.admin_alert_after_seconds))

    def check(self, states: Iterable[PollState]) -> list[AdminAlert]:
        alerts: list[AdminAlert] = []
        for state in states:
            track = self._tracks.setdefault(state.registry_name, _Track())
            alerts += self._failures(state, track)
            alerts += self._empties(state, track)
            track.success_at = state.last_success_at
        return alerts

    def _failures(self, state: PollState, track: _Track) -> list[AdminAlert]:
        name = state.registry_name
        streak_over = track.in_streak and (
            state.consecutive_failures == 0 or state.last_success_at != track.streak_success_at
        )
        alerts: list[AdminAlert] = []
        if streak_over:
            if track.failing_alerted:
                alerts.append(
                    AdminAlert(
                        RECOVERED, name, {"registry": name, "when": _when(state.last_success_at)}
                    )
                )
            track.in_streak, track.failing_alerted, track.streak_start = False, False, None
        if state.consecutive_failures <= 0 or state.last_failure_at is None:
            return alerts
        if not track.in_streak or state.consecutive_failures == 1:
            track.in_streak = True
            track.streak_success_at = state.last_success_at
            track.streak_start = state.last_failure_at
        assert track.streak_start is not None
        span = state.last_failure_at - track.streak_start
        if span >= self.alert_after and not track.failing_alerted:
            track.failing_alerted = True
            alerts.append(
                AdminAlert(
                    FAILING,
                    name,
                    {
                        "registry": name,
                        "since": _when(track.streak_start),
                        "hours": f"{span.total_seconds() / 3600:.1f}",
                        "failures": state.consecutive_failures,
                        "reason": (state.last_failure_reason or "-")[:300],
                    },
                )
            )
        return alerts

    def _empties(self, state: PollState, track: _Track) -> list[AdminAlert]:
        name = state.registry_name
        counts = state.last_counts or {}
        new_success = (
            state.last_success_at is not None and state.last_success_at != track.success_at
        )
        if not new_success or counts.get("skipped") or counts.get("mode") in ("skipped", "refresh"):
            return []
        fetched = counts.get("matching")
        if not isinstance(fetched, int):
            return []
        previous, track.last_fetched = track.last_fetched, fetched
        if fetched == 0 and previous and not track.empty_alerted:
            track.empty_alerted = True
            return [
                AdminAlert(
                    EMPTY,
                    name,
                    {"registry": name, "previous": previous, "when": _when(state.last_success_at)},
                )
            ]
        if fetched > 0 and track.empty_alerted:
            track.empty_alerted = False
            return [
                AdminAlert(
                    RECOVERED, name, {"registry": name, "when": _when(state.last_success_at)}
                )
            ]
        return []
