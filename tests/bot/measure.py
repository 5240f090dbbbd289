"""Reading-level measurement of alert bodies (shared/domain.md 4.3 and 4.5), for the tests and
`bench/readability` only (textstat is a development dependency).

What is scored is what a person reads: the message's visible text (tags removed, entities
decoded) with registry ids and URLs stripped. English uses Flesch-Kincaid grade, Spanish
Fernández-Huerta; each language has its own `textstatistics` instance because
`textstat.set_lang` on the module is global state. Chinese has no validated formula here.
"""

from __future__ import annotations

import re
from functools import cache

from textstat.textstat import textstatistics

from bot.telegram_text import visible_text

_IDS_AND_URLS = re.compile(
    r"\b(?:NCT\d{8}|ChiCTR[\w-]+|jRCT\w+|ISRCTN\d+|\d{4}-\d{6}-\d{2}(?:-\d{2})?)\b|https?://\S+"
    r"|\btd:\S+"
)


def scored_text(html: str) -> str:
    """The visible text with registry ids and URLs removed: what the formulas score."""
    return _IDS_AND_URLS.sub("", visible_text(html))


@cache
def _stats(lang: str) -> textstatistics:
    stats = textstatistics()
    stats.set_lang({"en": "en_US", "es": "es"}[lang])
    return stats


def fk_grade(html: str) -> float:
    """Flesch-Kincaid grade of an English message (lower is easier; our bound is 8)."""
    return float(_stats("en").flesch_kincaid_grade(scored_text(html)))


def fernandez_huerta(html: str) -> float:
    """Fernández-Huerta score of a Spanish message (higher is easier; our bound is 60)."""
    return float(_stats("es").fernandez_huerta(scored_text(html)))
