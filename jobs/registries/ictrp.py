"""The WHO ICTRP weekly full export (CSV, or a .zip holding one CSV) as a `Registry`; the
ICTRP portal's "Export to XML" file is read too, as a second format of the same rows.

What the export is (shared/registries.md 2.4): one row per registry record of ~17 primary
registries, 700,000+ rows, hundreds of MB. The bot reads it for the registries it has no
adapter of its own for (ChiCTR, jRCT/JPRN, CTRI, ANZCTR, DRKS, CRiS, IRCT, ...). Decisions:

* Layout. The full export has NO header row; its 63 columns are in the documented order
  (`ictrp_record.COLUMNS`; evidence: the MDR importers read it with `has_headers(false)` /
  `HasHeaderRecord = false` and 63 fields, worcjamessmith/COVID-trial-characteristics reads it
  with `col_names = F`). A file whose first cell is "TrialID" is read by its header instead,
  names matched case-insensitively, extra columns ignored, missing ones empty. Without a header,
  a row must have exactly 63 cells: mapping another width by position could silently put text
  in the wrong field (WHO inserted columns mid-row before), so a file with no such row among its
  first rows fails loudly instead.
* The portal's XML export (`<Trials_downloaded_from_ICTRP>` holding one `<Trial>` per record,
  one child element per field: `<TrialID>`, `<Public_title>`, `<Secondary_Sponsor>`, ...) is
  told from CSV by its first bytes, never by the file name, in a file, a zip or a download. Each
  `<Trial>` becomes the same row shape as a CSV row ({export column name: text}, names through
  `ictrp_record.canonical_column`), so one normaliser and one pre-filter serve both. It is
  streamed with `iterparse`, each finished `<Trial>` cleared from the tree, so memory stays flat
  whatever the file's size; a DOCTYPE is refused (no entity is ever declared or expanded), as
  is XML with another root.
* Streaming. A file is read row by row (`csv.reader` over a `TextIOWrapper`, UTF-8 with or
  without BOM, undecodable bytes replaced); a zip member is streamed with
  `zipfile.ZipFile.open`; a URL is downloaded in chunks to a temporary file first (a zip needs
  seeking) and kept while its ETag/Last-Modified stay the same, so the id re-check does not
  download it again. Scanning runs in a worker thread, page by page, so the event loop (the
  Telegram bot) is never blocked by a 700,000-row file.
* Cheap pre-filter. Before anything is parsed, a row must name a stroke word (stroke, cerebral,
  haemorrhage, infarct, ...) in its titles or conditions AND a cell-therapy word (stem cell,
  mesenchymal, cord blood, exosome, ...) in its titles or interventions (the words are those of
  jobs/search_terms.py, lower-cased, plus stems it keeps for this filter); rows from registries the
  bot polls directly (NCT -> ctgov, ISRCTN -> isrctn, CTIS -> ctis, EUCTR -> euctr) are skipped
  and counted, because that registry's own adapter gives a richer record. The classifier
  downstream decides what is really relevant.
* Incremental. The export is always complete, so `changed_since(since)` reads the whole file;
  rows whose Last_Refreshed_on is older than `since - refresh_margin` (14 days: a weekly file can
  be a few days old when fetched) are dropped; rows without a readable date are kept.
  `data_version()` is "<mtime>|size=...|mtime_ns=...|<name>" for a file and
  "<Last-Modified as ISO>|etag=..." from a HEAD request for a URL (None if it has neither);
  the poller skips the poll while it is unchanged, and takes the watermark from its leading date.
* Bad input. A row with the wrong number of cells or no TrialID is logged and skipped (counted
  in `last_scan.malformed`); so is a row the csv module rejects (field over the size limit).
  A file that is none of the formats (HTML error page, JSON, XML of another kind), a broken zip
  or XML, an empty file, a file whose first rows are all malformed, or 1,000 malformed rows in a
  row (mis-quoting that swallowed the rest of the file) raise `RegistryError` (the format errors
  as its subclass `IctrpFormatError`), so the poll fails instead of storing half an answer.

Settings: `ICTRP_EXPORT` (path or http(s) URL), `HTTP_TIMEOUT_SECONDS`, `HTTP_MAX_RETRIES`, and
the `*_ENABLED` flags of the directly polled registries (see `skip_registries_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import email.utils
import functools
import io
import logging
import os
import re
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Final
from urllib.parse import urlsplit

from jobs import search_terms
from jobs.registries import ictrp_record
from jobs.registries.base import RawRecord, RegistryError
from jobs.registries.http import DEFAULT_HTTP, HttpOptions, RegistryClient
from jobs.registries.ictrp_record import COLUMNS, canonical_column, clean_text
from trialbot.model import Trial
from trialbot.settings import Settings

log = logging.getLogger(__name__)

NAME: Final = "ictrp"
DEFAULT_PAGE_SIZE: Final = 200
DEFAULT_FIELD_SIZE_LIMIT: Final = 16 * 1024 * 1024
"""csv's default (128 KiB) is smaller than some real cells (results, criteria)."""
REFRESH_MARGIN: Final = timedelta(days=14)
LAYOUT_PROBE_ROWS: Final = 50
"""Without a good row among this many first data rows the file is not the export's layout."""
MAX_CONSECUTIVE_BAD: Final = 1000
"""This many malformed rows in a row mean the quoting went wrong and the rest is unreadable."""
CHUNK_BYTES: Final = 1 << 16
XML_ROOT: Final = "Trials_downloaded_from_ICTRP"
XML_TRIAL: Final = "Trial"
SNIFF_BYTES: Final = 4096
"""Bytes read to tell the format; an XML export's DOCTYPE, if any, is within them."""


