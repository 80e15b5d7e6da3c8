"""Growing delays after failed sign-ins, per source address and per account; never a hard lock.

Five failures in a row used to lock an account for 15 minutes, so anyone could lock anyone out
(the administrator too) with five guesses. Now each failure is counted twice: for the address it
came from (`ip:<address>`) and for the user name tried (`user:<name>`). After `free_failures`
failures a key must wait before its next try: 1 s, then 2, 4, 8, ... seconds, up to
`account_cap` (60 s) for a user name and `source_cap` (15 min) for an address. A try during the
wait is answered at once, without hashing and without counting, so a guesser slows down and a
person whose name is being guessed waits a minute at most. A count is forgotten after
`forget_after` without failures; a good sign-in clears its user name's count (not the address's:
an attacker with an account of their own must not reset their address by signing in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from integrations.db.models import SignInFailureRow


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5  # failures per key before the first delay
    first_delay: timedelta = timedelta(seconds=1)
    account_cap: timedelta = timedelta(seconds=60)
    source_cap: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)


def source_key(address: str) -> str:
    return f"ip:{address[:280]}"


def account_key(username: str) -> str:
    return f"user:{username.strip().lower()[:280]}"


def wait_needed(session: Session, keys: list[str], now: datetime) -> timedelta | None:
    """How long before any of `keys` may try again (None: now)."""
    rows = session.execute(select(SignInFailureRow.blocked_until).where(SignInFailureRow.key.in_(keys))).scalars()
    longest = max((until - now for until in rows if until > now), default=None)
    return longest


def delay_after(failures: int, cap: timedelta, policy: ThrottlePolicy) -> timedelta:
    """The wait after `failures` failures in a row: none at first, then doubling up to `cap`."""
    beyond = failures - policy.free_failures
    if beyond < 0:
        return timedelta(0)
    delay: timedelta = min(policy.first_delay * (2 ** min(beyond, 30)), cap)
    return delay


def record_failure(session: Session, source: str, username: str, now: datetime,
                   policy: ThrottlePolicy) -> dict[str, datetime]:
    """Count one failed sign-in for the address and the user name (in the caller's short transaction);
    returns until when each key now waits."""
    waits: dict[str, datetime] = {}
    for key, cap in ((source_key(source), policy.source_cap), (account_key(username), policy.account_cap)):
        row = session.get(SignInFailureRow, key, with_for_update=True)
        if row is None:
            row = SignInFailureRow(key=key, failures=0, last_failure_at=now, blocked_until=now)
            session.add(row)
        elif now - row.last_failure_at > policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        row.blocked_until = now + delay_after(row.failures, cap, policy)
        waits[key] = row.blocked_until
    session.flush()
    # Counts nobody added to for a while are cleared now and then, on a failure.
    session.execute(delete(SignInFailureRow).where(SignInFailureRow.last_failure_at < now - policy.forget_after * 24))
    return waits


def clear_account(session: Session, username: str) -> None:
    """A good sign-in (or an administrator) clears the user name's count."""
    session.execute(delete(SignInFailureRow).where(SignInFailureRow.key == account_key(username)))
