"""Trial registry ids: find them in text, write them one canonical way, say which registry.

The same trial is often registered in several registries, and each record names the others
in its secondary ids or somewhere in its text. These patterns (from maia-sh/ctregistries,
shared/registries.md 2.10) find such ids however they are punctuated, and `canonical` writes
each one the same way whichever registry mentions it, so the ids can be compared as strings.

An EU trial has two numbers that mean the same trial: a EudraCT number (`2015-001234-12`) and,
once moved to CTIS, a CTIS number (`2023-512345-12-00`). They are kept apart here; a CTIS
record lists its EudraCT number, which links the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from trialbot.model import Trial


@dataclass(frozen=True)
class IdPattern:
    registry: str
    """Short display name of the registry that issues these ids."""
    pattern: re.Pattern[str]


def _p(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


_A = r"(?<![A-Za-z0-9])"
_Z = r"(?![A-Za-z0-9])"
"""Id edges: not `\\b`, which sees no edge between a Chinese character and a Latin letter or a
digit (both are word characters), so "注册号NCT03545607。" would hide its id."""

# Order matters: CTIS before EudraCT (a CTIS number starts like a EudraCT one).
PATTERNS: tuple[IdPattern, ...] = (
    IdPattern("ClinicalTrials.gov", _p(_A + r"NCT\W{0,2}(0\d{7})" + _Z)),
    IdPattern("EU CTIS", _p(r"(?<![\d-])(20\d{2})-(5\d{5})-(\d{2})-(\d{2})(?![\d-])")),
    IdPattern("EudraCT", _p(r"(?<![\d-])(20\d{2})\W{0,2}(0\d{5})\W{0,2}(\d{2})(?![\d])")),
    IdPattern("ISRCTN", _p(_A + r"ISRCTN\W{0,2}(\d{8})" + _Z)),
    IdPattern("ANZCTR", _p(_A + r"(?:ACTRN|ANZCTR)\W{0,2}(126\d{11})" + _Z)),
    IdPattern("ChiCTR", _p(_A + r"ChiCTR\W{0,2}(\d{8,10}|[A-Z]{3}\W{0,2}\d{8})" + _Z)),
    IdPattern(
        "CTRI",
        _p(
            _A + r"CTRI\W{0,2}/\W{0,2}(20\d{2})\W{0,2}/\W{0,2}(\d{2,3})\W{0,2}/\W{0,2}(0\d{5})" + _Z
        ),
    ),
    IdPattern("DRKS", _p(_A + r"DRKS\W{0,2}(000\d{5})" + _Z)),
    IdPattern("jRCT", _p(_A + r"jRCT\W{0,2}([a-z\d])\W{0,2}(\d{9})" + _Z)),
    IdPattern("UMIN-CTR", _p(_A + r"UMIN\W{0,2}(0000\d{5})" + _Z)),
    IdPattern("CRiS", _p(_A + r"KCT\W{0,2}(00\d{5})" + _Z)),
    IdPattern("IRCT", _p(_A + r"IRCT\W{0,2}(20\d{10,12}N\d{1,3})" + _Z)),
)


_SIX_DIGITS = re.compile(r"\d{6}")


def _canonical(kind: str, groups: tuple[str, ...]) -> str:
    if kind == "ClinicalTrials.gov":
        return f"NCT{groups[0]}"
    if kind == "EU CTIS":
        return "-".join(groups)
    if kind == "EudraCT":
        return "-".join(groups)
    if kind == "ISRCTN":
        return f"ISRCTN{groups[0]}"
    if kind == "ANZCTR":
        return f"ACTRN{groups[0]}"
    if kind == "ChiCTR":
        old = re.fullmatch(r"([A-Za-z]{3})\W*(\d{8})", groups[0])  # ChiCTR-IOR-17012345
        return f"ChiCTR-{old[1].upper()}-{old[2]}" if old else f"ChiCTR{groups[0]}"
    if kind == "CTRI":
        return "CTRI/{}/{}/{}".format(*groups)
    if kind == "DRKS":
        return f"DRKS{groups[0]}"
    if kind == "jRCT":
        return f"jRCT{groups[0].lower()}{groups[1]}"
    if kind == "UMIN-CTR":
        return f"UMIN{groups[0]}"
    if kind == "CRiS":
        return f"KCT{groups[0]}"
    return f"IRCT{groups[0].upper()}"


def find_ids(text: str | None) -> list[tuple[str, str]]:
    """Every (registry, canonical id) mentioned in `text`, without repeats."""
    if not text or not _SIX_DIGITS.search(text):
        return []  # every id pattern holds a run of at least six digits: most text has none
    found: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    for kind in PATTERNS:
        for match in kind.pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue  # part of an id already found (a CTIS number holds a EudraCT shape)
            taken.append(span)
            found.setdefault(_canonical(kind.registry, match.groups()), kind.registry)
    return [(registry, ident) for ident, registry in found.items()]


REGISTRY_HOSTS: tuple[tuple[str, str], ...] = (
    ("clinicaltrials.gov", "ClinicalTrials.gov"),
    ("euclinicaltrials.eu", "EU CTIS"),
    ("clinicaltrialsregister.eu", "EudraCT"),
    ("isrctn.com", "ISRCTN"),
    ("anzctr.org.au", "ANZCTR"),
    ("chictr.org.cn", "ChiCTR"),
    ("ctri.nic.in", "CTRI"),
    ("drks.de", "DRKS"),
    ("jrct.niph.go.jp", "jRCT"),
    ("rctportal.niph.go.jp", "jRCT"),
    ("umin.ac.jp", "UMIN-CTR"),
    ("cris.nih.go.kr", "CRiS"),
    ("irct.behdasht.gov.ir", "IRCT"),
    ("irct.ir", "IRCT"),
    ("trialsearch.who.int", "WHO ICTRP"),
)
"""Registry web sites: a link to one is a registry reference even when the page's address
holds only the registry's internal number (ANZCTR `?id=385146`, ChiCTR `?proj=12345`, CTRI
`?trialid=`), which names no id `find_ids` can read."""

_LINK = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)*("
    + "|".join(re.escape(host) for host, _ in REGISTRY_HOSTS)
    + r")(?:/[^\s<>\"'，。）)]*)?",
    re.IGNORECASE,
)


def find_registry_links(text: str | None) -> list[tuple[str, str]]:
    """Every (registry, link) to a trial registry's web site in `text`, without repeats."""
    if not text or "." not in text:
        return []
    names = {host: name for host, name in REGISTRY_HOSTS}
    found: dict[str, str] = {}
    for match in _LINK.finditer(text):
        found.setdefault(match.group(0).rstrip(".,;:!?"), names[match.group(1).lower()])
    return [(registry, link) for link, registry in found.items()]


