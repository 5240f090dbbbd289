"""Helpers every registry record module (`*_record.py`) shares.

Why here: each registry's normaliser turns a different format into the same `Trial`, but the
chores are the same - make registry text plain, read JSON without trusting its shape, order
sites so a reordered record keeps its fingerprint, keep only the contacts a reader can reach,
and log an unknown value once rather than on every record. Each record module keeps only
what is its own (its markup, its sentinels, its vocabulary).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from trialbot import metrics
from trialbot.model import Contact, Reference, Site, reference_order

_BLANK_RUN = re.compile(r"\n{3,}")
_PUBMED_URL = re.compile(
    r"^https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/(\d{1,9})/?$",
    re.I,
)
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.I)
_URL = re.compile(r"https?://[^\s<>\"]+", re.I)
_CONTACT_PLACEHOLDERS = frozenset(
    {
        "n/a",
        "na",
        "n.a",
        "nil",
        "nil known",
        "none",
        "none known",
        "null",
        "not applicable",
        "not available",
        "not known",
        "not provided",
        "not specified",
        "unknown",
    }
)


def unescape_html(
    text: str, *, rounds: int, needed: Callable[[str], object] = lambda t: "&" in t
) -> str:
    """Undo HTML escaping up to `rounds` times: registries escape some text twice
    (`&amp;lt;br&amp;gt;`). Stops early once `needed` says nothing is left or nothing changes."""
    for _ in range(rounds):
        if not needed(text):
            break
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text


def plain_newlines(text: str) -> str:
    """CRLF and CR as LF, no-break spaces as spaces."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")


def squash_spaces(line: str) -> str:
    """One line with every run of white space as one space, none at the ends."""
    return " ".join(line.split())


def tidy_lines(text: str, line: Callable[[str], str] = str.strip) -> str:
    """Each line through `line`, at most one blank line in a row, none around the text."""
    joined = "\n".join(line(part) for part in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", joined).strip()


def dict_at(parent: Any, key: str) -> dict[str, Any]:
    """`parent[key]` if both are JSON objects, else {} (records omit or mistype keys)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def list_at(parent: Any, key: str) -> list[Any]:
    """`parent[key]` if it is a list, else []."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def site_order(site: Site) -> tuple[str, str, str]:
    """Sort key of a record's sites: by country (unmapped last), city, then identity, so a
    registry listing the same sites in another order gives the same trial."""
    return (site.country or "~", site.city or "", site.key)


def is_placeholder(text: str) -> bool:
    """True for text that stands for nothing: "N/A", "NA", "none", "-", "Not applicable"."""
    squashed = squash_spaces(text)
    return not any(ch.isalnum() for ch in squashed) or (
        squashed.casefold().rstrip(".") in _CONTACT_PLACEHOLDERS
    )


def contact_text(value: object) -> str | None:
    """One contact field on one line; a placeholder ("N/A", "Nil known", "-", "none") -> None."""
    if not isinstance(value, str):
        return None
    text = squash_spaces(value)
    return None if is_placeholder(text) else text


def contact(name: object, role: object, phone: object, email: object) -> Contact | None:
    """A `Contact` from registry fields, or None when it cannot be reached.

    A phone needs at least three digits ("1-877-ALNYLAM" is a real one) and an email an "@":
    anything else there is a note, not a way to reach anyone.
    """
    number = contact_text(phone)
    if number is not None and sum(ch.isdigit() for ch in number) < 3:
        number = None
    address = contact_text(email)
    if address is not None and "@" not in address:
        address = None
    if number is None and address is None:
        return None
    return Contact(name=contact_text(name), role=contact_text(role), phone=number, email=address)


def unique_contacts(found: Iterable[Contact | None]) -> tuple[Contact, ...]:
    """Reachable contacts in the registry's order (the first is the main one), each person once.

    The same name, phone and email under another role (a sponsor's call centre listed as both
    the public and the scientific contact; a site's contact who is also its investigator) is a
    duplicate: the first entry, with its role, is kept.
    """
    kept: dict[tuple[str | None, str | None, str | None], Contact] = {}
    for item in found:
        if item is not None:
            kept.setdefault((item.name, item.phone, item.email), item)
    return tuple(kept.values())


class WarnOnce:
    """Log an unknown value (status word, phase, country...) the first time it is seen, and
    count every time it is met (`trialbot_unknown_values_total{registry,kind}`), so a registry
    that starts sending a new code shows on the dashboard, not only once in a log.

    A months-long service meets new values for ever, so at most `limit` distinct (kind, value)
    pairs are remembered, the oldest forgotten first; one forgotten and seen again is logged
    again, which is harmless. Values compare case-insensitively.
    """

    def __init__(
        self, logger: logging.Logger, registry: str, *, note: str = "", limit: int = 2000
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self._log = logger
        self._registry = registry
        self._note = note
        self._limit = limit
        self._seen: dict[tuple[str, str], None] = {}  # insertion-ordered: oldest first

    def __call__(self, kind: str, value: object, record_id: str) -> None:
        metrics.UNKNOWN_VALUES.labels(self._registry, kind).inc()
        key = (kind, str(value).casefold())
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > self._limit:
            del self._seen[next(iter(self._seen))]
        shown = value[:80] if isinstance(value, str) else value
        self._log.warning(
            "%s: unknown %s %r (first seen in %s)%s",
            self._registry,
            kind,
            shown,
            record_id,
            self._note,
        )

    def __len__(self) -> int:
        return len(self._seen)


def urls_in(text: str) -> list[str]:
    """Every http(s) address in a text, in order, each once, without trailing punctuation."""
    found = (u.rstrip(".,;:)]}'") for u in _URL.findall(text))
    return list(dict.fromkeys(u for u in found if u))


def ids_from_url(url: str) -> tuple[str | None, str | None]:
    """(PMID, DOI) a link names: a PubMed article page ("https://pubmed.ncbi.nlm.nih.gov/123/",
    "http://www.ncbi.nlm.nih.gov/pubmed/123") gives its PMID, a doi.org link its DOI; any
    other address neither (a query such as "pubmed/?term=..." is no article)."""
    address = url.strip()
    if match := _PUBMED_URL.match(address):
        return match.group(1), None
    if match := _DOI_URL.match(address):
        return None, unquote(match.group(1)).rstrip(".")
    return None, None


def sorted_references(found: Iterable[Reference | None]) -> tuple[Reference, ...]:
    """A record's references, each once, in `reference_order` (a reordered list is no change)."""
    unique = {ref: None for ref in found if ref is not None}
    return tuple(sorted(unique, key=reference_order))
