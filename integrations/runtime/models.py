"""The runtime's own tables: the in-app inbox, delivery attempts, incidents and late timers.

They sit on the same declarative `Base` as the case tables (one schema, one
migration history: `0002_runtime`). The outbox itself (`outbox`) belongs to the
persistence layer; the runtime only reads it and records what became of each
message.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.models import Base, UTCDateTime


class InboxMessageRow(Base):
    """A message in the web app's inbox; its id is the outbox message id (delivered exactly once)."""

    __tablename__ = "inbox_messages"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(100))
    pathway_id: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(100))
    to_role: Mapped[str | None] = mapped_column(String(64))
    to_worker: Mapped[str | None] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the engine queued it
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_inbox_worker", "to_worker", "delivered_at"),
        Index("ix_inbox_role", "to_role", "team", "delivered_at"),
    )


class InboxReadRow(Base):
    """That one person has read one inbox message: a message to a role is read per person."""

    __tablename__ = "inbox_reads"

    message_id: Mapped[str] = mapped_column(ForeignKey("inbox_messages.id", ondelete="CASCADE"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryAttemptRow(Base):
    """One try to deliver one outbox message, written in the transaction that records its outcome."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)  # 1 for the first try
    channel: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | failed
    detail: Mapped[str | None] = mapped_column(Text)  # error, or what the receiver said
    dispatcher: Mapped[str] = mapped_column(String(200))  # host:pid that tried


class IncidentRow(Base):
    """Something a person has to look at: a message that could not be delivered, a timer that
    could not fire. Open while `resolved_at` is empty; at most one open incident per subject."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))  # delivery_failed | timer_failed
    ref: Mapped[str] = mapped_column(String(120))  # the message id or timer id
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    pathway_id: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)  # one Dutch line for coordinators
    detail: Mapped[str] = mapped_column(Text)  # the technical reason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ux_incidents_open_subject", "kind", "ref", unique=True,
              postgresql_where=text("resolved_at IS NULL"), sqlite_where=text("resolved_at IS NULL")),
    )


class LateTimerRow(Base):
    """A timer that fired more than the configured lateness after its due moment (an outage, a
    backlog). The row is written in the transaction that fired the timer; `id` is the firing order."""

    __tablename__ = "late_timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    timer_id: Mapped[str] = mapped_column(String(100), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    pathway_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late_seconds: Mapped[int] = mapped_column(Integer)