class IctrpFormatError(RegistryError):
    """The file is none of the formats the adapter reads: the export CSV (with or without its
    header row), a zip holding one, or the portal's XML export."""


CONDITION_WORDS: Final = search_terms.substrings(
    search_terms.STROKE_TERMS, search_terms.STROKE_SUBSTRINGS
)
"""Stroke vocabulary for the pre-filter (lower-case substrings, from jobs/search_terms.py)."""

CELL_WORDS: Final = search_terms.substrings(search_terms.CELL_TERMS, search_terms.CELL_SUBSTRINGS)
"""Cell-therapy vocabulary for the pre-filter (lower-case substrings, from jobs/search_terms.py)."""

_CONDITION_RE = re.compile("|".join(re.escape(w) for w in CONDITION_WORDS))
_CELL_RE = re.compile("|".join(re.escape(w) for w in CELL_WORDS))

DIRECT_REGISTRIES: Final[tuple[tuple[str, str], ...]] = (
    ("NCT", "ctgov"),
    ("ISRCTN", "isrctn"),
    ("CTIS", "ctis"),
    ("EUCTR", "euctr"),
)
"""TrialID prefix -> the key of the adapter that polls that registry directly."""


def registry_key_of(trial_id: str) -> str | None:
    """The adapter key of a directly polled registry for a TrialID ("NCT01234567" -> "ctgov")."""
    upper = trial_id.strip().upper()
    for prefix, key in DIRECT_REGISTRIES:
        if upper.startswith(prefix):
            return key
    return None


def skip_registries_for(settings: Settings) -> frozenset[str]:
    """Registries polled directly in this deployment, whose ICTRP copies are skipped.

    EUCTR rows go with CTIS: the EU's registers are polled through the CTIS adapter.
    """
    keys: set[str] = set()
    if settings.ctgov_enabled:
        keys.add("ctgov")
    if settings.isrctn_enabled:
        keys.add("isrctn")
    if settings.ctis_enabled:
        keys |= {"ctis", "euctr"}
    return frozenset(keys)


