"""CtgovClient against the fake ClinicalTrials.gov over real HTTP (no monkeypatching).

Records come from tests/fixtures/ctgov: reconstructed/ (stem-cell stroke trials in v2 shape; the
folder holds version pairs, so loading it keeps the newest snapshot per id) and studies/ (real
records). Backoff is shrunk to milliseconds and spacing to 0 so the file runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from jobs.registries.base import RawRecord, Registry, RegistryError, RequestStats
from jobs.registries.ctgov import (
    CONDITION_QUERY,
    CONDITION_TERMS,
    INTERVENTION_QUERY,
    INTERVENTION_TERMS,
    MAX_IDS_PER_REQUEST,
    CtgovClient,
    essie_or,
    last_update_filter,
)
from jobs.registries.http import DEFAULT_USER_AGENT, HttpOptions, parse_retry_after
from tests.fakes.ctgov_server import FakeCtgov, studies_in
from tests.jobs.helpers import FAST_HTTP
from trialbot.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ctgov"
RECONSTRUCTED = FIXTURES / "reconstructed"
STUDIES = FIXTURES / "studies"


def _nct(study: RawRecord) -> str:
    nct: str = study["protocolSection"]["identificationModule"]["nctId"]
    return nct


def _last_update(study: RawRecord) -> str:
    date_str: str = study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    return date_str


def _client(fake: FakeCtgov, http: HttpOptions = FAST_HTTP, **kwargs: Any) -> CtgovClient:
    return CtgovClient(fake.base_url, http=http, **kwargs)


async def _collect(pages: AsyncIterator[list[RawRecord]]) -> list[list[RawRecord]]:
    return [page async for page in pages]


@pytest.fixture
def fake() -> Iterator[FakeCtgov]:
    with FakeCtgov() as server:
        assert server.load_dir(RECONSTRUCTED) > 0
        yield server


@pytest.fixture
async def client(fake: FakeCtgov) -> AsyncIterator[CtgovClient]:
    async with _client(fake) as c:
        yield c


# -- basics -------------------------------------------------------------------------------------


async def test_data_version_reads_the_snapshot_timestamp(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    fake.set_data_timestamp("2026-09-04T09:00:06")
    assert await client.data_version() == "2026-09-04T09:00:06"
    new = fake.bump_data_timestamp()
    assert new == "2026-09-05T09:00:06"
    assert await client.data_version() == new
    assert fake.requests == [("/version", {}), ("/version", {})]


async def test_client_satisfies_the_registry_protocol(client: CtgovClient) -> None:
    registry: Registry = client
    assert registry.name == "ctgov"
    assert registry.stats == RequestStats()


async def test_user_agent_and_accept_headers_are_sent(fake: FakeCtgov, client: CtgovClient) -> None:
    await client.data_version()
    headers = fake.request_headers[0]
    assert headers["user-agent"] == DEFAULT_USER_AGENT
    assert headers["user-agent"].startswith("trialbot/")
    assert "stem-cell" in headers["user-agent"]
    assert headers["accept"] == "application/json"
    async with _client(fake, http=replace(FAST_HTTP, user_agent="trialbot-test/1")) as other:
        await other.data_version()
    assert fake.request_headers[-1]["user-agent"] == "trialbot-test/1"


def test_search_vocabulary_is_broad_and_quoted() -> None:
    for term in ("stroke", "subarachnoid hemorrhage", "basal ganglia hematoma", "CVA"):
        assert term in CONDITION_TERMS
    for term in (
        "stem cell",
        "MultiStem",
        "SB623",
        "CTX0E03",
        "NSI-566",
        "exosome",
        "G-CSF",
        "bone marrow",
        "cord blood",
        "CD34",
    ):
        assert term in INTERVENTION_TERMS
    assert CONDITION_QUERY.startswith("(stroke OR ")
    assert '"cerebral infarction"' in CONDITION_QUERY
    assert '"NSI-566"' in INTERVENTION_QUERY and " MultiStem " in INTERVENTION_QUERY
    assert essie_or(["a", "b c"]) == '(a OR "b c")'
    assert last_update_filter(date(2024, 3, 5)) == "AREA[LastUpdatePostDate]RANGE[2024-03-05,MAX]"


async def test_from_settings_uses_the_configured_values(fake: FakeCtgov) -> None:
    settings = Settings(
        ctgov_api_url=fake.base_url,
        ctgov_page_size=7,
        ctgov_min_interval_seconds=0,
        http_timeout_seconds=3,
        http_max_retries=2,
    )
    async with CtgovClient.from_settings(settings) as c:
        assert (c.page_size, c.min_interval, c.max_retries) == (7, 0, 2)
        assert await c.data_version() == fake.data_timestamp


# -- searching ----------------------------------------------------------------------------------


async def test_backfill_paginates_through_every_study_exactly_once(fake: FakeCtgov) -> None:
    fake.load_dir(STUDIES)
    expected = fake.study_ids
    assert len(expected) >= 8
    async with _client(fake, page_size=3) as c:
        pages = await _collect(c.changed_since(None))
        assert c.last_total_count == len(expected)

    got = [_nct(s) for page in pages for s in page]
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    assert len(pages) == math.ceil(len(expected) / 3)
    assert all(path == "/studies" for path, _ in fake.requests)
    first, *rest = (q for _, q in fake.requests)
    assert first == {
        "query.cond": CONDITION_QUERY,
        "query.intr": INTERVENTION_QUERY,
        "pageSize": "3",
        "countTotal": "true",
    }
    for query in rest:
        assert "countTotal" not in query and query["pageToken"]
        assert {k: v for k, v in query.items() if k != "pageToken"} == {
            k: v for k, v in first.items() if k != "countTotal"
        }
    assert len({q["pageToken"] for q in rest}) == len(rest)


async def test_since_sends_the_exact_range_and_gets_only_recent_records(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    since = date(2022, 5, 20)
    expected = {i for i in fake.study_ids if _last_update(fake.study(i) or {}) >= since.isoformat()}
    assert 0 < len(expected) < len(fake.study_ids)

    pages = await _collect(client.changed_since(since))

    assert {_nct(s) for page in pages for s in page} == expected
    assert fake.requests[0][1]["filter.advanced"] == (
        "AREA[LastUpdatePostDate]RANGE[2022-05-20,MAX]"
    )
    assert client.last_total_count == len(expected)


async def test_newest_snapshot_wins_and_change_is_picked_up(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    older = studies_in(json.loads((RECONSTRUCTED / "NCT03545607__2019-08-13.json").read_text()))[0]
    assert _last_update(fake.study("NCT03545607") or {}) == "2022-02-09"
    fake.upsert(older)
    pages = await _collect(client.changed_since(date(2020, 1, 1)))
    assert "NCT03545607" not in {_nct(s) for page in pages for s in page}


async def test_empty_result_is_one_empty_page(client: CtgovClient) -> None:
    pages = await _collect(client.changed_since(date(2099, 1, 1)))
    assert pages == [[]]
    assert client.last_total_count == 0


async def test_partial_and_missing_dates_in_the_fake_filter(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    base = fake.study("NCT03545607") or {}
    partial = copy.deepcopy(base)
    partial["protocolSection"]["identificationModule"]["nctId"] = "NCT09000001"
    partial["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": "2098-04"}
    undated = copy.deepcopy(base)
    undated["protocolSection"]["identificationModule"]["nctId"] = "NCT09000002"
    del undated["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]
    fake.upsert(partial)
    fake.upsert(undated)

    recent = await _collect(client.changed_since(date(2098, 4, 10)))
    assert [_nct(s) for page in recent for s in page] == ["NCT09000001"]
    everything = await _collect(client.changed_since(None))
    assert {"NCT09000001", "NCT09000002"} <= {_nct(s) for page in everything for s in page}


async def test_a_page_retried_mid_pagination_reuses_its_token(fake: FakeCtgov) -> None:
    async with _client(fake, page_size=5) as c:
        pages_iter = c.changed_since(None)
        first = await anext(pages_iter)
        fake.fail_next(1, status=502)
        rest = [page async for page in pages_iter]
        assert c.stats.retries == 1
    got = [_nct(s) for page in [first, *rest] for s in page]
    assert sorted(got) == sorted(fake.study_ids)
    second, retried = fake.requests[1][1], fake.requests[2][1]
    assert second == retried and "pageToken" in second


# -- retries and failures -----------------------------------------------------------------------


async def test_429_with_retry_after_waits_then_succeeds(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    fake.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()
    assert await client.data_version() == fake.data_timestamp
    assert time.monotonic() - started >= 1.0
    assert client.stats.retries == 1 and client.stats.requests == 2


async def test_retry_after_is_capped(fake: FakeCtgov) -> None:
    fake.fail_next(1, status=503, retry_after=3600)
    async with _client(fake, http=replace(FAST_HTTP, retry_after_cap=0.1)) as c:
        started = time.monotonic()
        assert await c.data_version() == fake.data_timestamp
        assert time.monotonic() - started < 2.0
    assert CtgovClient("http://x").retry_after_cap == 300.0  # backoff_max (60) * 5


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


async def test_two_503s_then_success(fake: FakeCtgov, client: CtgovClient) -> None:
    fake.fail_path("/studies", 2, status=503)
    pages = await _collect(client.changed_since(None))
    assert sum(len(p) for p in pages) == len(fake.study_ids)
    assert client.stats.retries == 2
    assert fake.paths()[:3] == ["/studies"] * 3
    assert fake.requests[0][1] == fake.requests[2][1]


async def test_timeout_then_success(fake: FakeCtgov) -> None:
    fake.delay_next(1, 1.0)
    async with _client(fake, http=replace(FAST_HTTP, timeout=0.25)) as c:
        assert await c.data_version() == fake.data_timestamp
        assert c.stats.retries == 1


async def test_dropped_connection_is_retried(fake: FakeCtgov, client: CtgovClient) -> None:
    fake.truncate_next(1, cut_connection=True)
    assert await client.data_version() == fake.data_timestamp
    assert client.stats.retries == 1


async def test_retries_exhausted_raise_registry_error(fake: FakeCtgov) -> None:
    fake.fail_next(10, status=503, body="x" * 50_000)
    async with _client(fake, http=replace(FAST_HTTP, max_retries=2)) as c:
        with pytest.raises(RegistryError) as err:
            await _collect(c.changed_since(None))
        assert c.stats.retries == 2
    message = str(err.value)
    assert "HTTP 503" in message and "/studies" in message and "3 attempt" in message
    assert len(message) < 300
    assert len(fake.requests) == 3


async def test_connection_refused_exhausts_retries() -> None:
    with FakeCtgov() as gone:
        url = gone.base_url
    async with CtgovClient(
        url, http=HttpOptions(min_interval=0, backoff_base=0.01, max_retries=1)
    ) as c:
        with pytest.raises(RegistryError, match="ConnectError"):
            await c.data_version()


async def test_truncated_json_is_a_registry_error(fake: FakeCtgov, client: CtgovClient) -> None:
    fake.truncate_next(1)
    with pytest.raises(RegistryError, match="not valid JSON"):
        await _collect(client.changed_since(None))
    assert len(fake.requests) == 1


async def test_html_garbage_is_a_registry_error(fake: FakeCtgov, client: CtgovClient) -> None:
    fake.garbage_next(1)
    with pytest.raises(RegistryError, match="text/html"):
        await client.data_version()


async def test_json_of_the_wrong_shape_is_a_registry_error(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    fake.fail_next(1, status=200, body='{"items": []}')
    with pytest.raises(RegistryError, match="no 'studies' list"):
        await _collect(client.changed_since(None))


async def test_400_fails_at_once_with_the_servers_reason(
    fake: FakeCtgov, client: CtgovClient
) -> None:
    reason = "`filter.phase` is unknown parameter"
    fake.fail_next(1, status=400, body=reason + " " + "y" * 5000)
    with pytest.raises(RegistryError) as err:
        await _collect(client.changed_since(None))
    assert "HTTP 400" in str(err.value) and reason in str(err.value)
    assert len(str(err.value)) < 300
    assert len(fake.requests) == 1 and client.stats.retries == 0


# -- single records and id batches --------------------------------------------------------------


async def test_fetch_one_follows_an_alias_redirect(fake: FakeCtgov, client: CtgovClient) -> None:
    fake.add_alias("NCT99999999", "NCT03545607")
    study = await client.fetch_one("nct99999999")
    assert study is not None and _nct(study) == "NCT03545607"
    assert fake.paths() == ["/studies/NCT99999999", "/studies/NCT03545607"]
    assert client.stats.requests == 2
    assert client.normalise(study).registry_id == "NCT03545607"


async def test_fetch_one_unknown_id_is_none(fake: FakeCtgov, client: CtgovClient) -> None:
    assert await client.fetch_one("NCT00000000") is None
    with pytest.raises(ValueError):
        await client.fetch_one("ISRCTN12345678")


async def test_fetch_ids_batches_skips_bad_and_gone_ids(
    fake: FakeCtgov, caplog: pytest.LogCaptureFixture
) -> None:
    known = fake.study_ids[:10]
    renamed = fake.study(known[0]) or {}
    renamed["protocolSection"]["identificationModule"]["nctIdAliases"] = ["NCT99999999"]
    fake.upsert(renamed)  # as on CT.gov, the current record lists the id it replaced
    fake.add_alias("NCT99999999", known[0])
    ids = [*known, "not-an-id", "NCT00000000", known[1].lower(), "NCT99999999"]
    caplog.set_level(logging.INFO, logger="jobs.registries.ctgov")
    async with _client(fake, page_size=4) as c:
        pages = await _collect(c.fetch_ids(ids))

    got = [_nct(s) for page in pages for s in page]
    assert sorted(got) == sorted(known)  # the alias did not bring its target a second time
    sent = [q["filter.ids"].split(",") for _, q in fake.requests]
    assert all(len(batch) <= 4 for batch in sent)
    assert [i for batch in sent for i in batch] == [*known, "NCT00000000", "NCT99999999"]
    assert all("countTotal" not in q and q["pageSize"] == "4" for _, q in fake.requests)
    assert "not-an-id" in caplog.text and "NCT00000000" in caplog.text
    assert "NCT99999999" not in caplog.text.split("not returned")[-1]


async def test_fetch_ids_keeps_urls_short(fake: FakeCtgov, client: CtgovClient) -> None:
    ids = [f"NCT{n:08d}" for n in range(10_000_000, 10_000_700)]
    pages = await _collect(client.fetch_ids(ids))
    assert pages == [[], [], []]
    assert len(fake.requests) == math.ceil(700 / MAX_IDS_PER_REQUEST)
    for _, query in fake.requests:
        assert len(fake.base_url + "/studies?" + urlencode(query)) < 6000


# -- etiquette and accounting -------------------------------------------------------------------


async def test_min_interval_spaces_requests(fake: FakeCtgov) -> None:
    async with _client(fake, http=replace(FAST_HTTP, min_interval=0.2)) as c:
        started = time.monotonic()
        await asyncio.gather(*(c.data_version() for _ in range(3)))
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        for _ in range(3):
            await c.data_version()
        assert time.monotonic() - started >= 0.6 - 0.01  # the first also waits for the previous


async def test_stats_count_requests_bytes_and_retries(fake: FakeCtgov) -> None:
    async with _client(fake, page_size=4) as c:
        await _collect(c.changed_since(None))
        pages = len(fake.requests)
        assert c.stats == RequestStats(requests=pages, bytes_received=fake.bytes_sent, retries=0)
        fake.fail_next(2, status=500)
        await c.data_version()
        assert c.stats.requests == pages + 3 and c.stats.retries == 2
        assert c.stats.bytes_received == fake.bytes_sent
        c.reset_stats()
        assert c.stats == RequestStats()


# -- the fake itself behaves like the real API where the client relies on it -------------------


async def test_fake_rejects_unknown_params_and_mismatched_tokens(fake: FakeCtgov) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url + "/") as http:
        bad = await http.get("studies", params={"filter.phase": "PHASE2"})
        assert bad.status_code == 400 and bad.text == "`filter.phase` is unknown parameter"
        assert bad.headers["content-type"].startswith("text/plain")
        first = (await http.get("studies", params={"pageSize": 2, "query.cond": "stroke"})).json()
        token = first["nextPageToken"]
        same = await http.get(
            "studies", params={"pageSize": 5, "query.cond": "stroke", "pageToken": token}
        )
        assert same.status_code == 200 and "totalCount" not in same.json()
        other = await http.get(
            "studies", params={"pageSize": 2, "query.cond": "ictus", "pageToken": token}
        )
        assert other.status_code == 400 and "pageToken" in other.text
        assert (await http.get("studies/NCT1")).status_code == 400
        assert (await http.get("studies", params={"pageSize": 5000})).json()["studies"]
