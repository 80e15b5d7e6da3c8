"""The tables that make the database the source of truth for every case.

`cases.state` is the engine's `CaseState` JSON *without* personal data; the
client's identifying fields live in `case_personal_data`, one row per case, so
erasing a client is deleting that row. `case_event_pages` is the append-only
history, a page of events per decision (some days after a case closes it moves, compressed, to `case_archives`). `tasks`,
`timers` and `outbox` are projections of the state kept in the same transaction, so worklists and
the timer sweep are index lookups.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from integrations.db import packed_json

JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class PackedJson(TypeDecorator[Any]):
    """A JSON document stored compressed (integrations/db/packed_json.py): BLOB on SQLite, bytea on
    PostgreSQL (migration 0024; JSONB before it)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return packed_json.pack(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return packed_json.unpack(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone: store naive UTC, read back aware)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the database; use UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros_of(value: datetime) -> int:
    """An aware moment as whole microseconds since 1970-01-01 UTC (how SQLite stores `MomentMicros`)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} given to the database; use UTC")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def moment_of(stored: int | str | datetime) -> datetime:
    """A stored `MomentMicros` as an aware UTC moment (integer microseconds, or the text written before
    migration 0018)."""
    if isinstance(stored, int):
        return _EPOCH + timedelta(microseconds=stored)
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class MomentMicros(UTCDateTime):
    """An aware UTC moment that SQLite stores as an integer of microseconds since 1970 (8 bytes or
    fewer, against 26 of text): for the columns written most (a page's `at`, migration 0018; the
    tasks' and outbox messages' moments, migration 0021). SQL compares them with each other and with
    moments bound through the column (`TaskRow.due_at < now`), never with text or SQL's date
    functions. PostgreSQL keeps timestamptz."""

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return micros_of(value)
        return super().process_bind_param(value, dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return moment_of(value)


class Base(DeclarativeBase):
    pass


class PathwayVersionRow(Base):
    __tablename__ = "pathway_versions"

    pathway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)  # skip re-parsing unchanged files
    source_name: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pathway_id: Mapped[str] = mapped_column(String(64))
    pathway_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(100))
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(64))
    close_reason: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)  # optimistic lock = number of events
    state: Mapped[dict[str, Any]] = mapped_column(PackedJson)  # CaseState JSON without personal data, packed
    # For the municipal reports (integrations/reporting/figures.py): copies of the state, filled on every save.
    municipality: Mapped[str | None] = mapped_column(String(64))  # the commissioning municipality
    origin_group: Mapped[str | None] = mapped_column(String(16))  # reporting_origin.OriginGroup; never a country
    # Who pays (engine/funding.py key; the municipality's when no other is named) and the record key of
    # the cell-key perturbation (integrations/reporting/cellkey.py); migration 0009.
    funder: Mapped[str | None] = mapped_column(String(100))
    report_key: Mapped[int | None] = mapped_column(Integer)
    # How many escalations of the case wait for an answer (the state's `open_escalations`), so that the
    # coordinators' list finds them without reading every open case's state (migration 0023).
    escalations_open: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_cases_pathway_status", "pathway_id", "pathway_version", "status"),
        Index("ix_cases_team_status", "team", "status"),
        Index("ix_cases_funder_opened", "funder", "pathway_id", "opened_at"),
        Index("ix_cases_funder_closed", "funder", "pathway_id", "closed_at"),
        Index("ix_cases_escalated", "team", postgresql_where=text("escalations_open > 0"),
              sqlite_where=text("escalations_open > 0")),
    )


class CasePersonalDataRow(Base):
    __tablename__ = "case_personal_data"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)


class CaseEventPageRow(Base):
    """The events of one decision of one case, stored together (integrations/db/event_pages.py,
    migration 0019): `first_seq` to `last_seq`, the first event's moment and actor, and the events
    as one JSON array, packed."""

    __tablename__ = "case_event_pages"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    first_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(MomentMicros)  # an integer on SQLite
    actor: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[Any]] = mapped_column(PackedJson)  # packed

    # On SQLite the rows live in their primary key's b-tree (case, first_seq): one b-tree written per
    # decision, not a table and an index beside it.
    __table_args__ = ({"sqlite_with_rowid": False},)


class CaseArchiveRow(Base):
    """The history of a closed case, moved out of `case_event_pages`, `timers` and `outbox` some days after
    it closed (integrations/db/archive.py): events up to `through_seq`, its fired and cancelled timers
    and its delivered messages, as one JSON document packed at zstd level 9 (archive.encode; archives
    written before 0018 are zlib streams, still read)."""

    __tablename__ = "case_archives"
    # PostgreSQL: the packed archive stays in its row up to 8 KB, never compressed again (migration 0026,
    # which also sets the column's STORAGE EXTERNAL).
    __table_args__ = ({"postgresql_with": {"toast_tuple_target": 8160}},)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    through_seq: Mapped[int] = mapped_column(Integer)
    history: Mapped[bytes] = mapped_column(LargeBinary)


# The tasks a municipal report counts (reporting/figures.py `_task_counts`), and the condition of the
# partial index it reads (migration 0025). The report writes this very text into its query: both
# planners use a partial index only when the query's condition contains the index's, literally.
REPORTED_TASKS = "type IN ('human_task', 'evaluation') AND status <> 'cancelled'"


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(MomentMicros)  # integers on SQLite (migration 0021)
    created_at: Mapped[datetime] = mapped_column(MomentMicros)
    completed_at: Mapped[datetime | None] = mapped_column(MomentMicros)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # Copies of the case's, for the municipal reports (integrations/reporting/figures.py): one index scan per
    # report, by funder (ix_tasks_funder_report, which holds only the tasks a report counts: REPORTED_TASKS;
    # the copy of the municipality went in migration 0025).
    pathway_id: Mapped[str | None] = mapped_column(String(64))
    funder: Mapped[str | None] = mapped_column(String(100))  # the case's, and the task's own record key (0009)
    report_key: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_tasks_funder_report", "funder", "pathway_id", "due_at",
              postgresql_include=["type", "completed_at", "case_id", "report_key"],
              postgresql_where=text(REPORTED_TASKS), sqlite_where=text(REPORTED_TASKS)),
        # "my open tasks" and "the role's queue", both by due moment; only open tasks are indexed.
        Index("ix_tasks_open_assignee", "assignee", "due_at",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_tasks_queue", "role", "team", "due_at",
              postgresql_where=text("status = 'open' AND assignee IS NULL"),
              sqlite_where=text("status = 'open' AND assignee IS NULL")),
    )


# `tasks.status = 'open'` with the value written into the SQL, not bound: the partial open-task indexes
# above apply only where a statement says so itself. With a bound value PostgreSQL cannot use them in a
# prepared statement's generic plan, so it plans the statement again on every execution (the work page:
# 0.65 ms of planning for 0.55 ms of work in the server's statement log, docs/benchmarks.md); with the
# literal it plans it once.
OPEN_TASK: ColumnElement[bool] = TaskRow.status == literal_column("'open'")


class CaseTrackRow(Base):
    """One intervention (a track: a problem area a case works on) per case and track, for the reports.

    A projection of the case state's tracks, upserted when a track changes; copies of the case's
    pathway and funder make the intervention figures one index scan."""

    __tablename__ = "case_tracks"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    track_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pathway_id: Mapped[str] = mapped_column(String(64))
    funder: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # TrackStatus
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(32))  # achieved | not_achieved | stopped
    report_key: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_case_tracks_started", "funder", "pathway_id", "started_at"),
        Index("ix_case_tracks_closed", "funder", "pathway_id", "closed_at"),
    )


class TimerRow(Base):
    __tablename__ = "timers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # TimerStatus values, or "failed" (see timers.py)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_timers_pending_due", "due_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # the message id = idempotency key
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(100))
    to_role: Mapped[str | None] = mapped_column(String(64))
    to_worker: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(PackedJson)  # packed (SQLite: migration 0018; PostgreSQL: 0024)
    created_at: Mapped[datetime] = mapped_column(MomentMicros)  # integers on SQLite (migration 0021)
    deliver_after: Mapped[datetime] = mapped_column(MomentMicros)
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(MomentMicros)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(MomentMicros)

    __table_args__ = (
        Index("ix_outbox_pending_next", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(64))  # the hash of what was asked: a reused key is refused
    result: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditLogRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    who: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    what: Mapped[str] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)
    # The processing-log fields (Logboek Dataverwerkingen, docs/security.md): which API token acted,
    # the request's trace id, the processing activity, the operation and its status.
    token_id: Mapped[int | None] = mapped_column(Integer)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    activity: Mapped[str | None] = mapped_column(String(100))
    operation: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        Index("ix_audit_case_at", "case_id", "at"),
        Index("ix_audit_who_at", "who", "at"),
    )


class PathwayOwnerRow(Base):
    """The organisation (from the account registry) whose coordinators publish a pathway id."""

    __tablename__ = "pathway_owners"

    pathway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str] = mapped_column(String(200))


class SignInFailureRow(Base):
    """Failed sign-ins per source address (`ip:...`) and per account (`user:...`): growing delays."""

    __tablename__ = "web_signin_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseJournalRow(Base):
    """One entry of a case's journal (rapportage): personal data, deleted when the client is erased."""

    __tablename__ = "case_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # journal.KINDS
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the contact took place
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(100))
    track_id: Mapped[str | None] = mapped_column(String(64))
    corrects: Mapped[int | None] = mapped_column(Integer)  # the entry this one corrects

    __table_args__ = (Index("ix_case_journal_case", "case_id", "happened_at"),)
