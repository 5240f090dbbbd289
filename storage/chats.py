"""Chats and their subscriptions: everything the conversation reads and writes.

`forget()` is the one place that knows every table holding rows about a chat; a test walks
all tables after it, so a new table that stores chat data must be added here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Text, cast, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.generation import generation
from storage.tables import ChatRow, OutboxRow, SubscriptionRow, TrialRow, WindowAlertRow, utcnow
from trialbot.geo import haversine_km
from trialbot.match_index import SubscriptionColumns, SubscriptionIndex
from trialbot.matching import ALL_CONDITIONS, SubscriptionFilter

UNSENT: tuple[str, ...] = ("pending", "held", "sending")
"""Outbox states of an alert not yet delivered (queued, waiting for a digest, being sent)."""

MAX_SUBSCRIPTIONS = 20
"""Per chat. Plenty for a caregiver; a cap keeps a runaway script from filling the table."""
SAME_PLACE_KM = 1.0
"""Two centres closer than this are one place: a pin sent twice from home moves a little."""


async def get_chat(
    session: AsyncSession, chat_id: int, *, for_update: bool = False
) -> ChatRow | None:
    query = select(ChatRow).where(ChatRow.chat_id == chat_id)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def ensure_chat(
    session: AsyncSession,
    chat_id: int,
    *,
    chat_type: str,
    language: str,
    title: str | None = None,
) -> ChatRow:
    """The chat's row, created on first contact; reactivates a chat that came back."""
    row = await get_chat(session, chat_id, for_update=True)
    now = utcnow()
    if row is None:
        row = ChatRow(chat_id=chat_id, type=chat_type, language=language, title=title)
        session.add(row)
        await session.flush()
        return row
    if not row.active or (title and row.title != title) or row.type != chat_type:
        row.active, row.deactivated_at, row.deactivation_reason = True, None, None
        row.title, row.type, row.updated_at = title or row.title, chat_type, now
        session.add(row)
    return row


def _assign(session: AsyncSession, row: ChatRow | SubscriptionRow, changes: dict[str, Any]) -> None:
    """Set known fields only (a typo must fail, not add an attribute) and stamp the row."""
    for name, value in changes.items():
        if name not in type(row).model_fields:
            raise AttributeError(name)
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)


def update_chat(session: AsyncSession, row: ChatRow, **changes: Any) -> ChatRow:
    _assign(session, row, changes)
    return row


async def subscriptions(session: AsyncSession, chat_id: int) -> list[SubscriptionRow]:
    """The chat's subscriptions in the order /list numbers them."""
    query = (
        select(SubscriptionRow)
        .where(SubscriptionRow.chat_id == chat_id)
        .order_by(col(SubscriptionRow.id))
    )
    return list((await session.exec(query)).all())


async def count_subscriptions(session: AsyncSession, chat_id: int) -> int:
    query = (
        select(func.count()).select_from(SubscriptionRow).where(SubscriptionRow.chat_id == chat_id)
    )
    return int((await session.exec(query)).one())


async def get_subscription(
    session: AsyncSession, chat_id: int, subscription_id: int
) -> SubscriptionRow | None:
    """A subscription, only if it belongs to this chat (button data can be forged)."""
    query = select(SubscriptionRow).where(
        SubscriptionRow.id == subscription_id, SubscriptionRow.chat_id == chat_id
    )
    return (await session.exec(query)).first()


async def add_subscription(
    session: AsyncSession,
    chat_id: int,
    *,
    conditions: Sequence[str],
    countries: Sequence[str] = (),
    lat: float | None = None,
    lon: float | None = None,
    radius_km: int | None = None,
    place_name: str | None = None,
    point_country: str | None = None,
    label: str | None = None,
    radius_unit: str = "km",
    stroke_date: date | None = None,
    birth_year: int | None = None,
) -> SubscriptionRow:
    """A new subscription; `stroke_date` and `birth_year` are the person's profile (both
    optional; trialbot/profile.py turns typed or tapped answers into them)."""
    row = SubscriptionRow(
        chat_id=chat_id,
        conditions=sorted(set(conditions)),
        countries=sorted(set(countries)),
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        radius_unit=radius_unit,
        place_name=place_name,
        point_country=point_country,
        label=label,
        stroke_date=stroke_date,
        birth_year=birth_year,
    )
    session.add(row)
    await session.flush()
    return row