def canonical(raw_id: str | None) -> str | None:
    """The canonical form of one id string (`nct 03545607` -> `NCT03545607`), or None."""
    ids = find_ids(raw_id)
    return ids[0][1] if ids else None


def registry_of(raw_id: str | None) -> str | None:
    """The display name of the registry that issued an id, or None if unrecognised."""
    ids = find_ids(raw_id)
    return ids[0][0] if ids else None


def canonical_ids(texts: Iterable[str | None]) -> set[str]:
    return {ident for text in texts for _, ident in find_ids(text)}


_FREE_TEXT_FIELDS = ("brief_title", "official_title", "summary", "detailed_description")


def record_registry(registry: str, registry_id: str) -> str:
    """The registry that issued a record (for a WHO export row, the registry behind it), from
    the adapter's name and the record's id alone."""
    return registry_of(registry_id) or registry


def own_key(trial: Trial) -> str:
    """The key of the record itself: its canonical id, or `registry:id` when unrecognised."""
    return canonical(trial.registry_id) or f"{trial.registry}:{trial.registry_id}"


def link_keys(trial: Trial) -> set[str]:
    """Every key a record can be found under: its own id, aliases, and the ids it names.

    Secondary ids count whatever registry issued them; ids found in titles and descriptions
    count only when another registry issued them (see jobs/merge.py for why).
    """
    keys = {own_key(trial)}
    keys.update(k for a in trial.aliases if (k := canonical(a)))
    for secondary in trial.secondary_ids:
        keys.update(ident for _, ident in find_ids(secondary.id))
    own_registry = registry_of(trial.registry_id)
    for name in _FREE_TEXT_FIELDS:
        text = getattr(trial, name)
        keys.update(ident for reg, ident in find_ids(text) if reg != own_registry)
    return keys


_WHO_ROW_SOURCES: tuple[tuple[str, str], ...] = (
    ("JPRN-JRCT", "jRCT"),
    ("JPRN-UMIN", "UMIN-CTR"),
    ("JPRN-JAPICCTI", "JapicCTI"),
    ("JPRN-JMA", "JMACCT"),
    ("JPRN", "JPRN"),
    ("JRCT", "jRCT"),
    ("UMIN", "UMIN-CTR"),
    ("CHICTR", "ChiCTR"),
    ("ITMCTR", "ITMCTR"),
    ("CTRI", "CTRI"),
    ("ACTRN", "ANZCTR"),
    ("DRKS", "DRKS"),
    ("KCT", "CRiS"),
    ("IRCT", "IRCT"),
    ("RBR", "ReBEC"),
    ("PACTR", "PACTR"),
    ("TCTR", "TCTR"),
    ("LBCTR", "LBCTR"),
    ("SLCTR", "SLCTR"),
    ("RPCEC", "RPCEC"),
    ("PER-", "REPEC"),
    ("NL-OMON", "OMON"),
    ("NTR", "NTR"),
    ("NL", "NTR"),
    ("EUCTR", "EUCTR"),
    ("CTIS", "EU CTIS"),
    ("NCT", "ClinicalTrials.gov"),
    ("ISRCTN", "ISRCTN"),
)
"""Id prefix (upper-cased) -> short display name; more specific prefixes first. Names follow
`PATTERNS` where both name a registry (ClinicalTrials.gov, EU CTIS, UMIN-CTR, CRiS)."""


def source_registry_of(trial_id: str) -> str:
    """The registry an ICTRP TrialID comes from ("ChiCTR2000031319" -> "ChiCTR"), else "WHO ICTRP".

    For display: the alert renderer shows e.g. "ChiCTR (via WHO ICTRP)".
    """
    upper = (trial_id or "").strip().upper()
    for prefix, name in _WHO_ROW_SOURCES:
        if upper.startswith(prefix):
            rest = upper[len(prefix) :]
            # "NL"/"NTR" are short: a digit must follow ("NL7654", "NTR1234").
            if prefix in ("NL", "NTR") and not rest[:1].isdigit():
                continue
            return name
    return "WHO ICTRP"
