"""Single-use, expiring links that let a partner without an account answer one referral.

The link carries a long random secret; only its SHA-256 is stored. A link opens exactly one
referral, works until it expires or is used once, and stops working as soon as the referral
is final. Each answer given through a link spends it; when the referral is still open after
that answer (accepted, in progress), the engine queues a fresh link e-mail for the next one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.errors import NotFoundError
from integrations.db.partner_tables import ReferralLinkRow
from integrations.db.sql import rowcount

LINK_LIFETIME = timedelta(days=14)
LINK_PATH = "/verwijzing/{token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReferralLink:
    task_id: str
    case_id: str
    partner: str
    expires_at: datetime


def issue_link(session: Session, *, task_id: str, case_id: str, partner: str, now: datetime,
               lifetime: timedelta = LINK_LIFETIME) -> str:
    """A new secret for `task_id`; returned once, stored only as a hash."""
    token = secrets.token_urlsafe(32)
    session.execute(insert(ReferralLinkRow).values(
        token_hash=_hash(token), task_id=task_id, case_id=case_id, partner=partner, created_at=now,
        expires_at=now + lifetime, used_at=None))
    return token


def find_link(session: Session, token: str, now: datetime) -> ReferralLink:
    """The referral a valid link opens; NotFoundError (the same for every reason) otherwise."""
    if not token or len(token) > 200:
        raise NotFoundError("deze link bestaat niet")
    row = session.execute(select(ReferralLinkRow).where(ReferralLinkRow.token_hash == _hash(token))).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFoundError("deze link is verlopen, al gebruikt of bestaat niet")
    return ReferralLink(row.task_id, row.case_id, row.partner, row.expires_at)


def spend_link(session: Session, token: str, now: datetime) -> bool:
    """Mark the link used; False when someone used it first (a second tab, a replay)."""
    result = session.execute(
        update(ReferralLinkRow)
        .where(ReferralLinkRow.token_hash == _hash(token), ReferralLinkRow.used_at.is_(None),
               ReferralLinkRow.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    return rowcount(result) == 1


def unspend_link(session: Session, token: str) -> None:
    """Give the link back when the answer it carried was refused (a form error): nothing was recorded."""
    session.execute(update(ReferralLinkRow).where(ReferralLinkRow.token_hash == _hash(token))
                    .values(used_at=None).execution_options(synchronize_session=False))