def _label_key(label: str | None) -> str | None:
    return " ".join(label.split()).casefold() if label and label.strip() else None


def same_filters(a: SubscriptionRow, b: SubscriptionRow) -> bool:
    """Whether two subscriptions would send exactly the same alerts (labels aside).

    No stroke type means every type; a radius alert is the same place when the centres are
    within SAME_PLACE_KM and the distance is the same.
    """
    if (frozenset(a.conditions) or ALL_CONDITIONS) != (frozenset(b.conditions) or ALL_CONDITIONS):
        return False
    if frozenset(a.countries) != frozenset(b.countries):
        return False
    if (a.lat is None or a.lon is None) != (b.lat is None or b.lon is None):
        return False
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return True
    return a.radius_km == b.radius_km and haversine_km(a.lat, a.lon, b.lat, b.lon) < SAME_PLACE_KM


def duplicate_of(
    existing: Sequence[SubscriptionRow], candidate: SubscriptionRow
) -> SubscriptionRow | None:
    """The subscription that already does what `candidate` would, if any.

    Same filters under a different name are not a duplicate: a caregiver may follow the same
    trials for Dad and for Mum, and each alert says whom it is for. Same filters with the same
    name (case and spacing aside), or a new one without a name, add nothing: refused.
    """
    wanted = _label_key(candidate.label)
    for row in existing:
        if row.id == candidate.id or not same_filters(row, candidate):
            continue
        if wanted is None or wanted == _label_key(row.label):
            return row
    return None


def update_subscription(session: AsyncSession, row: SubscriptionRow, **changes: Any) -> None:
    """Change some fields, e.g. `stroke_date=...` or `birth_year=None` (forget the age)."""
    _assign(session, row, changes)


async def delete_subscriptions(
    session: AsyncSession, chat_id: int, ids: Sequence[int] | None = None
) -> int:
    """Delete some (or, with ids=None, all) of a chat's subscriptions; returns how many."""
    query = delete(SubscriptionRow).where(col(SubscriptionRow.chat_id) == chat_id)
    if ids is not None:
        query = query.where(col(SubscriptionRow.id).in_(list(ids)))
    return len((await session.exec(query.returning(col(SubscriptionRow.id)))).all())


@dataclass(frozen=True, slots=True)
class ActiveSubscription:
    """A subscription with the chat options matching needs, as plain values (no ORM)."""

    chat_id: int
    delivery: str
    include_borderline: bool
    include_not_recruiting: bool
    id: int
    conditions: list[str]
    countries: list[str]
    lat: float | None
    lon: float | None
    radius_km: int | None
    point_country: str | None
    label: str | None
    place_name: str | None
    radius_unit: str = "km"
    stroke_date: date | None = None
    birth_year: int | None = None


async def active_subscription_values(session: AsyncSession) -> list[ActiveSubscription]:
    """Every subscription of every active, unpaused chat, cheaply (fan-out reads 100k)."""
    columns = [
        col(ChatRow.chat_id),
        col(ChatRow.delivery),
        col(ChatRow.include_borderline),
        col(ChatRow.include_not_recruiting),
        col(SubscriptionRow.id),
        col(SubscriptionRow.conditions),
        col(SubscriptionRow.countries),
        col(SubscriptionRow.lat),
        col(SubscriptionRow.lon),
        col(SubscriptionRow.radius_km),
        col(SubscriptionRow.point_country),
        col(SubscriptionRow.label),
        col(SubscriptionRow.place_name),
        col(SubscriptionRow.radius_unit),
        col(SubscriptionRow.stroke_date),
        col(SubscriptionRow.birth_year),
    ]
    query = (
        sa_select(*columns)
        .join(SubscriptionRow, col(SubscriptionRow.chat_id) == col(ChatRow.chat_id))
        .where(col(ChatRow.active).is_(True), col(ChatRow.paused).is_(False))
    )
    rows = await session.exec(query)  # type: ignore[call-overload]  # a plain SQLAlchemy select
    return [ActiveSubscription(*row) for row in rows.all()]


CHUNK = 5_000
"""Rows read at a time while loading the index: each chunk goes straight into numpy arrays, so
reading 100,000 subscriptions never holds 100,000 rows of Python objects."""


