"""What storage.chats.export hands /mydata, on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage import chats, outbox
from storage.db import Database
from tests.storage.test_outbox import _alerts, _world


async def test_export_has_every_alert_with_its_trial_id_and_whether_it_is_unsent(
    db: Database,
) -> None:
    trial_id, version_id = await _world(db, [1, 2])
    async with db.write() as session:
        assert await outbox.enqueue(session, _alerts([1, 2], trial_id, version_id)) == 2
    async with db.read() as session:
        data = await chats.export(session, 1)
    assert data["chat"]["chat_id"] == 1 and len(data["subscriptions"]) == 1
    (alert,) = data["alerts"]  # only this chat's
    assert alert["registry_id"] == "NCT04811651" and alert["registry"] == "ctgov"
    assert alert["unsent"] is True and alert["status"] == "pending" and alert["kind"] == "new"
    async with db.write() as session:
        rows = await outbox.claim(session, limit=10, lease=timedelta(minutes=1))
        for row in rows:
            assert row.id is not None
            await outbox.mark_sent(session, row.id, 5)
    async with db.read() as session:
        (alert,) = (await chats.export(session, 1))["alerts"]
        assert alert["unsent"] is False and alert["status"] == "sent"
        assert await chats.export(session, 99) == {
            "chat": None,
            "subscriptions": [],
            "alerts": [],
            "window_alerts": [],
        }
