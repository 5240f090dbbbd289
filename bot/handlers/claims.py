"""Trial numbers and claims in plain messages: "NCT03545607", a registry link, a forwarded
clinic advert, a pasted page, a photo's caption, "is this legit??".

The check itself is `trialbot.claims.check` (pure rules); what is known about the trials it
names comes from `jobs.lookup` (stored first, then the registry live). This module words the
answer: what the text offers, each warning sign with its quote, the trials, and a fixed ending
(what a registered trial looks like and what to ask, from ISSCR and FDA advice) that never
advises about the person's own treatment. `render_check` is also what `trialbot check` prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from telegram import Message, Update
from telegram.ext import Application, MessageHandler, filters

from bot.handlers.common import Context, Deps, chat_of, echo, esc, is_private, reply
from bot.handlers.trials import show_trial
from bot.i18n import Translator, translator
from jobs.lookup import MAX_IDS, TrialLookup, look_up
from jobs.registries.base import Registry
from jobs.registries.catalog import build_registries
from storage.tables import ChatRow
from trialbot.claims import ClaimCheck, check
from trialbot.identifiers import find_ids, find_registry_links

QUOTE_SHOWN = 160
"""The most characters of one quote the answer shows (a Telegram message holds 4096)."""
LONG_TEXT = 280
"""A pasted text this long is read as something to check, not as a sentence to the bot."""
MIN_DISTINCT_CHARACTERS = 20
FOLLOW_UP_SECONDS = 15 * 60
"""How long after a checked text "is this legit?" is taken to be about that text."""
_LAST = "_claims_last"

LEGIT_QUESTION = re.compile(
    r"\b(?:legit\w*|scam|fake|is (?:this|it|that) (?:real|true|safe|trustworthy|reliable)|"
    r"can i trust|should i trust|too good to be true)\b"
    r"|\b(?:es (?:esto |eso )?(?:leg[ií]tim[oa]|real|verdad|confiable|fiable|seguro)|estafa|"
    r"es de fiar|puedo confiar|me puedo fiar)\b"
    r"|(?:靠谱|可信吗|可信不|真的吗|骗局|是骗|可靠吗|正规吗|能信吗|是真的吗|可以相信吗)",
    re.IGNORECASE,
)
"""A person asking whether a text or an offer can be trusted, in English, Spanish, Chinese."""


# -- rendering (also used by `trialbot check`) ---------------------------------------------


def _status(t: Translator, status: str | None) -> str:
    if not status:
        return t("claims.status_unknown")
    try:
        return t(f"status.{status.lower()}")
    except KeyError:
        return esc(status)


def _quote(text: str) -> str:
    return f"«{echo(text, QUOTE_SHOWN)}»"


def render_trials(t: Translator, lookups: Sequence[TrialLookup]) -> list[str]:
    """One line per looked-up id: what is known, or why nothing is."""
    lines = []
    for item in lookups:
        ident = esc(item.id)
        if item.found:
            where = t("claims.trial_stored") if item.where == "stored" else t("claims.trial_live")
            line = t(
                "claims.trial_found",
                id=ident,
                title=echo(item.title or "", 150),
                status=_status(t, item.status),
                where=where,
            )
            if item.url:
                line += f'\n<a href="{esc(item.url)}">{esc(item.url)}</a>'
        elif item.found is None:
            line = t("claims.trial_unavailable", id=ident, registry=esc(item.registry))
        elif item.reason == "no_live_registry":
            line = t("claims.trial_no_live", id=ident, registry=esc(item.registry))
        else:
            line = t("claims.trial_not_found", id=ident, registry=esc(item.registry))
        lines.append(f"• {line}")
    return lines


def render_check(result: ClaimCheck, lookups: Sequence[TrialLookup], lang: str) -> str:
    """The whole answer to a text: what it offers, its warning signs quoted, its trials, the
    verdict in plain words, and the fixed ending. Telegram HTML."""
    t = translator(lang)
    parts = [f"<b>{t('claims.head')}</b>"]
    if result.sells and result.offer_quote:
        parts.append(t("claims.sells", quote=_quote(result.offer_quote)))
    elif result.warns:
        parts.append(t("claims.warns"))
    else:
        parts.append(t("claims.not_selling"))
    if result.red_flags:
        lines = [f"<b>{t('claims.signs_head')}</b>"]
        shown: set[str] = set()
        for flag in result.red_flags:
            if flag.flag in shown:
                continue  # the first quote of each sign; `--json` has them all
            shown.add(flag.flag)
            lines.append(f"• <b>{t(f'claims.flag.{flag.flag}')}</b>: {_quote(flag.quote)}")
        parts.append("\n".join(lines))
    else:
        parts.append(t("claims.no_signs"))
    if lookups:
        parts.append("\n".join([f"<b>{t('claims.trials_head')}</b>", *render_trials(t, lookups)]))
    parts.append(t(f"claims.verdict.{result.verdict}"))
    parts.append(t("claims.ending"))
    return "\n\n".join(parts)


def render_ids(lookups: Sequence[TrialLookup], lang: str) -> str:
    """The answer to a message that only names trial numbers (those not stored)."""
    t = translator(lang)
    lines = render_trials(t, lookups)
    if any(item.found is False and item.reason == "not_found" for item in lookups):
        lines.append(t("claims.not_found_is_a_sign"))
    lines.append(t("claims.id_footer"))
    return "\n".join(lines)


# -- the handler ---------------------------------------------------------------------------


def asks_if_legit(text: str) -> bool:
    return bool(LEGIT_QUESTION.search(text))


async def _look_up(context: Context, ids: Sequence[str]) -> list[TrialLookup]:
    deps = Deps.of(context)
    registries: list[Registry] = build_registries(deps.settings)
    try:
        return await look_up(ids, deps.db, registries)
    finally:
        for registry in registries:
            await registry.aclose()


def _pasted_prose(text: str) -> bool:
    """A long text written in words (a pasted page or message), not a long run of one key:
    real prose of this length uses many different characters, in any script."""
    return len(text) >= LONG_TEXT and len(set(text.casefold())) >= MIN_DISTINCT_CHARACTERS


async def answer_text(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    text: str,
    *,
    caption: bool = False,
) -> bool:
    """Answer `text` if it names trials or makes claims to check; False if it does neither
    (then the next reader of plain text answers it)."""
    message = update.effective_message
    forwarded = message is not None and message.forward_origin is not None
    result = check(text, chat.language)
    ids = [ident for _, ident in find_ids(text)]
    question = asks_if_legit(text)
    claims = (
        forwarded
        or caption
        or result.sells
        or bool(result.red_flags)
        or (_pasted_prose(text) and not ids)
    )
    if question and not claims and not ids:
        return await _follow_up(update, context, chat, t)
    if claims or (question and ids):
        lookups = await _look_up(context, ids) if ids else []
        answer = render_check(result, lookups, chat.language or "en")
        if caption:
            answer = f"{t('claims.caption_only')}\n\n{answer}"
        _remember(context, result)
        await reply(update, answer)
        return True
    if ids or find_registry_links(text):
        await _answer_ids(update, context, chat, t, ids)
        return True
    return False


async def _answer_ids(
    update: Update, context: Context, chat: ChatRow, t: Translator, ids: list[str]
) -> None:
    """Stored trials as their /trial card; the others as the registry says, or not found."""
    if not ids:  # a registry link whose address holds no number we can read
        await reply(update, t("claims.link_without_id"))
        return
    lookups = await _look_up(context, ids)
    others = []
    for item in lookups:
        if item.found and item.where == "stored":
            await show_trial(update, context, chat, item.id)
        else:
            others.append(item)
    if others:
        await reply(update, render_ids(others, chat.language or "en"))
    if len(ids) > MAX_IDS:
        await reply(update, t("claims.too_many_ids", count=MAX_IDS))


def _remember(context: Context, result: ClaimCheck) -> None:
    if context.chat_data is not None:
        context.chat_data[_LAST] = (time.monotonic(), result)


async def _follow_up(update: Update, context: Context, chat: ChatRow, t: Translator) -> bool:
    """ "Is this legit??" on its own: about the text checked just before, if any."""
    last = context.chat_data.get(_LAST) if context.chat_data is not None else None
    if last is not None and time.monotonic() - last[0] < FOLLOW_UP_SECONDS:
        result: ClaimCheck = last[1]
        await reply(
            update,
            "\n\n".join([t("claims.follow_up"), t(f"claims.verdict.{result.verdict}")]),
        )
        return True
    await reply(update, "\n\n".join([t("claims.send_the_text"), t("claims.ending")]))
    return True


async def on_forward_or_caption(update: Update, context: Context) -> None:
    """A forwarded message or a photo with a caption, in a private chat: check what it says."""
    message: Message | None = update.effective_message
    if message is None or not is_private(update):
        return
    text = message.text or message.caption or ""
    chat, t = await chat_of(update, context)
    caption = message.text is None and message.caption is not None
    if not text.strip():
        return
    await answer_text(update, context, chat, t, text, caption=caption)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        MessageHandler(
            (
                (filters.FORWARDED & (filters.TEXT | filters.CAPTION))
                | (filters.PHOTO & filters.CAPTION)
            )
            & ~filters.UpdateType.EDITED
            & ~filters.COMMAND,
            on_forward_or_caption,
        )
    )