@dataclass
class ScanStats:
    """What one pass over the export saw."""

    rows_read: int = 0
    """Data rows the csv module returned (header and blank lines not counted)."""
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    """Rows of directly polled registries, by registry key."""
    filtered_out: int = 0
    """Rows without stroke and cell-therapy words (pre-filter)."""
    older: int = 0
    """Rows refreshed before the incremental cutoff."""
    malformed: int = 0
    """Rows skipped as unreadable: wrong number of cells, no TrialID, csv errors."""
    header: bool = False

    def summary(self) -> str:
        skipped = ", ".join(f"{k} {n}" for k, n in sorted(self.skipped.items())) or "none"
        return (
            f"read {self.rows_read} rows, kept {self.kept}, skipped {sum(self.skipped.values())} "
            f"({skipped}), filtered out {self.filtered_out}, older {self.older}, "
            f"malformed {self.malformed}"
        )


@dataclass(frozen=True)
class _Selection:
    skip: frozenset[str] = frozenset()
    prefilter: bool = True
    cutoff: date | None = None
    ids: frozenset[str] | None = None
    """casefolded TrialIDs; when set, only these rows (no other filter applies)."""


class _Layout:
    """Where the columns the scan looks at are, by header or by the documented order."""

    def __init__(self, names: tuple[str, ...], *, header: bool) -> None:
        self.names = names
        self.header = header
        self.width = len(names)
        self.id_at = self.index("TrialID")
        self.title_at = [
            i for i in (self.index("public_title"), self.index("Scientific_title")) if i is not None
        ]
        self.condition_at = self.index("Conditions")
        self.intervention_at = self.index("Interventions")
        self.refreshed_at = self.index("Last_Refreshed_on")

    def index(self, column: str) -> int | None:
        try:
            return self.names.index(column)
        except ValueError:
            return None


def _layout_of(first: list[str]) -> _Layout | None:
    """Header layout if the first row is a header, else None (the documented order)."""
    if not first or (clean_text(first[0]) or "").casefold() != "trialid":
        return None
    names = tuple(canonical_column(clean_text(c) or f"column_{i + 1}") for i, c in enumerate(first))
    return _Layout(names, header=True)


_POSITIONAL = _Layout(COLUMNS, header=False)


def _cell(cells: list[str], at: int | None) -> str:
    return cells[at] if at is not None and at < len(cells) else ""


def _passes_prefilter(titles: str, conditions: str, interventions: str) -> bool:
    """Stroke words in the titles or conditions AND cell words in the titles or interventions."""
    titles, conditions = titles.lower(), conditions.lower()
    if not (_CONDITION_RE.search(titles) or _CONDITION_RE.search(conditions)):
        return False
    return bool(_CELL_RE.search(titles) or _CELL_RE.search(interventions.lower()))


def _row_passes_prefilter(cells: list[str], layout: _Layout) -> bool:
    return _passes_prefilter(
        " ".join(cells[i] for i in layout.title_at),
        _cell(cells, layout.condition_at),
        _cell(cells, layout.intervention_at),
    )


