"""Delivering the outbox: plain functions the dispatch flow (`flows.py`) orchestrates.

Each batch starts with one claiming transaction over pending messages whose
moment (`next_attempt_at`, first `deliver_after`: already moved into working
hours by the pathway calendar) has passed, oldest first; rows are locked
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite).

* **Transactional channels** (in-app `inbox`, `letter` and `export` files) are
  delivered inside that transaction: the inbox row (keyed by the message id),
  or the file `<data dir>/letters|exports/<message id>.json` written atomically,
  the attempt record and the `sent` mark commit together. Exactly once: a crash
  rolls all of it back (a file left behind is rewritten identically, by name).
* **Remote channels** (`email`, `webhook`) are leased in that transaction: the
  message's `next_attempt_at` moves to `now + lease`, so nobody else takes it
  while we try, and that exact value is our fencing token. After commit each
  message is sent (SMTP `Message-ID <id@carepath>`, webhook `Idempotency-Key: id`)
  and at once marked in its own transaction, with its attempt record, fenced on
  the token. The only window for a duplicate is a crash after the receiver took
  the message and before that mark commits: at-least-once, with a stable key the
  receiver de-duplicates on. A message is not started when less than its
  channel's timeout is left on the lease, so two dispatchers never send it at
  the same time.

A failed try is retried after an exponential backoff (kept inside working
hours); a permanent failure (no address, refused) or the last allowed try
marks the message `failed` and opens an incident. Nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.errors import CarepathError
from integrations.db.engine_factory import is_sqlite, write_session
from integrations.db.models import CaseRow, OutboxRow, TaskRow
from integrations.db.sql import table
from integrations.exchange.notificaties.message import check, notificatie
from integrations.partners.links import LINK_PATH, issue_link
from integrations.runtime import incidents
from integrations.runtime.channels import DeliveryError, Mailer, post_webhook
from integrations.runtime.config import RuntimeConfig
from integrations.runtime.directory import Addressee, Directory
from integrations.runtime.models import DeliveryAttemptRow, InboxMessageRow
from integrations.runtime.sweep import run_name
from integrations.runtime.templates import REFERRAL_LINK_TEMPLATE, MessageFacts, Rendered, render
from integrations.service import CaseService

log = logging.getLogger("carepath.dispatch")

TRANSACTIONAL = frozenset({"inbox", "letter", "export"})
REMOTE = frozenset({"email", "webhook", "handover"})  # handover: starts or answers another case
SKIPPED = "skipped"  # outbox status: a reminder whose task was done before it could go out
OBSOLETE_WHEN_DONE = frozenset({"reminder_before", "reminder_overdue"})
FILE_DIRS = {"letter": "letters", "export": "exports", "email": "mail"}

Progress = Callable[[str], None]


def _no_progress(_: str) -> None:
    pass


@dataclass(frozen=True)
class Claimed:
    """One claimed outbox message with the public facts of its case."""

    id: str
    case_id: str
    pathway_id: str
    pathway_version: int
    team: str | None
    channel: str
    template: str
    to_role: str | None
    to_worker: str | None
    task_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    lease: datetime | None = None  # remote channels: our fencing token (next_attempt_at as we set it)


@dataclass
class DispatchResult:
    moment: datetime
    sent: Counter[str] = field(default_factory=Counter)  # per channel
    retrying: int = 0  # failed tries that will be tried again
    failed: int = 0  # given up: incidents
    skipped: int = 0  # reminders whose task was already done
    lease_lost: int = 0  # sent although another dispatcher had taken the message over (a duplicate)
    postponed: int = 0  # not started: too little left on the lease
    claimed: int = 0
    batches: int = 0
    incidents: int = 0
    seconds: float = 0.0

    @property
    def sent_total(self) -> int:
        return sum(self.sent.values())

    def absorb(self, other: DispatchResult) -> None:
        self.sent.update(other.sent)
        for name in ("retrying", "failed", "skipped", "lease_lost", "postponed", "claimed", "batches", "incidents"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds

    def run_name(self, due: Mapping[str, int]) -> str:
        return run_name("dispatch", self.moment, due)

    def to_json(self) -> dict[str, Any]:
        return {"moment": self.moment.isoformat(), "sent": self.sent_total, "sent_by_channel": dict(self.sent),
                "retrying": self.retrying, "failed": self.failed, "skipped": self.skipped,
                "lease_lost": self.lease_lost, "postponed": self.postponed, "claimed": self.claimed,
                "batches": self.batches, "incidents": self.incidents, "seconds": round(self.seconds, 3)}


def deliverable_by_channel(service: CaseService, now: datetime) -> dict[str, int]:
    """Pending messages whose moment has come, per channel (the run's name)."""
    from sqlalchemy import func

    from integrations.db.engine_factory import read_session

    with read_session(service.db) as session:
        rows = session.execute(
            select(OutboxRow.channel, func.count())
            .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)
            .group_by(OutboxRow.channel)
        )
        return {channel: int(n) for channel, n in rows}