class _Coder:
    """Dictionary-encodes a column across chunks: a code per value, each distinct value kept
    once in order of first appearance."""

    def __init__(self) -> None:
        self.position: dict[Any, int] = {}
        self.values: list[Any] = []

    def codes(self, column: Sequence[Any]) -> npt.NDArray[np.int64]:
        position, values = self.position, self.values

        def code(value: Any) -> int:
            found = position.get(value)
            if found is None:
                found = position[value] = len(values)
                values.append(value)
            return found

        return np.fromiter(map(code, column), dtype=np.int64, count=len(column))


async def subscription_index(session: AsyncSession) -> SubscriptionIndex:
    """Every subscription of every active, unpaused chat, as the fan-out's index.

    At 100,000 subscriptions the ORM would cost seconds: only the columns matching reads are
    selected, straight through the driver (SQLAlchemy's row objects cost more than the
    query), CHUNK rows at a time into numpy arrays; JSON and dates come back as text and each
    distinct text is decoded once."""
    columns = [
        col(ChatRow.chat_id),
        col(ChatRow.delivery),
        col(ChatRow.include_borderline),
        col(ChatRow.include_not_recruiting),
        col(SubscriptionRow.id),
        cast(col(SubscriptionRow.conditions), Text),
        cast(col(SubscriptionRow.countries), Text),
        col(SubscriptionRow.lat),
        col(SubscriptionRow.lon),
        col(SubscriptionRow.radius_km),
        col(SubscriptionRow.point_country),
        cast(col(SubscriptionRow.stroke_date), Text),
        col(SubscriptionRow.birth_year),
    ]
    query = (
        sa_select(*columns)
        .join(SubscriptionRow, col(SubscriptionRow.chat_id) == col(ChatRow.chat_id))
        .where(col(ChatRow.active).is_(True), col(ChatRow.paused).is_(False))
    )
    conditions, countries, points, strokes = _Coder(), _Coder(), _Coder(), _Coder()
    parts: list[list[npt.NDArray[Any]]] = [[] for _ in range(13)]
    async for rows in _fetch_chunks(session, query, CHUNK):
        c = list(zip(*rows, strict=True))
        chunk = (
            np.array(c[0], dtype=np.int64),  # chat
            np.array(c[4], dtype=np.int64),  # subscription
            np.fromiter((d != "instant" for d in c[1]), dtype=np.bool_, count=len(rows)),
            np.array(c[2], dtype=np.bool_),  # borderline
            np.array(c[3], dtype=np.bool_),  # not recruiting
            conditions.codes(c[5]),
            countries.codes(c[6]),
            np.array(c[7], dtype=np.float64),  # lat (None: nan)
            np.array(c[8], dtype=np.float64),  # lon
            np.array(c[9], dtype=np.float64),  # radius
            points.codes(c[10]),
            strokes.codes(c[11]),
            np.array(c[12], dtype=np.float64),  # birth year
        )
        del rows, c
        for part, values in zip(parts, chunk, strict=True):
            part.append(values)
    (chat_id, subscription_id, held, borderline, not_recruiting) = map(_joined, parts[:5])
    (condition_codes, country_codes, lat, lon, radius, point_codes) = map(_joined, parts[5:11])
    stroke_codes, birth = _joined(parts[11]), _joined(parts[12])
    del parts
    days = [date.fromisoformat(t[:10]).toordinal() if t else np.nan for t in strokes.values]
    stroke_day = np.array(days, dtype=np.float64)[stroke_codes]
    return SubscriptionIndex(
        SubscriptionColumns(
            chat_id=chat_id,
            subscription_id=subscription_id,
            held=held,
            include_borderline=borderline,
            include_not_recruiting=not_recruiting,
            conditions=condition_codes,
            conditions_values=[_string_set(t) for t in conditions.values],
            countries=country_codes,
            countries_values=[_string_set(t) for t in countries.values],
            lat=lat,
            lon=lon,
            radius_km=radius,
            point_country=point_codes,
            point_country_values=points.values,
            stroke_day=stroke_day,
            birth_year=birth,
        )
    )