def _sniff(head: bytes, where: str) -> str:
    """ "zip", "xml" or "csv" from the first bytes; IctrpFormatError for an empty file, an HTML
    page, a DOCTYPE (no entity is ever expanded) or JSON."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if not stripped:
        raise IctrpFormatError(f"ictrp export {where} is empty")
    if stripped.startswith((b"<html", b"<head", b"<body")) or b"<!doctype" in stripped:
        raise IctrpFormatError(
            f"ictrp export {where} is HTML (or XML with a DOCTYPE), not an ICTRP export "
            "(CSV, zip or the portal's XML)"
        )
    if stripped.startswith(b"<"):
        return "xml"
    if stripped.startswith((b"{", b"[")):
        raise IctrpFormatError(
            f"ictrp export {where} is JSON, not an ICTRP export (CSV, zip or the portal's XML)"
        )
    return "csv"


def _export_member(archive: zipfile.ZipFile, where: str) -> zipfile.ZipInfo:
    files = [
        i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
    ]
    exports = [i for i in files if i.filename.lower().endswith((".csv", ".xml"))]
    if len(exports) == 1:
        return exports[0]
    if not exports and len(files) == 1:
        return files[0]
    names = ", ".join(i.filename for i in files[:5]) or "nothing"
    raise IctrpFormatError(
        f"ictrp export {where}: expected one CSV (or XML) in the zip, found {names}"
    )


def _open_binary(path: Path, stack: contextlib.ExitStack) -> tuple[str, IO[bytes]]:
    """("csv" or "xml", the export's bytes): the file itself or the one export in its zip."""
    where = path.name
    try:
        raw = stack.enter_context(path.open("rb"))
        kind = _sniff(raw.read(SNIFF_BYTES), where)
        raw.seek(0)
        binary: IO[bytes] = raw
        if kind == "zip":
            archive = stack.enter_context(zipfile.ZipFile(raw))
            member = _export_member(archive, where)
            with archive.open(member) as probe:
                kind = _sniff(probe.read(SNIFF_BYTES), f"{where}:{member.filename}")
            if kind == "zip":
                raise IctrpFormatError(f"ictrp export {where} holds a zip, not the export")
            binary = stack.enter_context(archive.open(member))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise IctrpFormatError(f"ictrp export {where} is not a readable zip: {exc}") from None
    except OSError as exc:
        raise RegistryError(f"ictrp export {where} cannot be read: {exc}") from None
    return kind, binary


class _Picker:
    """What a selection keeps, one record at a time, for the CSV and the XML reader alike."""

    def __init__(self, selection: _Selection, stats: ScanStats) -> None:
        self.selection = selection
        self.stats = stats
        self.remaining = set(selection.ids) if selection.ids is not None else None

    def keep(
        self, trial_id: str, prefilter: Callable[[], bool], refreshed: Callable[[], str]
    ) -> bool:
        """Whether the record goes out; counts why not. The callables are only called when
        needed: building the pre-filter text is most of a row's cost."""
        stats, selection = self.stats, self.selection
        if self.remaining is not None:
            if trial_id.casefold() not in self.remaining:
                return False
            self.remaining.discard(trial_id.casefold())
        else:
            key = registry_key_of(trial_id)
            if key is not None and key in selection.skip:
                stats.skipped[key] += 1
                return False
            if selection.prefilter and not prefilter():
                stats.filtered_out += 1
                return False
            if selection.cutoff is not None:
                when = ictrp_record.refreshed_on(refreshed())
                if when is not None and when < selection.cutoff:
                    stats.older += 1
                    return False
        stats.kept += 1
        return True

    @property
    def done(self) -> bool:
        """Every wanted id found: the rest of the file cannot add one."""
        return self.remaining is not None and not self.remaining


def scan_export(
    path: Path,
    selection: _Selection,
    stats: ScanStats,
    *,
    field_size_limit: int = DEFAULT_FIELD_SIZE_LIMIT,
) -> Generator[RawRecord, None, None]:
    """Rows of the export that `selection` keeps, as {column: raw cell}, streamed.

    The format (CSV, zip, the portal's XML) is told by content. Sets the csv module's
    (process-wide) field size limit while a CSV is read (see `_field_size_limit`).
    """
    with contextlib.ExitStack() as stack:
        kind, binary = _open_binary(path, stack)
        if kind == "xml":
            yield from _scan_xml(binary, path, selection, stats)
            return
        text = stack.enter_context(
            io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")
        )
        reader = csv.reader(text)
        stack.enter_context(_field_size_limit(field_size_limit))
        layout: _Layout | None = None
        good = bad_run = 0
        picker = _Picker(selection, stats)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                stats.rows_read += 1
                bad_run = _malformed(path, stats, bad_run, good, f"line {reader.line_num}: {exc}")
                continue
            except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
                raise RegistryError(
                    f"ictrp export {path.name} broke off at line {reader.line_num}: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if layout is None:
                header = _layout_of(cells)
                layout = header or _POSITIONAL
                stats.header = header is not None
                if header is not None:
                    if header.id_at is None:  # pragma: no cover - _layout_of checked it
                        raise RegistryError("ictrp export header has no TrialID column")
                    continue
            stats.rows_read += 1
            if len(cells) > layout.width and not any(c.strip() for c in cells[layout.width :]):
                cells = cells[: layout.width]  # trailing empty cells (a trailing comma)
            if len(cells) != layout.width:
                bad_run = _malformed(
                    path,
                    stats,
                    bad_run,
                    good,
                    f"line {reader.line_num}: {len(cells)} cells, expected {layout.width}",
                )
                continue
            trial_id = " ".join((clean_text(cells[layout.id_at or 0]) or "").split())
            if not trial_id:
                bad_run = _malformed(
                    path, stats, bad_run, good, f"line {reader.line_num}: no TrialID"
                )
                continue
            good += 1
            bad_run = 0
            if not picker.keep(
                trial_id,
                functools.partial(_row_passes_prefilter, cells, layout),
                functools.partial(_cell, cells, layout.refreshed_at),
            ):
                continue
            yield {
                name: value.replace("\x00", "")
                for name, value in zip(layout.names, cells, strict=True)
            }
            if picker.done:
                return
        if stats.rows_read == 0:
            raise IctrpFormatError(f"ictrp export {path.name} has no data rows")
        if good == 0:
            raise IctrpFormatError(_layout_message(path.name, stats))


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_row(trial: ET.Element) -> dict[str, str]:
    """One `<Trial>` as the CSV row shape: {export column name: text}; the first non-empty of
    two elements that name the same column wins (as `ictrp_record.canonical_row` does)."""
    row: dict[str, str] = {}
    for child in trial:
        name = canonical_column(_local_name(child.tag))
        text = "".join(child.itertext()).replace("\x00", "")
        if name not in row or not row[name].strip():
            row[name] = text
    return row


def _xml_passes_prefilter(row: dict[str, str]) -> bool:
    return _passes_prefilter(
        f"{row.get('public_title', '')} {row.get('Scientific_title', '')}",
        row.get("Conditions", ""),
        row.get("Interventions", ""),
    )


def _xml_refreshed(row: dict[str, str]) -> str:
    return row.get("Last_Refreshed_on", "")


def _scan_xml(
    binary: IO[bytes], path: Path, selection: _Selection, stats: ScanStats
) -> Generator[RawRecord, None, None]:
    """The `<Trial>` records of the portal's XML export that `selection` keeps, streamed:
    each is cleared from the tree once read, so memory does not grow with the file."""
    stats.header = True  # the fields are named, as in a CSV with a header row
    picker = _Picker(selection, stats)
    good = bad_run = depth = 0
    root: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(binary, events=("start", "end")):
            if event == "start":
                depth += 1
                if root is None:
                    root = elem
                    if _local_name(elem.tag) != XML_ROOT:
                        raise IctrpFormatError(
                            f"ictrp export {path.name} is XML but not the ICTRP portal's export "
                            f"(root <{_local_name(elem.tag)}>, expected <{XML_ROOT}>)"
                        )
                continue
            depth -= 1
            if depth != 1 or _local_name(elem.tag) != XML_TRIAL:
                continue
            row = _xml_row(elem)
            if root is not None:
                root.clear()  # the finished <Trial> (and any before it) leaves the tree
            stats.rows_read += 1
            trial_id = " ".join((clean_text(row.get("TrialID")) or "").split())
            if not trial_id:
                bad_run = _malformed(
                    path, stats, bad_run, good, f"<Trial> {stats.rows_read}: no TrialID"
                )
                continue
            good += 1
            bad_run = 0
            if not picker.keep(
                trial_id,
                functools.partial(_xml_passes_prefilter, row),
                functools.partial(_xml_refreshed, row),
            ):
                continue
            yield row
            if picker.done:
                return
    except ET.ParseError as exc:
        raise IctrpFormatError(
            f"ictrp export {path.name} is not well-formed XML after {stats.rows_read} "
            f"record(s): {exc}"
        ) from None
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise RegistryError(
            f"ictrp export {path.name} broke off after {stats.rows_read} record(s): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if stats.rows_read == 0:
        raise IctrpFormatError(f"ictrp export {path.name} has no <{XML_TRIAL}> records")
    if good == 0:
        raise IctrpFormatError(f"ictrp export {path.name}: no <{XML_TRIAL}> has a <TrialID>")


def iter_rows(
    path: str | os.PathLike[str], *, field_size_limit: int = DEFAULT_FIELD_SIZE_LIMIT
) -> Generator[RawRecord, None, None]:
    """Every well-formed row of an export file (CSV, zip or XML), unfiltered, streamed."""
    return scan_export(
        Path(path), _Selection(prefilter=False), ScanStats(), field_size_limit=field_size_limit
    )


def read_saved(path: Path) -> Iterator[RawRecord]:
    """Every record of a saved ICTRP answer, for `trialbot parse`: the export CSV with or
    without its header row, a zip holding one, or the portal's XML export, told by content.
    A file that is none of these raises `IctrpFormatError`."""
    yield from iter_rows(path)


def _first_trial_id(path: Path, field_size_limit: int) -> str:
    rows = iter_rows(path, field_size_limit=field_size_limit)
    try:
        first = next(rows, None)
    finally:
        rows.close()
    if first is None:  # pragma: no cover - scan_export raises first
        raise RegistryError(f"ictrp export {path.name} has no data rows")
    return str(first.get("TrialID", "")).strip()


def _layout_message(where: str, stats: ScanStats) -> str:
    expected = "the header's columns" if stats.header else f"{len(COLUMNS)} cells"
    return (
        f"ictrp export {where}: none of the first {stats.rows_read} rows has {expected} and a "
        f"TrialID; not the ICTRP export layout (add a header row, or update ictrp_record.COLUMNS)"
    )


def _malformed(path: Path, stats: ScanStats, bad_run: int, good: int, reason: str) -> int:
    stats.malformed += 1
    bad_run += 1
    if stats.malformed <= 20:
        log.warning("ictrp: skipped a malformed row (%s)", reason[:200])
    elif stats.malformed == 21:
        log.warning("ictrp: more malformed rows; only counting them from now on")
    if good == 0 and stats.rows_read >= LAYOUT_PROBE_ROWS:
        raise IctrpFormatError(_layout_message(path.name, stats))
    if bad_run >= MAX_CONSECUTIVE_BAD:
        raise RegistryError(
            f"ictrp export {path.name}: {bad_run} malformed rows in a row ({reason[:120]}); "
            "the file is cut or mis-quoted"
        )
    return bad_run


_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved = 0


@contextlib.contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """Set csv's process-wide field size limit while scans run; restore it after the last one."""
    global _limit_users, _limit_saved
    with _limit_lock:
        previous = csv.field_size_limit(limit)
        if _limit_users == 0:
            _limit_saved = previous
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                csv.field_size_limit(_limit_saved)


def _take(rows: Generator[RawRecord, None, None], n: int) -> tuple[list[RawRecord], bool]:
    page: list[RawRecord] = []
    for row in rows:
        page.append(row)
        if len(page) >= n:
            return page, False
    return page, True


@dataclass
class _Download:
    path: Path
    version: str | None
    fetched_at: float


def _is_url(source: str) -> bool:
    return re.match(r"^https?://", source.strip(), re.I) is not None


class IctrpExport(RegistryClient):
    """The ICTRP full export (local file or URL) as a `Registry`."""

    name = NAME
    setting = "ICTRP_EXPORT"
    ids_per_fetch: int | None = 1_000_000
    """`fetch_ids` scans the whole file once whatever the number of ids: the re-check asks for
    all of them at once instead of one scan per REFRESH_BATCH_SIZE ids."""
    accept = (
        "text/csv, application/zip, application/xml, text/xml, application/octet-stream;q=0.9, "
        "*/*;q=0.5"
    )

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        skip_registries: frozenset[str] = frozenset(),
        page_size: int = DEFAULT_PAGE_SIZE,
        refresh_margin: timedelta = REFRESH_MARGIN,
        field_size_limit: int = DEFAULT_FIELD_SIZE_LIMIT,
        download_dir: str | os.PathLike[str] | None = None,
        cache_seconds: float = 3600.0,
        http: HttpOptions = DEFAULT_HTTP,
    ) -> None:
        text = os.fspath(source).strip()
        if not text:
            raise ValueError("the ICTRP export path or URL is empty (ICTRP_EXPORT)")
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        parts = urlsplit(text)
        super().__init__(f"{parts.scheme}://{parts.netloc}" if _is_url(text) else None, http)
        self.source = text
        self.skip_registries = frozenset(skip_registries)
        self.page_size = page_size
        self.refresh_margin = refresh_margin
        self.field_size_limit = field_size_limit
        self.cache_seconds = cache_seconds
        self.last_scan: ScanStats | None = None
        """Counts of the last finished (or failed) pass over the file."""
        self._download_dir = Path(download_dir) if download_dir is not None else None
        self._download: _Download | None = None
        self._path: Path | None = None
        self._target = ""
        if self.is_url:
            self._target = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        else:
            local = parts.path if text.lower().startswith("file://") else text
            self._path = Path(local).expanduser()

    @classmethod
    def from_settings(cls, settings: Settings) -> IctrpExport:
        """The production client: ICTRP_EXPORT, skipping what this deployment polls directly."""
        return cls(
            settings.ictrp_export,
            skip_registries=skip_registries_for(settings),
            http=HttpOptions.from_settings(settings),
        )

    @property
    def is_url(self) -> bool:
        return self._connection is not None

    async def aclose(self) -> None:
        self._drop_download()
        await super().aclose()

    # -- Registry API ------------------------------------------------------------------------

    async def data_version(self) -> str | None:
        if not self.is_url:
            return self._file_version(self._local_path())
        return await self._head_version()

    async def count_matching(self) -> int | None:
        """Rows of the latest scan that passed the pre-filter, however old (no extra read)."""
        scan = self.last_scan
        return None if scan is None else scan.kept + scan.older

    async def probe(self) -> str | None:
        """A cheap check for `trialbot doctor`: a file's first row is read; a URL gets a HEAD."""
        if not self.is_url:
            path = self._local_path()
            first = await asyncio.to_thread(_first_trial_id, path, self.field_size_limit)
            size = path.stat().st_size
            return f"{path.name}: {size / 1e6:.1f} MB, first row {first}"
        version = await self._head_version()
        name = self._target.split("?", 1)[0].rsplit("/", 1)[-1] or self.source
        return f"{name}: {version or 'no ETag or Last-Modified'}"

    async def changed_since(self, since: date | None) -> AsyncIterator[list[RawRecord]]:
        """Pages of pre-filtered rows; with `since`, rows refreshed before `since` - margin go."""
        cutoff = since - self.refresh_margin if since is not None else None
        selection = _Selection(skip=self.skip_registries, prefilter=True, cutoff=cutoff)
        async for page in self._scan(selection):
            yield page

    async def fetch_ids(self, ids: Sequence[str]) -> AsyncIterator[list[RawRecord]]:
        """Pages of the rows with these TrialIDs (case-insensitive), in one pass over the file.

        No pre-filter and no registry skipping: a stored trial is re-read whatever it now says.
        """
        wanted = frozenset(i.strip().casefold() for i in ids if isinstance(i, str) and i.strip())
        if not wanted:
            return
        async for page in self._scan(_Selection(prefilter=False, ids=wanted)):
            yield page
        found = self.last_scan.kept if self.last_scan else 0
        if found < len(wanted):
            log.info(
                "ictrp: %d of %d requested id(s) not in the export",
                len(wanted) - found,
                len(wanted),
            )

    def normalise(self, raw: RawRecord) -> Trial:
        return ictrp_record.normalise(raw)

    # -- scanning ----------------------------------------------------------------------------

    async def _scan(self, selection: _Selection) -> AsyncIterator[list[RawRecord]]:
        path = await self._local_file()
        stats = ScanStats()
        self.last_scan = stats
        rows = scan_export(path, selection, stats, field_size_limit=self.field_size_limit)
        started = time.monotonic()
        yielded = False
        try:
            done = False
            while not done:
                page, done = await asyncio.to_thread(_take, rows, self.page_size)
                if page or not yielded:
                    yielded = True
                    yield page
        except RegistryError:
            self._drop_download()  # a broken download must not be reused for the next poll
            raise
        finally:
            with contextlib.suppress(ValueError):  # still running in a cancelled worker thread
                rows.close()
            log.info(
                "ictrp: %s in %.1fs (%s)", stats.summary(), time.monotonic() - started, path.name
            )

    def _local_path(self) -> Path:
        assert self._path is not None
        if not self._path.is_file():
            raise RegistryError(f"ictrp export {self._path} does not exist or is not a file")
        return self._path

    @staticmethod
    def _file_version(path: Path) -> str:
        try:
            st = path.stat()
        except OSError as exc:
            raise RegistryError(f"ictrp export {path} cannot be read: {exc}") from None
        mtime = datetime.fromtimestamp(st.st_mtime, UTC)
        return f"{mtime:%Y-%m-%dT%H:%M:%S}|size={st.st_size}|mtime_ns={st.st_mtime_ns}|{path.name}"

    async def _local_file(self) -> Path:
        if not self.is_url:
            return self._local_path()
        version = await self._head_version()
        cached = self._download
        if cached is not None and cached.path.is_file():
            fresh = time.monotonic() - cached.fetched_at < self.cache_seconds
            if (version is not None and version == cached.version) or (version is None and fresh):
                return cached.path
        self._drop_download()
        fd, name = tempfile.mkstemp(
            prefix="ictrp-export-", suffix=".download", dir=self._download_dir
        )
        os.close(fd)
        dest = Path(name)
        try:
            await self._fetch(dest)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        self._download = _Download(dest, version, time.monotonic())
        return dest

    def _drop_download(self) -> None:
        if self._download is not None:
            self._download.path.unlink(missing_ok=True)
            self._download = None

    # -- HTTP --------------------------------------------------------------------------------

    async def _head_version(self) -> str | None:
        try:
            response = await self._http.request("HEAD", self._target)
        except RegistryError as exc:
            if "HTTP 405" in str(exc):
                log.info("ictrp: the export server does not answer HEAD; no data version")
                return None
            raise
        parts: list[str] = []
        modified = response.headers.get("Last-Modified")
        if modified:
            try:
                when = email.utils.parsedate_to_datetime(modified)
                when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
                parts.append(f"{when:%Y-%m-%dT%H:%M:%S}")
            except (TypeError, ValueError):
                parts.append(f"last-modified={modified.strip()}")
        etag = response.headers.get("ETag")
        if etag:
            parts.append(f"etag={etag.strip()}")
        if not parts:
            log.warning(
                "ictrp: the export URL gives no ETag or Last-Modified; poll cannot be skipped"
            )
            return None
        return "|".join(parts)

    async def _fetch(self, dest: Path) -> None:
        """GET the export into `dest` in chunks (PoliteHttp: spacing, retries, counters)."""
        await self._http.download(self._target, dest, chunk_bytes=CHUNK_BYTES)
        with dest.open("rb") as written:
            _sniff(written.read(64), "download")
