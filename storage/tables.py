"""The tables. Everything stored about trials, their versions and changes, polls and chats.

Telegram ids are BIGINT from the first migration: chat ids exceed 32 bits and SQLite would
never reveal an INTEGER overflow that PostgreSQL hits in production.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, MetaData, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _json() -> Any:
    return JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class TrialRow(SQLModel, table=True):
    """One trial as it is now; its history lives in TrialVersionRow and TrialChangeRow."""

    __tablename__ = "trial"
    __table_args__ = (UniqueConstraint("registry_name", "registry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    registry_name: str = Field(max_length=16)
    registry_id: str = Field(max_length=64)
    title: str
    overall_status: str | None = Field(default=None, max_length=40)
    stem_cell_tier: str = Field(max_length=16)
    buckets: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    relevant: bool = Field(index=True)
    classification: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(_json(), nullable=False)
    )
    countries: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    last_update: str | None = Field(default=None, max_length=10)
    fingerprint: str = Field(max_length=64)
    current_version: int = 1
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    last_fetched_at: datetime = Field(default_factory=utcnow)
    merged_into: int | None = Field(default=None, foreign_key="trial.id", ondelete="SET NULL")
    """Set when this trial turned out to be another one registered twice; it is then kept for
    its history only, and `registry_id` gets a `@merged` suffix so the id is free again."""


class TrialSourceRow(SQLModel, table=True):
    """One registry record of a trial. A trial has one per registry that holds it.

    The trial's versions are of the merged view (jobs/merge.py); each record's own latest
    snapshot is kept here so the view can be rebuilt when any one record changes.
    """

    __tablename__ = "trial_source"
    __table_args__ = (UniqueConstraint("registry_name", "registry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", index=True)
    registry_name: str = Field(max_length=16)
    registry_id: str = Field(max_length=64)
    url: str = Field(default="", max_length=500)
    fingerprint: str = Field(max_length=64)
    snapshot: dict[str, Any] = Field(sa_column=Column(_json(), nullable=False))
    last_update: str | None = Field(default=None, max_length=10)
    relevant: bool = False
    """What the classifier says about this record alone (the trial's verdict is the merged one)."""
    link_keys: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    last_fetched_at: datetime = Field(default_factory=utcnow)


class TrialKeyRow(SQLModel, table=True):
    """A registry id (canonical, see trialbot/identifiers.py) and the one trial it belongs to."""

    __tablename__ = "trial_key"

    key: str = Field(primary_key=True, max_length=80)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", index=True)


class TrialVersionRow(SQLModel, table=True):
    """A normalised snapshot each time the content fingerprint moved."""

    __tablename__ = "trial_version"
    __table_args__ = (UniqueConstraint("trial_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    version: int
    fingerprint: str = Field(max_length=64)
    snapshot: dict[str, Any] = Field(sa_column=Column(_json(), nullable=False))
    last_update: str | None = Field(default=None, max_length=10)
    seen_at: datetime = Field(default_factory=utcnow)
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(_json(), nullable=True))
    """What the record states, as `trialbot.facts.TrialFacts.to_json()` (jobs/facts.py)."""
    facts_version: int | None = None
    """The extractor's FACTS_VERSION that wrote `facts`; older or None: re-derived."""


class TrialChangeRow(SQLModel, table=True):
    """One field that changed between two versions, in words a later step can render."""

    __tablename__ = "trial_change"
    __table_args__ = (Index("ix_trial_change_trial_version", "trial_id", "version_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    version_id: int = Field(foreign_key="trial_version.id", ondelete="CASCADE")
    field: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    notable: bool
    old: Any = Field(default=None, sa_column=Column(_json(), nullable=True))
    new: Any = Field(default=None, sa_column=Column(_json(), nullable=True))
    detected_at: datetime = Field(default_factory=utcnow)


class PollStateRow(SQLModel, table=True):
    """Where each registry's poll stands, so a restart catches up instead of starting over."""

    __tablename__ = "poll_state"

    registry_name: str = Field(primary_key=True, max_length=16)
    watermark: date | None = None
    data_version: str | None = Field(default=None, max_length=64)
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_reason: str | None = None
    consecutive_failures: int = 0
    last_refresh_at: datetime | None = None
    last_counts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(_json(), nullable=False)
    )
    last_sweep_at: datetime | None = None
    """The last full re-read without the date filter (see SeenRecordRow)."""


class SeenRecordRow(SQLModel, table=True):
    """Every record id a registry's search has given us, stored or rejected.

    When the registry says its search matches more records than this, some record never
    reached us (published late with an older "last update" date): a full sweep fetches it.
    """

    __tablename__ = "seen_record"

    registry_name: str = Field(primary_key=True, max_length=16)
    registry_id: str = Field(primary_key=True, max_length=64)
    first_seen_at: datetime = Field(default_factory=utcnow)


class ChatRow(SQLModel, table=True):
    """A Telegram chat (private, group or channel) and its chat-wide settings."""

    __tablename__ = "chat"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=8)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    title: str | None = Field(default=None, max_length=255)
    paused: bool = False
    delivery: str = Field(default="instant", max_length=8)
    """instant, daily or weekly."""
    digest_hour: int = 9
    digest_weekday: int = 0
    """0 = Monday, for weekly digests."""
    timezone: str = Field(default="UTC", max_length=64)
    include_borderline: bool = False
    include_not_recruiting: bool = False
    pending: dict[str, Any] | None = Field(default=None, sa_column=Column(_json(), nullable=True))
    """A step of a button flow waiting for typed input (e.g. a city name)."""
    updated_at: datetime = Field(default_factory=utcnow)
    deactivated_at: datetime | None = None
    deactivation_reason: str | None = Field(default=None, max_length=255)
    last_digest_at: datetime | None = None


class SubscriptionRow(SQLModel, table=True):
    """What one chat wants to hear about: stroke types and a region, with an optional label."""

    __tablename__ = "subscription"
    __table_args__ = {"sqlite_autoincrement": True}
    """Ids go into buttons and queued alerts: a deleted one must never name a new row
    (migration 0007; PostgreSQL's sequence never goes back)."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("chat.chat_id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    label: str | None = Field(default=None, max_length=40)
    conditions: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    countries: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    lat: float | None = None
    lon: float | None = None
    radius_km: int | None = None
    radius_unit: str = Field(default="km", max_length=2, sa_column_kwargs={"server_default": "km"})
    """The unit the person gave the distance in ("km" or "mi"); matching uses radius_km."""
    place_name: str | None = Field(default=None, max_length=120)
    point_country: str | None = Field(default=None, max_length=2)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    stroke_date: date | None = None
    """When the person's stroke was (a relative answer is stored as the date it meant)."""
    birth_year: int | None = None
    """The person's birth year (a typed age is stored as one, so the age grows by itself)."""


class OutboxRow(SQLModel, table=True):
    """One alert for one chat about one version of a trial, and how its delivery went.

    Queued in short batches after the version is stored and marked pending (FanoutPendingRow),
    unique per chat and version, so a crash or a re-run never queues twice. `held` rows wait
    for the chat's digest.

    A `window` alert (a person has just entered a trial's time window) is about the trial as it
    is when sent, not a version: its `version_id` is NULL, which the (chat, version) key lets
    coexist with any earlier alert; WindowAlertRow keeps it to one per trial and subscription.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("chat_id", "version_id"),
        UniqueConstraint("chat_id", "publication_id", name="uq_outbox_chat_id_publication_id"),
        Index("ix_outbox_due", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("chat.chat_id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
        )
    )
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    version_id: int | None = Field(default=None, foreign_key="trial_version.id", ondelete="CASCADE")
    """NULL for a window alert (about the trial's current version when sent)."""
    kind: str = Field(max_length=8)
    """new, change, window or results."""
    publication_id: int | None = Field(
        default=None, foreign_key="publication.id", ondelete="CASCADE"
    )
    """The publication a `results` alert is about (its version_id is NULL, like a window
    alert's); the (chat, publication) key keeps it to one per chat."""
    subscription_ids: list[int] = Field(
        default_factory=list, sa_column=Column(_json(), nullable=False)
    )
    status: str = Field(default="pending", max_length=10)
    """pending, held (digest), sending, sent, failed or cancelled."""
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class WindowAlertRow(SQLModel, table=True):
    """A subscription's person entered a trial's time window and was told (once, ever).

    The unique (subscription, trial) key is what makes the window alert "never twice": the
    job inserts this row and the outbox row in one transaction.
    """

    __tablename__ = "window_alert"

    subscription_id: int = Field(
        foreign_key="subscription.id", ondelete="CASCADE", primary_key=True
    )
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", primary_key=True)
    chat_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("chat.chat_id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    entered_on: date
    """The first day the person was inside the window."""
    created_at: datetime = Field(default_factory=utcnow)


class FanoutPendingRow(SQLModel, table=True):
    """A stored new trial or change whose alerts are not all queued yet.

    Written in the transaction that stores the version; deleted in the transaction that
    queues its last alerts. Matching runs between the two, outside any transaction, so the
    write lock is never held while 100,000 subscriptions are matched; a crash in between
    leaves the row, and the next poll fans the change out again (the outbox's unique
    (chat, version) key skips the alerts already queued)."""

    __tablename__ = "fanout_pending"

    version_id: int = Field(foreign_key="trial_version.id", ondelete="CASCADE", primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)
    """new or change."""
    created_at: datetime = Field(default_factory=utcnow)


class PublicationRow(SQLModel, table=True):
    """One publication or results document of a trial (trialbot/publications.py), once.

    `key` is its identity within the trial (PMID, else DOI, else URL). `results_since` is when
    it was first known as a results paper: the moment its alert was queued, and never again.
    """

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("trial_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE")
    key: str = Field(max_length=300)
    pmid: str | None = Field(default=None, max_length=16)
    doi: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=500)
    title: str | None = None
    journal: str | None = Field(default=None, max_length=300)
    published: str | None = Field(default=None, max_length=10)
    kind: str = Field(max_length=12)
    reason: str = Field(max_length=24)
    found_by: str = Field(max_length=16)
    registry_type: str | None = Field(default=None, max_length=40)
    pubtypes: list[str] = Field(default_factory=list, sa_column=Column(_json(), nullable=False))
    citation: str | None = None
    first_seen_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    results_since: datetime | None = None


class PublicationCheckRow(SQLModel, table=True):
    """When a trial's publications are next looked for, and how the last look went."""

    __tablename__ = "publication_check"

    trial_id: int = Field(foreign_key="trial.id", ondelete="CASCADE", primary_key=True)
    due_at: datetime = Field(index=True)
    last_checked_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    failures: int = 0


class SubscriptionGenerationRow(SQLModel, table=True):
    """A counter every write that changes what matching sees moves, in its own transaction.

    The fan-out keeps the subscription index in memory and reloads it only when this moved
    (storage/generation.py bumps it from any session that writes a chat's matching settings
    or a subscription, whichever process writes). One row, id 1; absent reads as 0."""

    __tablename__ = "subscription_generation"

    id: int = Field(primary_key=True)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
