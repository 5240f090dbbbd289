"""`trialbot run` as a real process against the fake Bot API and the fake registry.

The fake Telegram server enforces Telegram's limits (30 messages/s overall, 1/s per chat,
20/min per group) with 429s. These tests take a couple of minutes: a 2,000-chat broadcast at
Telegram's pace is what they measure.
"""

from __future__ import annotations

import asyncio
import copy
import os
import signal
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import chats
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import run_cli as trialbot
from tests.conftest import study
from tests.e2e.service_process import Service
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow
SUBSCRIBERS = 2000
ROOT = Path(__file__).resolve().parents[2]


def new_trial() -> dict[str, Any]:
    """MultiStem's record re-registered under a new id (made here; recruiting, US sites)."""
    record = copy.deepcopy(study("NCT03545607__2019-08-13"))
    record["protocolSection"]["identificationModule"]["nctId"] = "NCT09000001"
    status = record["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"] = {"date": "2020-01-05", "type": "ACTUAL"}
    return record


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeTelegram, FakeCtgov, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    upgrade(url)
    with FakeTelegram() as telegram, loaded_fake() as registry:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PTB_TIMEDELTA": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "CTGOV_API_URL": registry.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "PUBMED_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "DATABASE_URL": url,
            "POLL_INTERVAL_SECONDS": "3600",
            "SENDER_LEASE_SECONDS": "10",
            "HEALTH_PORT": "0",
            "LOG_LEVEL": "INFO",
        }
        yield telegram, registry, env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _subscribe_many(url: str, ids: range) -> None:
    db = Database(url)
    async with db.write() as session:
        for chat_id in ids:
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
            await chats.add_subscription(session, chat_id, conditions=["ischemic"])
    await db.dispose()


def prepare(
    telegram: FakeTelegram, registry: FakeCtgov, env: dict[str, str], cwd: Path, subscribers: int
) -> range:
    """Backfill first (no alerts), subscribe the chats, then publish one new trial."""
    done = trialbot(["poll", "--once"], env, cwd)
    assert done.returncode == 0, done.stderr
    ids = range(10_000, 10_000 + subscribers)
    asyncio.run(_subscribe_many(env["DATABASE_URL"], ids))
    for chat_id in ids:
        telegram.add_chat(chat_id)
    registry.upsert(new_trial())
    registry.set_data_timestamp("2020-01-06T09:00:00")
    return ids


def alerts_per_chat(telegram: FakeTelegram, ids: range) -> Counter[int]:
    wanted = set(ids)
    return Counter(m["chat_id"] for m in telegram.sent if m["chat_id"] in wanted)


def test_broadcast_survives_kill_9_without_losing_or_repeating_much(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    """The restarted service hands back the dead one's leased alerts at start-up (it holds
    the instance lock, so they can belong to nobody else): the broadcast goes on within
    seconds, not after the lease (the default 120 s here, so waiting for it would show)."""
    telegram, registry, env = world
    env = {**env, "SENDER_LEASE_SECONDS": "120"}
    ids = prepare(telegram, registry, env, tmp_path, SUBSCRIBERS)
    first = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: len(alerts_per_chat(telegram, ids)) >= 400,
            timeout=120,
            what="400 alerts delivered before the kill",
        )
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.kill()
    at_kill = alerts_per_chat(telegram, ids)
    started = time.monotonic()
    second = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: len(alerts_per_chat(telegram, ids)) > len(at_kill),
            timeout=60,
            what="the broadcast goes on after the restart",
        )
        resumed = time.monotonic() - started
        telegram.wait_for(
            lambda: len(alerts_per_chat(telegram, ids)) == SUBSCRIBERS,
            timeout=240,
            what="every subscriber has the alert",
        )
        elapsed = time.monotonic() - started
        time.sleep(2)  # anything extra would show up now
        second.proc.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0
    finally:
        second.kill()
    per_chat = alerts_per_chat(telegram, ids)
    duplicates = sum(n - 1 for n in per_chat.values())
    assert len(per_chat) == SUBSCRIBERS
    assert duplicates <= 16  # at most the sends in flight when the process was killed
    sent_after = SUBSCRIBERS - len(at_kill)
    rate = sent_after / elapsed
    print(
        f"\nkill -9 after {len(at_kill)} alerts; resumed {resumed:.1f}s after the restart "
        f"(process start included); {sent_after} more in {elapsed:.1f}s ({rate:.1f}/s); "
        f"duplicates {duplicates}; 429s {telegram.stats()['count_429']}"
    )
    assert resumed < 10  # generous: the process start; the lease alone would be 120 s
    assert rate > 10


async def _subscribe_group(url: str, group: int) -> None:
    db = Database(url)
    async with db.write() as session:
        await chats.ensure_chat(session, group, chat_type="group", language="en")
        await chats.add_subscription(session, group, conditions=["ischemic"])
    await db.dispose()


