"""Every message the code asks for exists in every language it claims to speak."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import callbacks
from bot.handlers.start import COMMANDS
from bot.i18n import LANGUAGES, catalog_path, pick_language, translator

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"""\bt(?:\.plural)?\(\s*f?["']([a-z_.{}]+)["']""")


def keys_of(lang: str, domain: str) -> set[str]:
    with catalog_path(lang, domain).open("rb") as handle:
        return {str(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(handle) if m.id}


def used_keys() -> set[str]:
    """Keys written literally in the handlers (f-string keys are expanded below)."""
    found: set[str] = set()
    for path in (ROOT / "bot" / "handlers").glob("*.py"):
        found |= set(KEY.findall(path.read_text(encoding="utf-8")))
    return found


def expand(key: str) -> set[str]:
    choices = {
        "{c}": ["ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage"],
        "{d}": ["instant", "daily", "weekly"] if "delivery" in key else [str(i) for i in range(7)],
        "{flip}": ["on", "off"],
        "{name}": list(COMMANDS),
        "{chat.delivery}": ["instant", "daily", "weekly"],
        "{chat.digest_weekday}": [str(i) for i in range(7)],
        "{chat.language or 'en'}": list(LANGUAGES),
    }
    for hole, values in choices.items():
        if hole in key:
            return {key.replace(hole, v) for v in values}
    return {key}


def test_every_key_in_the_handlers_is_in_english_and_spanish() -> None:
    wanted = {k for key in used_keys() if "." in key for k in expand(key)}
    assert len(wanted) > 100
    for lang in ("en", "es"):
        missing = {k for k in wanted if "{" not in k} - keys_of(lang, "bot")
        assert not missing, (lang, sorted(missing))


def test_english_and_spanish_catalogs_are_complete_and_consistent() -> None:
    en, es = keys_of("en", "bot"), keys_of("es", "bot")
    assert en == es
    t_en, t_es = translator("en"), translator("es")
    for key in en:
        holes_en = set(re.findall(r"\{\w+\}", t_en._lookup(key, None)))
        holes_es = set(re.findall(r"\{\w+\}", t_es._lookup(key, None)))
        assert holes_en == holes_es, key


@pytest.mark.parametrize("domain", ["bot", "alerts"])
def test_every_language_has_every_key_with_the_same_placeholders(domain: str) -> None:
    en = keys_of("en", domain)
    t_en = translator("en", domain)
    for lang in LANGUAGES:
        assert keys_of(lang, domain) == en, (lang, sorted(keys_of(lang, domain) ^ en))
        t = translator(lang, domain)
        for key in en:
            holes = set(re.findall(r"\{\w+\}", t._lookup(key, None)))
            assert holes == set(re.findall(r"\{\w+\}", t_en._lookup(key, None))), (lang, key)


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        (None, "en"),
        ("es-ES", "es"),
        ("es", "es"),
        ("zh-hans", "zh"),
        ("zh-TW", "zh"),
        ("pt-br", "en"),
        ("", "en"),
    ],
)
def test_language_from_telegram(code: str | None, lang: str) -> None:
    assert pick_language(code) == lang


def test_missing_translation_falls_back_to_english() -> None:
    assert translator("zh")("lang.en") == "English"
    with pytest.raises(KeyError):
        translator("en")("no.such.key")


def test_callback_data_stays_within_64_bytes() -> None:
    longest = callbacks.encode(callbacks.TRIAL_DETAILS, "ctgov", "NCT" + "9" * 8)
    assert len(longest.encode()) <= 64
    with pytest.raises(ValueError):
        callbacks.encode(callbacks.TRIAL_DETAILS, "ctgov", "x" * 60)
    for forged in ("td:ctgov", "td:a:b:c", "nope:1", "td:ctgov:<b>", "é" * 40, None):
        with pytest.raises(callbacks.BadCallback):
            callbacks.decode(forged)