_OUTBOX = table(OutboxRow)
_LEASE = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("k_id"))
          .values(next_attempt_at=bindparam("v_lease")))
_ATTEMPT = insert(table(DeliveryAttemptRow))
_MARK_SENT_FENCED = (update(_OUTBOX)
                     .where(_OUTBOX.c.id == bindparam("k_id"), _OUTBOX.c.status == "pending",
                            _OUTBOX.c.next_attempt_at == bindparam("k_lease"))
                     .values(status="sent", sent_at=bindparam("v_at"), attempts=_OUTBOX.c.attempts + 1,
                             last_error=None))
_MARK_SENT = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("k_id"), _OUTBOX.c.status == "pending")
              .values(status="sent", sent_at=bindparam("v_at"), attempts=_OUTBOX.c.attempts + 1, last_error=None))


class Dispatcher:
    """Delivers due outbox messages for one installation (configuration, directory, data dir)."""

    def __init__(
        self,
        service: CaseService,
        config: RuntimeConfig,
        directory: Directory,
        data_dir: Path,
        *,
        mailer: Callable[[], Mailer] | None = None,
        webhook: Callable[..., str] = post_webhook,
        progress: Progress = _no_progress,
        name: str | None = None,
    ) -> None:
        self.service = service
        self.config = config
        self.directory = directory
        self.data_dir = data_dir
        self._mailer = mailer or (lambda: Mailer(config.mail))
        self._webhook = webhook
        self._progress = progress
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._postgres = not is_sqlite(service.db)
        # Without an SMTP server (a fresh or demo installation) e-mails are kept as .eml files in
        # <data dir>/mail, delivered like letters: nothing is lost, nothing floods the incidents.
        self.local_channels = TRANSACTIONAL | ({"email"} if config.mail.host is None else set())

    # --- the loop -------------------------------------------------------------------------------------
    def dispatch_once(self, now: datetime | None = None, *, max_batches: int = 1000) -> DispatchResult:
        """Deliver batches until nothing deliverable is left at `now` (or max_batches)."""
        moment = now or self.service.clock.now()
        total = DispatchResult(moment=moment)
        for _ in range(max_batches):
            part = self.dispatch_batch(moment)
            total.absorb(part)
            if part.claimed < self.config.dispatch.batch_size:
                break
        return total

    def dispatch_batch(self, now: datetime | None = None) -> DispatchResult:
        started = time.perf_counter()
        moment = now or self.service.clock.now()
        result = DispatchResult(moment=moment, batches=1)
        try:
            remote = self._claim(moment, result, limit=self.config.dispatch.batch_size)
        except SQLAlchemyError as exc:  # one bad message must not block the rest: deliver one by one
            log.warning("dispatch batch failed (%s); delivering its messages one at a time", exc)
            result = DispatchResult(moment=moment, batches=1)
            remote = []
            for _ in range(self.config.dispatch.batch_size):
                before = result.claimed
                try:
                    remote += self._claim(moment, result, limit=1)
                except SQLAlchemyError as single:
                    if not self._record_storage_failure(moment, single, result):
                        break
                    continue
                if result.claimed == before:
                    break
            result.claimed = max(result.claimed, self.config.dispatch.batch_size)  # go on with the next batch
        self._progress("claimed")
        if remote:
            self._send_remote(remote, result)
        result.seconds = time.perf_counter() - started
        return result

    # --- claiming (and transactional delivery) --------------------------------------------------------
    def _deliverable(self, now: datetime, limit: int) -> Any:
        query = (
            select(OutboxRow.id, OutboxRow.case_id, CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.team,
                   OutboxRow.channel, OutboxRow.template, OutboxRow.to_role, OutboxRow.to_worker,
                   OutboxRow.task_id, OutboxRow.payload, OutboxRow.created_at, OutboxRow.attempts)
            .join(CaseRow, CaseRow.id == OutboxRow.case_id)
            .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(limit)
        )
        return query.with_for_update(of=OutboxRow, skip_locked=True) if self._postgres else query

    def _record_storage_failure(self, now: datetime, error: SQLAlchemyError, result: DispatchResult) -> bool:
        """The first deliverable message could not be delivered for a database reason: count it as a
        failed try (so it backs off and, in the end, becomes an incident). False when there is none."""
        with write_session(self.service.db) as session:
            row = session.execute(self._deliverable(now, 1)).first()
            if row is None:
                return False
            self._failed(session, Claimed(*row), now, now,
                         DeliveryError(f"database refused it: {type(error).__name__}: {error}"), result)
        return True

    def _claim(self, now: datetime, result: DispatchResult, *, limit: int) -> list[Claimed]:
        settings = self.config.dispatch
        with write_session(self.service.db) as session:
            claimed = [Claimed(*row) for row in session.execute(self._deliverable(now, limit)).all()]
            result.claimed += len(claimed)
            obsolete = self._obsolete(session, claimed)
            local = [m for m in claimed if m.channel in self.local_channels and m.id not in obsolete]
            remote = [m for m in claimed if m.channel not in self.local_channels and m.id not in obsolete]
            if obsolete:
                self._finish(session, [(m, now, SKIPPED, "its task was done before it could be sent")
                                       for m in claimed if m.id in obsolete])
                result.skipped += len(obsolete)
            if local:
                self._deliver_local(session, local, now, result)
            lease = now + settings.lease
            leased = [Claimed(**{**m.__dict__, "lease": lease}) for m in remote]
            if leased:
                session.connection().execute(_LEASE, [{"k_id": m.id, "v_lease": lease} for m in leased])
        return leased

    def _obsolete(self, session: Session, claimed: list[Claimed]) -> set[str]:
        """Reminders whose task is no longer open (done while the reminder waited for working hours)."""
        reminders = {m.task_id: m.id for m in claimed if m.template in OBSOLETE_WHEN_DONE and m.task_id}
        if not reminders:
            return set()
        still_open = set(session.execute(
            select(TaskRow.id).where(TaskRow.id.in_(list(reminders)), TaskRow.status == "open")
        ).scalars())
        return {m.id for m in claimed if m.template in OBSOLETE_WHEN_DONE and m.task_id
                and m.task_id not in still_open}

    def _facts(self, m: Claimed) -> MessageFacts:
        try:
            title = self.service.catalog.lookup(m.pathway_id, m.pathway_version).pathway.title
        except CarepathError:
            title = m.pathway_id
        return MessageFacts(message_id=m.id, template=m.template, channel=m.channel, case_id=m.case_id,
                            task_id=m.task_id, pathway_title=title, payload=m.payload,
                            link=self.config.link(m.task_id, m.case_id))

    def _deliver_local(self, session: Session, messages: list[Claimed], now: datetime,
                       result: DispatchResult) -> None:
        inbox_rows: list[dict[str, Any]] = []
        done: list[tuple[Claimed, datetime, str, str | None]] = []
        failures: list[tuple[Claimed, DeliveryError]] = []
        for m in messages:
            try:
                if m.channel == "inbox":
                    rendered = render(self._facts(m), signature=False)
                    inbox_rows.append({
                        "id": m.id, "case_id": m.case_id, "task_id": m.task_id, "pathway_id": m.pathway_id,
                        "team": m.team, "to_role": m.to_role, "to_worker": m.to_worker, "template": m.template,
                        "subject": rendered.subject[:300], "body": rendered.body,
                        "link": self.config.link(m.task_id, m.case_id)[:500], "created_at": m.created_at,
                        "delivered_at": now, "read_at": None,
                    })
                    done.append((m, now, "sent", "in the inbox"))
                else:
                    path = self._write_file(session, m, now)
                    done.append((m, now, "sent", str(path)))
            except (OSError, CarepathError, KeyError, ValueError) as exc:
                failures.append((m, DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)))
        if inbox_rows:
            session.execute(insert(InboxMessageRow), inbox_rows)
        self._finish(session, done)
        for m, _, _, _ in done:
            result.sent[m.channel] += 1
        for m, error in failures:
            self._failed(session, m, now, now, error, result)

    def _write_file(self, session: Session, m: Claimed, now: datetime) -> Path:
        folder = self.data_dir / FILE_DIRS[m.channel]
        folder.mkdir(parents=True, exist_ok=True)
        if m.channel == "email":
            to = self.directory.emails(Addressee(role=m.to_role, worker=m.to_worker, team=m.team,
                                                 pathway_id=m.pathway_id))
            rendered = self._render(m, session)
            email = Mailer(self.config.mail).compose(
                m.id, to or [f"{m.to_worker or m.to_role}@unconfigured.invalid"], rendered.subject, rendered.body, now)
            return _atomic_write(folder / f"{m.id}.eml", email.as_bytes())
        if m.channel == "letter":
            rendered = render(self._facts(m), signature=False)
            record: dict[str, Any] = {
                "message_id": m.id, "case_id": m.case_id, "pathway": m.pathway_id, "template": m.template,
                "to": m.payload.get("to", "client"), "to_role": m.to_role, "step": m.payload.get("step"),
                "queued_at": m.created_at.isoformat(), "written_at": now.isoformat(),
                "cover_note": rendered.body,
            }
        else:
            record = self._registration_record(session, m, now)
        content = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        return _atomic_write(folder / f"{m.id}.json", content)

    def _registration_record(self, session: Session, m: Claimed, now: datetime) -> dict[str, Any]:
        """The case's registration record: no personal data; origin only when asked, registered and not
        objected to."""
        row = session.execute(
            select(CaseRow.pseudonym, CaseRow.status, CaseRow.opened_at, CaseRow.closed_at, CaseRow.outcome,
                   CaseRow.close_reason, CaseRow.team, CaseRow.state).where(CaseRow.id == m.case_id)
        ).one()
        state = row.state or {}
        record: dict[str, Any] = {
            "message_id": m.id, "model": m.payload.get("model", "amw"), "case_id": m.case_id,
            "pseudonym": row.pseudonym, "pathway": m.pathway_id, "pathway_version": m.pathway_version,
            "team": row.team, "municipality": state.get("municipality"), "trigger": state.get("trigger"),
            "status": row.status, "opened_at": row.opened_at.isoformat(),
            "closed_at": row.closed_at.isoformat() if row.closed_at else None, "outcome": row.outcome,
            "close_reason": row.close_reason,
            "tracks": {k: v.get("result") or v.get("status") for k, v in (state.get("tracks") or {}).items()},
            "exported_at": now.isoformat(),
        }
        declared = self._declared_registration(m)
        if declared is not None:
            from engine.registration import facts
            from engine.registration import record as registration_record

            record["declared"] = registration_record(declared, state.get("data") or {}, {
                **facts(state), "outcome": row.outcome, "opened_on": row.opened_at.date().isoformat(),
                "closed_on": row.closed_at.date().isoformat() if row.closed_at else None})
        if m.payload.get("include_origin") and state.get("origin") and not state.get("origin_objection"):
            record["origin"] = state["origin"]
        return record

    def _declared_registration(self, m: Claimed) -> Any:
        """The registration model the case's pathway declares, when the message asks for that model."""
        try:
            declared = self.service.catalog.lookup(m.pathway_id, m.pathway_version).pathway.registration
        except CarepathError:
            return None
        return declared if declared is not None and declared.model == m.payload.get("model") else None

    def _finish(self, session: Session, done: list[tuple[Claimed, datetime, str, str | None]]) -> None:
        """Mark messages delivered (or skipped) and write their attempt records, in the caller's transaction."""
        if not done:
            return
        session.execute(insert(DeliveryAttemptRow), [
            {"message_id": m.id, "attempt": m.attempts + 1, "channel": m.channel, "started_at": started,
             "finished_at": self.service.clock.now(), "outcome": outcome, "detail": detail,
             "dispatcher": self.name}
            for m, started, outcome, detail in done
        ])
        now = self.service.clock.now()
        sent = [m for m, _, outcome, _ in done if outcome == "sent"]
        skipped = [m for m, _, outcome, _ in done if outcome == SKIPPED]
        if sent:
            session.connection().execute(_MARK_SENT, [{"k_id": m.id, "v_at": now} for m in sent])
        for m in skipped:
            session.execute(update(OutboxRow).where(OutboxRow.id == m.id)
                            .values(status=SKIPPED, attempts=OutboxRow.attempts + 1, last_error=None)
                            .execution_options(synchronize_session=False))

    # --- remote channels ------------------------------------------------------------------------------
    def _send_remote(self, messages: list[Claimed], result: DispatchResult) -> None:
        emails = [m for m in messages if m.channel == "email"]
        for m in (m for m in messages if m.channel == "handover"):
            self._send_one(m, result, functools.partial(self._deliver_handover, m), self.config.webhook_timeout)
        others = [m for m in messages if m.channel not in ("email", "handover")]
        if emails:
            with self._mailer() as mailer:
                for m in emails:
                    self._send_one(m, result, functools.partial(self._send_email, mailer, m),
                                   self.config.mail.timeout)
        for m in others:
            self._send_one(m, result, functools.partial(self._send_webhook, m), self.config.webhook_timeout)

    def _send_one(self, m: Claimed, result: DispatchResult, send: Callable[[], str], timeout: float) -> None:
        assert m.lease is not None
        started = self.service.clock.now()
        if started + timedelta(seconds=timeout) >= m.lease:
            result.postponed += 1  # the lease runs out: another dispatcher (or our next batch) takes it
            return
        try:
            if m.channel not in REMOTE:
                raise DeliveryError(f"unknown channel {m.channel!r}", permanent=True)
            detail = send()
        except DeliveryError as error:
            self._progress("attempted")
            with write_session(self.service.db) as session:
                self._failed(session, m, started, self.service.clock.now(), error, result)
            self._progress("marked")
            return
        self._progress("sent")
        with write_session(self.service.db) as session:
            connection = session.connection()
            if self._postgres:
                # The receiver has the message already: losing this mark in a database crash means one
                # more send with the same key (which receivers de-duplicate), never a lost message. So
                # the mark need not wait for its WAL flush (it would cost a disk flush per message).
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            finished = self.service.clock.now()
            connection.execute(_ATTEMPT, {
                "message_id": m.id, "attempt": m.attempts + 1, "channel": m.channel, "started_at": started,
                "finished_at": finished, "outcome": "sent", "detail": detail, "dispatcher": self.name})
            marked = connection.execute(_MARK_SENT_FENCED, {"k_id": m.id, "k_lease": m.lease, "v_at": finished})
            if not marked.rowcount:
                result.lease_lost += 1
                log.warning("message %s was sent, but another dispatcher had taken it over (lease ran out)", m.id)
        result.sent[m.channel] += 1
        self._progress("marked")

    def _render(self, m: Claimed, session: Session | None = None) -> Rendered:
        facts = self._facts(m)
        if m.template == REFERRAL_LINK_TEMPLATE:
            facts = self._with_referral_link(m, facts, session)
        return render(facts)

    def _with_referral_link(self, m: Claimed, facts: MessageFacts, session: Session | None) -> MessageFacts:
        """A fresh single-use link for the partner (integrations.partners.links), made as it is sent."""
        task_id = m.task_id or str(m.payload.get("task_id") or "")
        if not task_id or m.to_role is None:
            raise DeliveryError("a referral link without its referral", permanent=True)
        now = self.service.clock.now()
        if session is None:
            with write_session(self.service.db) as own:
                token = issue_link(own, task_id=task_id, case_id=m.case_id, partner=m.to_role, now=now)
        else:
            token = issue_link(session, task_id=task_id, case_id=m.case_id, partner=m.to_role, now=now)
        link = self.config.base_url.rstrip("/") + LINK_PATH.format(token=token)
        return dataclasses.replace(facts, link=link)

    def _send_email(self, mailer: Mailer, m: Claimed) -> str:
        to = self.directory.emails(Addressee(role=m.to_role, worker=m.to_worker, team=m.team, pathway_id=m.pathway_id))
        if not to:
            who = f"worker {m.to_worker}" if m.to_worker and not m.to_role else f"role {m.to_role}"
            raise DeliveryError(f"no e-mail address for {who}" + (f" in team {m.team}" if m.team else "")
                                + f" on {m.pathway_id} (config.yaml: workers/roles)", permanent=True)
        rendered = self._render(m)
        return mailer.send(m.id, to, rendered.subject, rendered.body, self.service.clock.now())

    def _deliver_handover(self, m: Claimed) -> str:
        from integrations import handover

        try:
            return handover.deliver(self.service, m.id, m.case_id, m.template, m.payload)
        except handover.HandoverError as exc:
            raise DeliveryError(str(exc), permanent=exc.permanent) from exc

    def _send_webhook(self, m: Claimed) -> str:
        if m.to_role is None:
            raise DeliveryError("a webhook without a partner role", permanent=True)
        endpoint = self.directory.partner(m.to_role, m.pathway_id)
        if endpoint is None and self.config.webhook_sink:
            # no endpoint for this partner, and the installation says so on purpose (the demo): the
            # Notificaties message is kept in <data dir>/webhooks, like a letter; no incident
            body = webhook_body(m, render(self._facts(m), signature=False), self.config.base_url)
            folder = self.data_dir / "webhooks"
            folder.mkdir(parents=True, exist_ok=True)
            return f"kept in {_atomic_write(folder / f'{m.id}.json', body)}"
        if endpoint is None:
            raise DeliveryError(f"no webhook for partner {m.to_role} on {m.pathway_id} (config.yaml: partners)",
                                permanent=True)
        rendered = render(self._facts(m), signature=False)
        body = webhook_body(m, rendered, self.config.base_url)
        return self._webhook(endpoint, m.id, body, int(self.service.clock.now().timestamp()),
                             self.config.webhook_timeout)

    # --- failures -------------------------------------------------------------------------------------
    def _failed(self, session: Session, m: Claimed, started: datetime, finished: datetime, error: DeliveryError,
                result: DispatchResult) -> None:
        settings = self.config.dispatch
        attempt = m.attempts + 1
        give_up = error.permanent or attempt >= settings.max_attempts
        retry_at = None if give_up else self._retry_moment(m, finished + settings.backoff(attempt))
        session.execute(insert(DeliveryAttemptRow).values(
            message_id=m.id, attempt=attempt, channel=m.channel, started_at=started, finished_at=finished,
            outcome="failed" if give_up else "retry", detail=str(error)[:2000], dispatcher=self.name))
        values: dict[str, Any] = {"attempts": OutboxRow.attempts + 1, "last_error": str(error)[:2000]}
        if give_up:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
        conditions = [OutboxRow.id == m.id, OutboxRow.status == "pending"]
        if m.lease is not None:
            conditions.append(OutboxRow.next_attempt_at == m.lease)
        updated = session.execute(update(OutboxRow).where(*conditions).values(**values)
                                  .execution_options(synchronize_session=False))
        if not updated.rowcount:  # type: ignore[attr-defined]
            result.lease_lost += 1
            return
        if not give_up:
            result.retrying += 1
            return
        result.failed += 1
        why = "kan niet worden afgeleverd" if error.permanent else f"is na {attempt} pogingen niet afgeleverd"
        result.incidents += incidents.raise_incident(
            session, kind=incidents.DELIVERY_FAILED, ref=m.id, case_id=m.case_id, pathway_id=m.pathway_id,
            team=m.team, now=finished,
            summary=f"Bericht '{m.template}' ({_CHANNEL_NL.get(m.channel, m.channel)}) van dossier {m.case_id} "
                    f"{why}.",
            detail=f"{m.channel} to {m.to_worker or m.to_role or 'client'}: {error}",
        )

    def _retry_moment(self, m: Claimed, moment: datetime) -> datetime:
        """Retries keep the quiet hours of the pathway (24/7 pathways have none)."""
        try:
            calendar = self.service.catalog.lookup(m.pathway_id, m.pathway_version).calendar
        except CarepathError:
            return moment
        return calendar.next_delivery_moment(moment)


