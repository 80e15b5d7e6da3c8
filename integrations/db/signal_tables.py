"""The tables of early signals (DDAS vroegsignalen): one row per signal, its client apart.

`ddas_signals` holds what carepath needs to route, count and report a signal, without identifying
the client: the client is a keyed hash (`client_key` of the BSN, `address_key` of postcode +
huisnummer + toevoeging, both made with the installation's pseudonym secret). What the partner sent
about the client (BSN, address, birth date) sits in `ddas_signal_clients`, one row per signal, so
the retention flow erases a client by deleting a row. The row key is a hash of the partner and the
signal ID: importing a signal twice finds the row instead of adding one. Migration `0010_early_signals`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from integrations.db.models import Base, JsonDoc, UTCDateTime


class SignalRow(Base):
    __tablename__ = "ddas_signals"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(partner, signal ID)
    partner: Mapped[str] = mapped_column(String(300))  # kvk:<number> or naam:<name>: owner of the IDs
    signal_id: Mapped[str] = mapped_column(String(200))  # the DDAS `ID` as delivered
    partner_type: Mapped[str] = mapped_column(String(40))  # EnumSignaalpartner
    partner_name: Mapped[str] = mapped_column(String(300))
    municipality: Mapped[str] = mapped_column(String(6))  # GM0014 (DDAS gemeentecode 0014)
    signaaldatum: Mapped[date | None] = mapped_column(Date)
    ontstaansdatum: Mapped[date | None] = mapped_column(Date)
    bedrag: Mapped[int | None] = mapped_column(Integer)
    crisis: Mapped[bool] = mapped_column(Boolean)
    warm: Mapped[bool] = mapped_column(Boolean)  # warmeOverdracht
    content_hash: Mapped[str] = mapped_column(String(64))  # of the signal as delivered: a changed re-delivery shows
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    match: Mapped[str] = mapped_column(String(20))  # matching.MatchLevel value
    client_key: Mapped[str | None] = mapped_column(String(64))
    address_key: Mapped[str | None] = mapped_column(String(64))
    pathway_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64))  # new or linked case (id chosen at import)
    case_opened: Mapped[bool] = mapped_column(Boolean)  # False: the opener still has to start it
    disposition: Mapped[str] = mapped_column(String(20))  # new_case | linked | not_taken_up
    status: Mapped[str] = mapped_column(String(60))  # EnumSignaalstatus
    reason: Mapped[str | None] = mapped_column(String(300))  # why not taken up or refused, in Dutch (never to partners)
    feedback_queued: Mapped[bool] = mapped_column(Boolean)  # "opgepakt"/"niet opgepakt" sent to the partner

    __table_args__ = (
        Index("ix_ddas_signals_export", "municipality", "signaaldatum"),
        Index("ix_ddas_signals_client", "client_key"),
        Index("ix_ddas_signals_address", "address_key"),
        Index("ix_ddas_signals_case", "case_id"),
        Index("ix_ddas_signals_to_open", "case_opened", "disposition"),
    )


class SignalClientRow(Base):
    __tablename__ = "ddas_signal_clients"

    key: Mapped[str] = mapped_column(ForeignKey("ddas_signals.key", ondelete="CASCADE"), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc)  # the DDAS `client` object as delivered
