"""Tables for partners in the loop: single-use referral links, calendar feeds, partner meetings.

Like sessions and API tokens, a link or feed secret is a long random string of which only the
SHA-256 is stored: a copy of the database opens no referral and no calendar. None of these
tables holds client data; a meeting keeps the case ids of its agenda, and the decisions are
events on each case (`meeting_decision_recorded`). Migration `0013_referrals`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.models import Base, UTCDateTime


class ReferralLinkRow(Base):
    __tablename__ = "referral_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the secret in the link
    task_id: Mapped[str] = mapped_column(String(100), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    partner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarFeedRow(Base):
    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PartnerMeetingRow(Base):
    __tablename__ = "partner_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pathway_id: Mapped[str] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(100))
    held_on: Mapped[datetime] = mapped_column(UTCDateTime)
    chaired_by: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[list[str]] = mapped_column(JSON)  # partner roles present
    agenda: Mapped[dict[str, Any]] = mapped_column(JSON)  # case ids per agenda section, counts per partner
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_partner_meetings_pathway", "pathway_id", "team", "held_on"),)