def _atomic_write(path: Path, content: bytes) -> Path:
    """Write `path` whole or not at all; the same name every time, so a repeat after a crash
    rewrites the file instead of adding one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


_CHANNEL_NL = {"email": "e-mail", "webhook": "webhook", "inbox": "inbox", "letter": "brief", "export": "export"}


def webhook_body(m: Claimed, rendered: Rendered, base_url: str = RuntimeConfig.base_url) -> bytes:
    """The JSON a partner receives: the same bytes on every try (only the signature's timestamp changes).

    A ZGW Notificaties message (integrations.exchange.notificaties) with carepath's own fields after it."""
    document = notificatie(message_id=m.id, template=m.template, case_id=m.case_id, pathway_id=m.pathway_id,
                           task_id=m.task_id or m.payload.get("task_id"), to_role=m.to_role,
                           created_at=m.created_at, base_url=base_url)
    try:
        check(document)
    except CarepathError as exc:
        raise DeliveryError(str(exc), permanent=True) from exc
    document |= {
        "id": m.id, "type": m.template, "case": m.case_id, "pathway": m.pathway_id, "task_id": m.task_id,
        "queued_at": m.created_at.isoformat(), "subject": rendered.subject, "text": rendered.body,
        "data": {k: v for k, v in m.payload.items() if k in ("question", "answer_before", "message", "task_id")},
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