def _joined(parts: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


async def current_subscription_index(
    session: AsyncSession, known: tuple[int, SubscriptionIndex] | None = None
) -> tuple[int, SubscriptionIndex]:
    """The index and the subscription generation it reflects: `known` itself when the
    generation has not moved since it was read (one tiny query), else a fresh read.

    The generation is read before the rows: on PostgreSQL each statement sees what has been
    committed when it starts, so the rows are at least as new as the generation recorded
    with them, and a write in between only causes one more read later."""
    current = await generation(session)
    if known is not None and known[0] == current:
        return known
    return current, await subscription_index(session)


async def _fetch_chunks(
    session: AsyncSession, query: Any, size: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The rows of a literal-only query as the driver's own tuples, `size` at a time, in the
    session's transaction (aiosqlite, or a psycopg server-side cursor so PostgreSQL's answer
    is not held in memory whole either)."""
    connection = await session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "sqlite":
        cursor = await driver.execute(sql)
        try:
            while rows := await cursor.fetchmany(size):
                yield rows
        finally:
            await cursor.close()
        return
    async with driver.cursor(name="trialbot_chunks") as cursor:
        cursor.itersize = size
        await cursor.execute(sql)
        while rows := await cursor.fetchmany(size):
            yield rows


def _string_set(text: str | None) -> frozenset[str]:
    return frozenset(json.loads(text)) if text else frozenset()


def filter_of(chat: ChatRow, sub: SubscriptionRow) -> SubscriptionFilter:
    """The match filter for a stored subscription and its chat's options."""
    assert sub.id is not None
    return filter_of_values(
        ActiveSubscription(
            chat_id=chat.chat_id,
            delivery=chat.delivery,
            include_borderline=chat.include_borderline,
            include_not_recruiting=chat.include_not_recruiting,
            id=sub.id,
            conditions=sub.conditions,
            countries=sub.countries,
            lat=sub.lat,
            lon=sub.lon,
            radius_km=sub.radius_km,
            point_country=sub.point_country,
            label=sub.label,
            place_name=sub.place_name,
            radius_unit=sub.radius_unit,
            stroke_date=sub.stroke_date,
            birth_year=sub.birth_year,
        )
    )


def filter_of_values(active: ActiveSubscription) -> SubscriptionFilter:
    return SubscriptionFilter(
        id=active.id,
        conditions=frozenset(active.conditions) or ALL_CONDITIONS,
        countries=frozenset(active.countries),
        lat=active.lat,
        lon=active.lon,
        radius_km=active.radius_km,
        point_country=active.point_country,
        label=active.label,
        place_name=active.place_name,
        radius_unit=active.radius_unit,
        include_borderline=active.include_borderline,
        include_not_recruiting=active.include_not_recruiting,
        stroke_date=active.stroke_date,
        birth_year=active.birth_year,
    )


async def forget(session: AsyncSession, chat_id: int) -> None:
    """Delete every row about the chat, in every table that holds any."""
    await session.exec(delete(OutboxRow).where(col(OutboxRow.chat_id) == chat_id))
    await session.exec(delete(WindowAlertRow).where(col(WindowAlertRow.chat_id) == chat_id))
    await session.exec(delete(SubscriptionRow).where(col(SubscriptionRow.chat_id) == chat_id))
    await session.exec(delete(ChatRow).where(col(ChatRow.chat_id) == chat_id))


async def export(session: AsyncSession, chat_id: int) -> dict[str, Any]:
    """Everything stored about the chat, for /mydata: the chat, its subscriptions (each with
    its profile: `stroke_date`, `birth_year`), every alert queued or sent to it (each with the
    registry id of its trial and `unsent` true for one not delivered yet), and the
    window-opening alerts it was sent."""
    chat = await get_chat(session, chat_id)
    if chat is None:
        return {"chat": None, "subscriptions": [], "alerts": [], "window_alerts": []}
    subs = await subscriptions(session, chat_id)
    query = (
        select(OutboxRow, TrialRow)
        .join(TrialRow, col(TrialRow.id) == col(OutboxRow.trial_id))
        .where(col(OutboxRow.chat_id) == chat_id)
        .order_by(col(OutboxRow.id))
    )
    alerts = [
        alert.model_dump(mode="json")
        | {
            "registry": trial.registry_name,
            "registry_id": trial.registry_id,
            "unsent": alert.status in UNSENT,
        }
        for alert, trial in (await session.exec(query)).all()
    ]
    return {
        "chat": chat.model_dump(mode="json"),
        "subscriptions": [s.model_dump(mode="json") for s in subs],
        "window_alerts": [
            w.model_dump(mode="json") for w in await _window_alerts(session, chat_id)
        ],
        "alerts": alerts,
    }


async def _window_alerts(session: AsyncSession, chat_id: int) -> list[WindowAlertRow]:
    query = select(WindowAlertRow).where(WindowAlertRow.chat_id == chat_id)
    return list((await session.exec(query)).all())
