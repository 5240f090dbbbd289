"""Message catalogs: every word a user reads comes from here.

Code refers to messages by symbolic keys (`start.intro`); the English catalog holds the
English text like any other language, so no user-facing text lives in handler or renderer
code. Catalogs are gettext `.po` files under `bot/locales/<lang>/LC_MESSAGES/<domain>.po`,
loaded with Babel at first use (no compile step, the `.po` is the source of truth):

- domain `bot`: the conversation (commands, buttons, replies);
- domain `alerts`: alert rendering and safety caveats.

A key missing from a language falls back to English; a key missing from English is a bug
(`tests/bot/test_i18n.py` checks every key used in code exists in every catalog).
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("en", "es", "zh")
"""English and Spanish are complete; "zh" is simplified Chinese."""
DEFAULT_LANGUAGE = "en"
DOMAINS = ("bot", "alerts")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "zh": "简体中文"}


def pick_language(code: str | None) -> str:
    """Our language for a Telegram `language_code` ("es-ES" -> "es", "zh-hans" -> "zh")."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.replace("_", "-").split("-")[0].lower()
    if base == "zh":
        # Only simplified Chinese is offered; traditional-script locales still read it.
        return "zh"
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def catalog_path(lang: str, domain: str) -> Any:
    return resources.files("bot") / "locales" / lang / "LC_MESSAGES" / f"{domain}.po"


@cache
def _translations(lang: str, domain: str) -> Translations:
    path = catalog_path(lang, domain)
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang if lang != "zh" else "zh_Hans", domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


@cache
def _keys(lang: str, domain: str) -> frozenset[str]:
    with catalog_path(lang, domain).open("rb") as handle:
        catalog = read_po(handle, domain=domain)
    return frozenset(str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id)


class Translator:
    """Look up messages for one language and domain; English when a key is not translated."""

    def __init__(self, lang: str, domain: str = "bot") -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.domain = domain

    def _lookup(self, key: str, count: int | None) -> str:
        for lang in (self.lang, DEFAULT_LANGUAGE):
            if key in _keys(lang, self.domain):
                t = _translations(lang, self.domain)
                if count is None:
                    return t.gettext(key)
                return t.ngettext(key, key, count)
        raise KeyError(f"message {key!r} is missing from the {self.domain} catalog")

    def __call__(self, key: str, /, **values: Any) -> str:
        """The message for `key`, with `{name}` placeholders filled (values are not escaped)."""
        text = self._lookup(key, None)
        return text.format(**values) if values else text

    def plural(self, key: str, count: int, /, **values: Any) -> str:
        """A message whose wording depends on `count` (msgid_plural entries)."""
        return self._lookup(key, count).format(count=count, **values)


def translator(lang: str | None, domain: str = "bot") -> Translator:
    return Translator(pick_language(lang) if lang not in LANGUAGES else str(lang), domain)