def test_sigterm_exits_cleanly_within_10_seconds_mid_broadcast(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    telegram, registry, env = world
    ids = prepare(telegram, registry, env, tmp_path, 300)
    blocked, group, supergroup = ids[0], -7007, -1007654327007
    telegram.block(blocked)
    telegram.add_chat(group)
    asyncio.run(_subscribe_group(env["DATABASE_URL"], group))
    telegram.migrate(group, supergroup, updates=False)
    service = Service(env, tmp_path)
    try:
        telegram.wait_for(lambda: len(alerts_per_chat(telegram, ids)) >= 50, timeout=60)
        asked = time.monotonic()
        service.proc.send_signal(signal.SIGTERM)
        code = service.wait(12)
        took = time.monotonic() - asked
    finally:
        service.kill()
    assert code == 0, service.output()[-2000:]
    assert took < 10
    # Handed back, not lost: a restart finishes the broadcast with no duplicate at all.
    again = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: (
                len(alerts_per_chat(telegram, ids)) == len(ids) - 1 and telegram.sent_to(supergroup)
            ),
            timeout=120,
        )
        again.proc.send_signal(signal.SIGTERM)
        assert again.wait(12) == 0
    finally:
        again.kill()
    assert max(alerts_per_chat(telegram, ids).values()) == 1
    # The blocked chat is deactivated: on Telegram's "kicked" update if it came first, else
    # after one refused send. The group got its alert at its new id.
    tries = [p for m, p in telegram.calls if m == "sendMessage" and p["chat_id"] == blocked]
    assert len(tries) <= 1 and blocked not in alerts_per_chat(telegram, ids)
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as conn:
        (active,) = conn.execute("SELECT active FROM chat WHERE chat_id = ?", (blocked,)).fetchone()
    assert active == 0
    assert len(telegram.sent_to(supergroup)) == 1


def test_another_process_polling_the_same_token_stops_with_a_clear_message(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    telegram, _, env = world
    other = tmp_path / "other"
    other.mkdir()
    other_url = f"sqlite:///{other / 'other.db'}"
    upgrade(other_url)
    first = Service(env, tmp_path)
    try:
        telegram.wait_for(lambda: any(m == "getUpdates" for m, _ in telegram.calls), timeout=60)
        second = Service(env | {"DATABASE_URL": other_url}, other)
        try:
            deadline = time.monotonic() + 60
            while (
                time.monotonic() < deadline
                and first.proc.poll() is None
                and (second.proc.poll() is None)
            ):
                time.sleep(0.2)
            codes = {first.proc.poll(), second.proc.poll()}
            assert 4 in codes, (first.output()[-1500:], second.output()[-1500:])
            loser = first if first.proc.poll() == 4 else second
            assert "another process is polling Telegram with this bot token" in loser.output()
        finally:
            second.kill()
    finally:
        first.kill()


def test_a_second_instance_on_the_same_database_stops_with_a_clear_message(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    telegram, _, env = world
    first = Service(env, tmp_path)
    try:
        telegram.wait_for(lambda: any(m == "getUpdates" for m, _ in telegram.calls), timeout=60)
        second = trialbot(["run"], env, tmp_path, timeout=60)
        assert second.returncode == 3
        assert "already running" in second.stdout + second.stderr
        assert first.proc.poll() is None  # the first one is unharmed
        first.proc.send_signal(signal.SIGTERM)
        assert first.wait(12) == 0
    finally:
        first.kill()
    assert TOKEN not in first.output()


def test_health_and_metrics_of_the_running_service(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    import json
    import urllib.error
    import urllib.request

    _, _, env = world
    port = free_port()
    service = Service(env | {"HEALTH_PORT": str(port)}, tmp_path)
    base = f"http://127.0.0.1:{port}"

    def healthz() -> tuple[int, dict[str, Any]] | None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return None

    try:
        deadline = time.monotonic() + 60
        state = healthz()
        while time.monotonic() < deadline and (
            state is None or state[1]["registries"]["ctgov"]["last_success"] is None
        ):
            time.sleep(0.2)
            state = healthz()
        assert state is not None, service.output()[-2000:]
        code, body = state
        assert code == 200 and body["status"] == "ok" and body["database"]["ok"]
        with urllib.request.urlopen(f"{base}/metrics", timeout=2) as answer:
            metrics = answer.read().decode()
        assert 'trialbot_polls_total{mode="backfill",outcome="ok",registry="ctgov"} 1.0' in metrics
        service.proc.send_signal(signal.SIGTERM)
        assert service.wait(12) == 0
    finally:
        service.kill()


def test_webhook_mode_checks_the_secret_on_every_request(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str]], tmp_path: Path
) -> None:
    import json
    import urllib.error
    import urllib.request

    telegram, _, env = world
    port = free_port()
    secret = "s3cret-token_for-tests"
    public = "https://bot.example.test/telegram-hook"  # what Telegram is told
    url = f"http://127.0.0.1:{port}/telegram-hook"  # where the reverse proxy forwards to
    service = Service(
        env | {"WEBHOOK_URL": public, "WEBHOOK_SECRET_TOKEN": secret, "WEBHOOK_PORT": str(port)},
        tmp_path,
    )

    def post(update: dict[str, Any], token: str | None) -> int:
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        if token is not None:
            request.add_header("X-Telegram-Bot-Api-Secret-Token", token)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    try:
        telegram.wait_for(lambda: telegram.webhook is not None, timeout=60, what="setWebhook")
        assert telegram.webhook is not None and telegram.webhook.get("secret_token") == secret
        telegram.add_chat(555)
        forged = telegram.user_sends(555, "/help")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status = post(forged, "wrong-secret-value")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 403
        assert post(forged, None) == 403
        time.sleep(1)
        assert telegram.sent_to(555) == []
        assert post(forged, secret) == 200
        telegram.wait_for(lambda: telegram.sent_to(555), timeout=20, what="reply to /help")
        service.proc.send_signal(signal.SIGTERM)
        assert service.wait(12) == 0
    finally:
        service.kill()
    assert secret not in service.output()
