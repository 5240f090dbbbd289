"""A fake WHO ICTRP export download: a real HTTP server on 127.0.0.1 serving one export file.

The real "API" is a weekly file (shared/registries.md 2.4): `ICTRPFullExport-<n>-<dd-mm-yy>.zip`
holding one CSV, fetched with a plain GET; there is no search, no paging and no date filter on
the server: the client reads the whole file and filters it itself (see jobs/registries/ictrp.py).
So this fake serves what a static file server does, built from the rows it holds:

* `GET <export path>` -> the export (CSV, or a zip holding one CSV) with `Content-Length`,
  `ETag` and `Last-Modified`; `HEAD` -> the same headers, no body. Both change whenever a row is
  added, changed or removed (`upsert`, `remove`, `touch`), like a new weekly file.
* The file is written like the real one: NO header row, the 63 columns in WHO's order
  (`WHO_COLUMNS`), CRLF line ends, and every cell but TrialID wrapped in a second pair of
  quotes (three quote marks in the file). `header=True` / `who_quoting=False` write a plainer
  CSV; `serve_bytes` serves any bytes verbatim.
* Anything else answers like a static server: another path -> 404, another method -> 405
  (with `Allow: GET, HEAD`). Query strings are accepted and ignored (share links carry them).

Test hooks: `requests` ((method, path+query, body) of every request), `bytes_sent`, and the
faults of `tests.fakes.http_fake.FakeRegistryServer`, which queue in order, each request to the
export consuming one unit of the first fault whose method filter matches: `fail_next(n, status,
retry_after)`, `garbage_next(n)` (200 with an HTML maintenance page), `truncate_next(n)`
(declares the full length, sends half, closes); a body fault never spoils a HEAD answer.

`built_record` builds one export row (a dict keyed by column name) of a trial, so that the same
trial can be served by several fake registries; `write_export` / `export_bytes` write rows to
a CSV or zipped CSV.

Standalone: `python -m tests.fakes.ictrp_server --export FILE [--port N]` serves FILE verbatim at
the printed URL (first stdout line) until interrupted.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import io
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Unpack
from urllib.parse import quote

from tests.fakes.http_fake import (
    Address,
    FakeRegistryServer,
    Reply,
    Request,
)
from tests.fakes.trial import Trial, TrialFields

WHO_COLUMNS: tuple[str, ...] = (
    "TrialID",
    "Last_Refreshed_on",
    "SecondaryIDs",
    "public_title",
    "Scientific_title",
    "url",
    "Public_Contact_Firstname",
    "Public_Contact_Lastname",
    "Public_Contact_Address",
    "Public_Contact_Email",
    "Public_Contact_Tel",
    "Public_Contact_Affiliation",
    "Scientific_Contact_Firstname",
    "Scientific_Contact_Lastname",
    "Scientific_Contact_Address",
    "Scientific_Contact_Email",
    "Scientific_Contact_Tel",
    "Scientific_Contact_Affiliation",
    "study_type",
    "study_design",
    "phase",
    "Date_registration",
    "Date_enrollement",
    "Target_size",
    "Recruitment_status",
    "Primary_sponsor",
    "Secondary_sponsors",
    "Source_Support",
    "Countries",
    "Conditions",
    "Interventions",
    "Agemin",
    "Agemax",
    "Gender",
    "Inclusion_Criteria",
    "Exclusion_Criteria",
    "Primary_Outcome",
    "Secondary_Outcomes",
    "Bridging_flag",
    "Bridged_type",
    "Childs",
    "type_enrolment",
    "Retrospective_flag",
    "results_actual_enrollment",
    "results_url_link",
    "results_summary",
    "results_date_posted",
    "results_date_first_publication",
    "results_baseline_char",
    "results_participant_flow",
    "results_adverse_events",
    "results_outcome_measures",
    "results_url_protocol",
    "results_IPD_plan",
    "results_IPD_description",
    "results_date_completed",
    "results_yes_no",
    "Ethics_Status",
    "Ethics_Approval_Date",
    "Ethics_Contact_Name",
    "Ethics_Contact_Address",
    "Ethics_Contact_Phone",
    "Ethics_Contact_Email",
)
"""The full export's columns in file order: WHO's field list (ICTRP_export_datafields.txt) with
the unnamed second column (the record's last refresh date) the real file has. Written out here
on purpose instead of imported from the adapter, so a wrong order there is caught."""

DEFAULT_EXPORT_PATH = "/ictrp/ICTRPFullExport-1003291-20-06-2024"
DEFAULT_LAST_MODIFIED = datetime(2026, 10, 5, 6, 0, 0, tzinfo=UTC)
TRIAL_PAGE = "https://trialsearch.who.int/Trial2.aspx?TrialID={}"
GARBAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>The ICTRP download is undergoing maintenance</h1></body></html>"
)


# --- rows and files ----------------------------------------------------------------------------


def who_date(iso: str) -> str:
    """ "2026-10-01" -> "1 October 2026" (how Last_Refreshed_on is written)."""
    d = date.fromisoformat(iso)
    return f"{d.day} {d:%B %Y}"


def dmy(d: date) -> str:
    """dd/mm/yyyy, how most source registries' dates appear in the export."""
    return f"{d:%d/%m/%Y}"


def built_record(registry_id: str, **fields: Unpack[TrialFields]) -> dict[str, str]:
    """One export row of a trial, keyed by column name (every column present, most empty).

    `sites` are (facility, city, country name): the export has no site list, only `Countries`
    (`;`-separated, in the order given, each once) and the contact's affiliation and address,
    which get the first facility and every "facility, city, country". `status` is ICTRP's own
    wording (default "Recruiting"); `phase` the source registry's ("Phase 1/Phase 2", "2");
    `last_updated` (ISO) becomes Last_Refreshed_on, and the registration/enrolment dates are set
    200/150 days before it. The export has no summary column: `summary` is accepted for the
    shared builder signature and not stored.
    """
    trial = Trial(registry_id, **fields)
    updated = date.fromisoformat(trial.last_updated)
    countries: list[str] = []
    for _, _, country in trial.sites:
        if country and country not in countries:
            countries.append(country)
    facility = trial.sites[0][0] if trial.sites else ""
    row = dict.fromkeys(WHO_COLUMNS, "")
    row.update(
        {
            "TrialID": registry_id,
            "Last_Refreshed_on": who_date(trial.last_updated),
            "SecondaryIDs": ";".join(trial.secondary_ids),
            "public_title": trial.title,
            "Scientific_title": trial.title,
            "url": TRIAL_PAGE.format(quote(registry_id, safe="")),
            "Public_Contact_Address": "; ".join(", ".join(p for p in s if p) for s in trial.sites),
            "Public_Contact_Affiliation": facility,
            "study_type": "Interventional",
            "phase": trial.phase or "",
            "Date_registration": dmy(updated - timedelta(days=200)),
            "Date_enrollement": dmy(updated - timedelta(days=150)),
            "Target_size": "60",
            "Recruitment_status": trial.status or "Recruiting",
            "Primary_sponsor": facility,
            "Countries": ";".join(countries),
            "Conditions": trial.condition,
            "Interventions": trial.intervention,
            "Agemin": "18 Years",
            "Agemax": "80 Years",
            "Gender": "Both",
            "Inclusion_Criteria": f"Inclusion criteria: adults with {trial.condition}.",
            "Exclusion_Criteria": "Exclusion criteria: pregnancy.",
            "type_enrolment": "anticipated",
        }
    )
    return row


def _cells(row: Mapping[str, str], columns: Sequence[str], who_quoting: bool) -> list[str]:
    cells = []
    for i, column in enumerate(columns):
        value = str(row.get(column, "") or "")
        cells.append(f'"{value}"' if who_quoting and i > 0 and value else value)
    return cells


def export_bytes(
    rows: Iterable[Mapping[str, str]],
    *,
    header: bool = False,
    who_quoting: bool = True,
    columns: Sequence[str] = WHO_COLUMNS,
    line_terminator: str = "\r\n",
    bom: bool = False,
) -> bytes:
    """Rows as the export CSV (UTF-8): headerless and WHO-quoted unless told otherwise."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=line_terminator)
    if header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(_cells(row, columns, who_quoting))
    data = out.getvalue().encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def zip_bytes(payload: bytes, member: str = "ICTRPFullExport.csv") -> bytes:
    """`payload` as the single member of a zip archive (deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, payload)
    return buffer.getvalue()


def write_export(
    rows: Iterable[Mapping[str, str]],
    path: str | Path,
    *,
    zipped: bool = False,
    member: str = "ICTRPFullExport.csv",
    **options: Any,
) -> Path:
    """Write rows to `path` as a CSV, or with `zipped=True` as a zip holding one CSV."""
    data = export_bytes(rows, **options)
    target = Path(path)
    target.write_bytes(zip_bytes(data, member) if zipped else data)
    return target


# --- server ------------------------------------------------------------------------------------


class FakeIctrp(FakeRegistryServer[tuple[str, str, bytes], dict[str, str]]):
    """The ICTRP export over real HTTP. Use as `with FakeIctrp(rows) as fake:`.

    `requests` holds (method, path+query, body) of every request, faulted ones too.
    """

    label = "fake ICTRP"
    maintenance_page = GARBAGE_HTML
    truncation_cuts_connection = True

    def __init__(
        self,
        rows: Iterable[Mapping[str, str]] = (),
        *,
        zipped: bool = False,
        header: bool = False,
        who_quoting: bool = True,
        export_path: str | None = None,
        validators: bool = True,
        last_modified: datetime = DEFAULT_LAST_MODIFIED,
        **address: Unpack[Address],
    ) -> None:
        super().__init__(**address)
        self._raw: bytes | None = None
        self._body: bytes | None = None
        self.zipped = zipped
        self.header = header
        self.who_quoting = who_quoting
        self.export_path = export_path or DEFAULT_EXPORT_PATH + (".zip" if zipped else ".csv")
        self.validators = validators
        """Send ETag and Last-Modified (a server without them makes `data_version` None)."""
        self.last_modified = last_modified
        for row in rows:
            self.upsert(row)

    @property
    def base_url(self) -> str:
        """The export's URL: what ICTRP_EXPORT is set to."""
        return self.root_url + self.export_path

    # -- data ----------------------------------------------------------------------------------

    def _to_store(self, row: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        """A row is keyed by TrialID and keeps its place in the file."""
        trial_id = str(row.get("TrialID", "")).strip()
        if not trial_id:
            raise ValueError("row has no TrialID")
        return trial_id, dict(row)

    def _normal_key(self, key: str) -> str:
        return key.strip()

    def row(self, trial_id: str) -> dict[str, str] | None:
        found = self._stored(trial_id)
        return dict(found) if found is not None else None

    @property
    def trial_ids(self) -> list[str]:
        return self.ids

    def serve_bytes(self, data: bytes | None) -> None:
        """Serve `data` verbatim instead of the rows (None: back to the rows)."""
        with self._lock:
            self._raw = data
            self._changed()

    def touch(self, delta: timedelta = timedelta(days=7)) -> None:
        """A new weekly file with the same rows: Last-Modified moves on, so does the version."""
        with self._lock:
            self.last_modified += delta
            self._body = None

    def export(self) -> bytes:
        """The file as it is served now."""
        with self._lock:
            if self._raw is not None:
                return self._raw
            if self._body is None:
                data = export_bytes(
                    self._records.values(), header=self.header, who_quoting=self.who_quoting
                )
                self._body = zip_bytes(data) if self.zipped else data
            return self._body

    def etag(self) -> str:
        return '"' + hashlib.sha256(self.export()).hexdigest()[:20] + '"'

    def _changed(self) -> None:
        """Any change makes a new weekly file: rebuilt, with a later Last-Modified."""
        self._body = None
        self.last_modified += timedelta(hours=1)

    # -- recording ------------------------------------------------------------------------------

    def methods(self) -> list[str]:
        with self._lock:
            return [m for m, _, _ in self.requests]

    # -- HTTP ----------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        """A static file server: the export at its path, 404 elsewhere, 405 for other methods."""
        method = request.method
        with self._lock:
            self.requests.append((method, request.target, request.body))
            if request.path != self.export_path:
                return self._error(404, "Not Found")
            if method not in ("GET", "HEAD"):
                return self._error(405, "Method Not Allowed", [("Allow", "GET, HEAD")])
            return self._answer(self._take_fault(method, request.path), self._export_reply)

    def _export_reply(self) -> Reply:
        data = self.export()
        headers: tuple[tuple[str, str], ...] = ()
        if self.validators:
            modified = email.utils.format_datetime(self.last_modified, usegmt=True)
            headers = (("ETag", self.etag()), ("Last-Modified", modified))
        kind = "application/zip" if data.startswith(b"PK") else "text/csv; charset=utf-8"
        return Reply(200, data, kind, headers)


def main(argv: list[str] | None = None) -> int:
    """Serve one export file verbatim until SIGINT/SIGTERM; first stdout line is its URL."""
    parser = FakeIctrp.command_line(__doc__)
    parser.add_argument("--export", type=Path, required=True, help="CSV or zip to serve")
    args = parser.parse_args(argv)
    data = args.export.read_bytes()
    suffix = ".zip" if data.startswith(b"PK") else ".csv"
    fake = FakeIctrp(host=args.host, port=args.port, export_path=DEFAULT_EXPORT_PATH + suffix)
    fake.serve_bytes(data)
    return fake.serve_until_signalled()


if __name__ == "__main__":
    sys.exit(main())
