"""The PubMed client against the fake E-utilities over real HTTP.

Backoff is shrunk to milliseconds and spacing to 0 (FAST_HTTP) except in the tests about
spacing, which use NCBI's own intervals and compare the recorded arrival times to them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from itertools import pairwise
from typing import Any

import pytest

from jobs.publications.pubmed import (
    MIN_INTERVAL,
    MIN_INTERVAL_WITH_KEY,
    SUMMARY_CHUNK,
    PubMedClient,
    PubMedError,
    PubMedSummary,
    clean_title,
    parse_pubdate,
    published_date,
    search_term,
)
from jobs.registries.base import RegistryError
from jobs.registries.http import HttpOptions
from tests.fakes.fake_eutils import RATE_LIMIT_BODY, FakeEutils
from tests.jobs.helpers import FAST_HTTP
from trialbot.settings import load_settings

API_KEY = "0123456789abcdef0123456789abcdef0123"
EMAIL = "ops@example.org"

RESULTS = "30049711"
PROTOCOL = "29017442"
ABSTRACT_ONLY = "33333333"
OTHER_TRIAL = "31111111"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeEutils]:
    with FakeEutils(api_key=API_KEY) as server:
        server.add_paper(
            RESULTS,
            "Safety and efficacy of <i>multipotent</i> adult progenitor cells in acute\n"
            "ischaemic stroke (MASTERS): a randomised,   double-blind, placebo-controlled, "
            "phase 2 trial.",
            "The Lancet. Neurology",
            "2017 Dec",
            ("Clinical Trial, Phase II", "Journal Article", "Randomized Controlled Trial"),
            doi="10.1016/S1474-4422(17)30046-7",
            si_ids=("ClinicalTrials.gov/NCT01436487", "NCT01436487"),
        )
        server.add_paper(
            PROTOCOL,
            "Rationale and design of a cell therapy trial after stroke.",
            "International journal of stroke",
            "2018 Aug 9",
            ("Journal Article",),
            doi="10.1177/1747493017743051",
            si_ids=("NCT01436487",),
        )
        server.add_paper(
            ABSTRACT_ONLY,
            "Bone marrow cells after haemorrhagic stroke",
            "Stroke",
            "2020 Apr 17",
            ("Journal Article",),
            abstract="The trial was registered as ISRCTN12345678 and CTRI/2020/01/012345.",
        )
        server.add_paper(
            OTHER_TRIAL,
            "Something else entirely",
            "Stroke",
            "2019 Winter",
            ("Review",),
            si_ids=("NCT09999999",),
        )
        yield server


@pytest.fixture(autouse=True)
def _fresh(fake: FakeEutils) -> Iterator[None]:
    fake.clear_requests()
    fake.clear_faults()
    yield
    fake.clear_faults()


@pytest.fixture
async def client(fake: FakeEutils) -> AsyncIterator[PubMedClient]:
    async with PubMedClient(fake.base_url, api_key=API_KEY, email=EMAIL, http=FAST_HTTP) as c:
        yield c


# -- search -------------------------------------------------------------------------------------


async def test_search_by_secondary_id(fake: FakeEutils, client: PubMedClient) -> None:
    pmids = await client.search(["NCT01436487", "ISRCTN12345678"], "si", None)
    assert pmids == [RESULTS, PROTOCOL]  # newest PMID first, as PubMed sorts
    [(path, params)] = fake.requests
    assert path == "/esearch.fcgi"
    assert params["term"] == "(NCT01436487[si] OR ISRCTN12345678[si])"
    assert params["db"] == "pubmed" and params["retmode"] == "json"
    assert params["retmax"] == "100"
    assert "datetype" not in params and "mindate" not in params


async def test_search_by_title_or_abstract_and_quoted_ids(
    fake: FakeEutils, client: PubMedClient
) -> None:
    assert await client.search(["ISRCTN12345678"], "tiab", None) == [ABSTRACT_ONLY]
    assert await client.search(["CTRI/2020/01/012345"], "tiab", None) == [ABSTRACT_ONLY]
    assert fake.params()[1]["term"] == '("CTRI/2020/01/012345"[tiab])'
    assert await client.search(["ISRCTN12345678"], "si", None) == []  # only in the abstract


async def test_since_filters_by_publication_date(fake: FakeEutils, client: PubMedClient) -> None:
    assert await client.search(["NCT01436487"], "si", date(2018, 1, 1)) == [PROTOCOL]
    params = fake.params("/esearch.fcgi")[-1]
    assert (params["datetype"], params["mindate"], params["maxdate"]) == (
        "pdat",
        "2018/01/01",
        "3000",
    )
    # "2017 Dec" may be 2017-12-31, so a since of that day still finds it; a day later not.
    assert await client.search(["NCT01436487"], "si", date(2017, 12, 31)) == [
        RESULTS,
        PROTOCOL,
    ]
    assert await client.search(["NCT01436487"], "si", date(2018, 8, 10)) == []


async def test_ids_not_in_pubmed_just_give_fewer_results(
    fake: FakeEutils, client: PubMedClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "jobs.publications.pubmed")
    assert await client.search(["NCT00000001", "NCT09999999"], "si", None) == [OTHER_TRIAL]
    assert await client.search(["NCT00000001"], "si", None) == []
    assert "NCT00000001[si]" in caplog.text


async def test_unsafe_ids_are_skipped_and_nothing_left_means_no_request(
    fake: FakeEutils, client: PubMedClient
) -> None:
    assert await client.search(['NCT1" OR cancer[mh]', "x y", ""], "si", None) == []
    assert fake.requests == []
    await client.search(["NCT01436487", "NCT01436487)", "NCT01436487"], "si", None)
    assert fake.params()[0]["term"] == "(NCT01436487[si])"


def test_search_term_shapes() -> None:
    assert search_term(["NCT01234567", "ISRCTN12345678"], "si") == (
        "(NCT01234567[si] OR ISRCTN12345678[si])"
    )
    assert search_term(["2024-520423-88-00"], "tiab") == '("2024-520423-88-00"[tiab])'
    assert search_term(["a(b)"], "si") is None
    with pytest.raises(ValueError):
        search_term(["NCT01234567"], "mh")  # type: ignore[arg-type]


async def test_esearch_200_with_error_is_a_registry_error(
    fake: FakeEutils, client: PubMedClient
) -> None:
    fake.garbage_next(1, "esearch_error")
    with pytest.raises(RegistryError, match=r"^pubmed esearch: Search Backend failed"):
        await client.search(["NCT01436487"], "si", None)


# -- summaries ----------------------------------------------------------------------------------


async def test_summaries_parse_title_journal_date_types_and_doi(
    fake: FakeEutils, client: PubMedClient
) -> None:
    results, protocol = await client.summaries([RESULTS, PROTOCOL])
    assert results == PubMedSummary(
        pmid=RESULTS,
        title="Safety and efficacy of multipotent adult progenitor cells in acute ischaemic "
        "stroke (MASTERS): a randomised, double-blind, placebo-controlled, phase 2 trial.",
        journal="The Lancet. Neurology",
        published="2017-12",  # NCBI sorts it as 2017/12/01: the 01 is a fill, not a day
        pubtypes=("Clinical Trial, Phase II", "Journal Article", "Randomized Controlled Trial"),
        doi="10.1016/S1474-4422(17)30046-7",
    )
    assert protocol.published == "2018-08-09" and protocol.doi == "10.1177/1747493017743051"
    [(path, params)] = fake.requests
    assert path == "/esummary.fcgi" and params["id"] == f"{RESULTS},{PROTOCOL}"
    assert params["db"] == "pubmed" and params["retmode"] == "json"


@pytest.mark.parametrize(
    ("pubdate", "sortpubdate", "expected"),
    [
        ("2020 Apr 17", None, "2020-04-17"),
        ("2019 Dec", None, "2019-12"),
        ("2023", None, "2023"),
        ("2019 Winter", None, "2019"),
        ("2020 Jan-Feb", None, "2020"),
        ("2020 Apr 1", None, "2020-04-01"),
        ("", "2018/08/09 00:00", "2018-08-09"),  # sortpubdate's day is not a fill
        ("nonsense", "", None),
    ],
)
async def test_publication_dates_are_never_more_precise_than_stated(
    fake: FakeEutils, client: PubMedClient, pubdate: str, sortpubdate: str | None, expected: str
) -> None:
    fake.add_paper("40000001", "Dated", "J", pubdate, (), sortpubdate=sortpubdate)
    try:
        [summary] = await client.summaries(["40000001"])
    finally:
        fake.remove("40000001")
    assert summary.published == expected


def test_date_helpers() -> None:
    assert published_date("2019/12/01 00:00", "2019 Dec") == "2019-12"
    assert published_date("2020/01/01 00:00", "2020 Jan-Feb") == "2020"
    assert published_date(None, "2020 Apr 17-23") == "2020-04"
    assert published_date("2021/02/30 00:00", "2021 Feb") == "2021-02"  # bad sort date: pubdate
    assert parse_pubdate("2019 Dec 2020 Jan") is not None
    assert parse_pubdate("2019 Dec 2020 Jan").iso() == "2019"  # type: ignore[union-attr]
    assert clean_title("  A <sup>2</sup>  b &amp; <i>c</i>.\n") == "A 2 b & c."


async def test_missing_fulljournalname_falls_back_to_source_and_no_doi(
    fake: FakeEutils, client: PubMedClient
) -> None:
    fake.add_paper(
        "40000002",
        "No full name",
        None,
        "2021",
        ["Letter"],
        fields={"fulljournalname": None, "source": "Stem Cell Res Ther"},
    )
    fake.add_paper("40000003", "Nothing", None, "2021", [], fields={"source": ""})
    try:
        short, nothing = await client.summaries(["40000002", "40000003"])
    finally:
        fake.remove("40000002")
        fake.remove("40000003")
    assert short.journal == "Stem Cell Res Ther" and short.doi is None
    assert short.pubtypes == ("Letter",)
    assert nothing.journal is None and nothing.pubtypes == ()


async def test_error_entries_are_skipped_logged_and_counted(
    fake: FakeEutils, client: PubMedClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "jobs.publications.pubmed")
    found = await client.summaries([RESULTS, "99999999", "not-a-pmid", PROTOCOL])
    assert [s.pmid for s in found] == [RESULTS, PROTOCOL]
    assert client.skipped_summaries == 1
    assert "99999999" in caplog.text and "cannot get document summary" in caplog.text
    assert fake.params()[0]["id"] == f"{RESULTS},99999999,{PROTOCOL}"


async def test_summaries_go_in_chunks_of_at_most_200(
    fake: FakeEutils, client: PubMedClient
) -> None:
    pmids = [str(50_000_000 + i) for i in range(SUMMARY_CHUNK + 50)] + [RESULTS]
    found = await client.summaries(pmids)
    assert [s.pmid for s in found] == [RESULTS]
    sizes = [len(q["id"].split(",")) for q in fake.params("/esummary.fcgi")]
    assert sizes == [SUMMARY_CHUNK, 51]
    assert client.skipped_summaries == SUMMARY_CHUNK + 50
    assert await client.summaries([]) == [] and len(fake.requests) == 2


async def test_esummary_200_with_error_is_a_registry_error(
    fake: FakeEutils, client: PubMedClient
) -> None:
    fake.garbage_next(1, "summary_error")
    with pytest.raises(PubMedError, match=r"pubmed GET /esummary\.fcgi: Invalid uid"):
        await client.summaries([RESULTS])


# -- probe --------------------------------------------------------------------------------------


async def test_probe_reports_size_and_last_update(fake: FakeEutils, client: PubMedClient) -> None:
    assert await client.probe() == f"{len(fake.ids)} records, last update 2026/12/03 05:12"
    [(path, params)] = fake.requests
    assert path == "/einfo.fcgi" and params["db"] == "pubmed"


# -- etiquette ----------------------------------------------------------------------------------


async def test_every_request_names_the_tool_email_and_key(
    fake: FakeEutils, client: PubMedClient
) -> None:
    await client.search(["NCT01436487"], "si", None)
    await client.summaries([RESULTS])
    await client.probe()
    assert len(fake.requests) == 3
    for params in fake.params():
        assert params["tool"] == "trialbot" and params["email"] == EMAIL
        assert params["api_key"] == API_KEY and params["retmode"] == "json"


async def test_without_key_or_email_neither_is_sent(fake: FakeEutils) -> None:
    async with PubMedClient(fake.base_url, http=FAST_HTTP) as anonymous:
        await anonymous.probe()
    [params] = fake.params()
    assert params["tool"] == "trialbot"
    assert "api_key" not in params and "email" not in params


def test_spacing_defaults_follow_ncbi_limits() -> None:
    assert MIN_INTERVAL == 0.34 and MIN_INTERVAL_WITH_KEY == 0.1
    assert PubMedClient("http://127.0.0.1:9").min_interval == MIN_INTERVAL
    assert PubMedClient("http://127.0.0.1:9", api_key=API_KEY).min_interval == 0.1
    settings = load_settings(ncbi_api_key=API_KEY, ncbi_email=EMAIL, http_max_retries=2)
    production = PubMedClient.from_settings(settings)
    assert production.min_interval == 0.1 and production.max_retries == 2
    assert production.email == EMAIL and production.has_api_key
    assert production.base_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    assert PubMedClient.from_settings(load_settings()).min_interval == MIN_INTERVAL


@pytest.mark.parametrize(("key", "interval"), [(None, MIN_INTERVAL), (API_KEY, 0.1)])
async def test_spacing_is_honoured(fake: FakeEutils, key: str | None, interval: float) -> None:
    http = replace(FAST_HTTP, min_interval=interval)
    async with PubMedClient(fake.base_url, api_key=key, http=http) as polite:
        for _ in range(4):
            await polite.probe()
    gaps = [b - a for a, b in pairwise(fake.request_times)]
    assert len(gaps) == 3
    # Arrival times; a little slack for the hop from the client's clock to the fake's.
    assert min(gaps) >= interval - 0.02, gaps


# -- failures -----------------------------------------------------------------------------------


async def test_rate_limited_429_is_retried_then_succeeds(
    fake: FakeEutils, client: PubMedClient
) -> None:
    fake.fail_next(1, status=429)
    assert await client.search(["NCT01436487"], "si", None) == [RESULTS, PROTOCOL]
    assert len(fake.requests) == 2 and client.stats.retries == 1


async def test_the_fakes_429_is_ncbis(fake: FakeEutils) -> None:
    import httpx

    fake.fail_next(1, status=429)
    async with httpx.AsyncClient() as raw:
        answer = await raw.get(f"{fake.base_url}/einfo.fcgi", params={"db": "pubmed"})
    assert answer.status_code == 429 and answer.text == RATE_LIMIT_BODY


async def test_5xx_twice_then_success(fake: FakeEutils, client: PubMedClient) -> None:
    fake.fail_next(2, status=502, path="/esummary.fcgi")
    [summary] = await client.summaries([PROTOCOL])
    assert summary.pmid == PROTOCOL
    assert len(fake.requests) == 3 and client.stats.retries == 2


async def test_persistent_5xx_is_a_registry_error_naming_pubmed_without_the_key(
    fake: FakeEutils, client: PubMedClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx's INFO line holds the URL with api_key
    caplog.set_level(logging.DEBUG, logger="httpx")  # whatever level an earlier test left it at
    fake.fail_next(FAST_HTTP.max_retries + 1, status=503)
    with pytest.raises(RegistryError) as info:
        await client.search(["NCT01436487"], "si", None)
    message = str(info.value)
    assert message.startswith("pubmed GET /esearch.fcgi failed after 4 attempt(s): HTTP 503")
    assert isinstance(info.value, PubMedError)
    _assert_no_key(message, repr(info.value), caplog)
    assert "HTTP Request" in caplog.text  # the httpx line was logged, redacted
    assert len(fake.requests) == FAST_HTTP.max_retries + 1


async def test_a_rejected_key_is_never_echoed(
    fake: FakeEutils, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # its request line would hold the key
    wrong = "f" * 36
    async with PubMedClient(fake.base_url, api_key=wrong, http=FAST_HTTP) as bad:
        assert wrong not in repr(bad)
        with pytest.raises(PubMedError) as info:
            await bad.probe()
    assert "HTTP 400" in str(info.value) and "API key invalid" in str(info.value)
    assert fake.params()[0]["api_key"] == wrong  # the fake did see it, and echoed it
    for text in (str(info.value), repr(info.value), caplog.text):
        assert wrong not in text


async def test_unreachable_pubmed_error_names_it_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # its request line would hold the key
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = HttpOptions(min_interval=0, timeout=2, max_retries=1, backoff_base=0.01)
    async with PubMedClient(f"http://127.0.0.1:{port}/eutils", api_key=API_KEY, http=http) as c:
        with pytest.raises(RegistryError) as info:
            await c.search(["NCT01436487"], "si", date(2020, 1, 1))
    assert str(info.value).startswith("pubmed GET /esearch.fcgi failed after 2 attempt(s)")
    _assert_no_key(str(info.value), repr(info.value), caplog)


def test_settings_keep_the_key_secret() -> None:
    settings = load_settings(ncbi_api_key=API_KEY)
    assert settings.ncbi_api_key is not None
    assert settings.ncbi_api_key.get_secret_value() == API_KEY
    assert API_KEY not in repr(settings) and API_KEY not in str(settings.model_dump())
    assert load_settings(ncbi_api_key="", ncbi_email=" ").ncbi_api_key is None
    defaults = load_settings()
    assert defaults.pubmed_enabled and defaults.ncbi_email is None
    assert defaults.pubmed_api_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"


def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    from trialbot.settings import SettingsError

    bad = API_KEY[:-4] + "!!!!"
    with pytest.raises(SettingsError) as info:
        load_settings(ncbi_api_key=bad)
    assert "NCBI_API_KEY" in str(info.value) and bad not in str(info.value)
    with pytest.raises(SettingsError, match="NCBI_EMAIL"):
        load_settings(ncbi_email="not an address")
    with pytest.raises(SettingsError, match="PUBMED_API_URL"):
        load_settings(pubmed_api_url="ftp://x")


def _assert_no_key(message: str, representation: str, caplog: pytest.LogCaptureFixture) -> None:
    texts: list[Any] = [message, representation, caplog.text]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert API_KEY not in text
