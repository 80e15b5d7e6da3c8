"""Delivering the outbox (plain functions, no Prefect): every channel, quiet hours end to end,
retries with backoff, incidents, leases. A real SMTP server (aiosmtpd) and a webhook receiver run on
loopback; both backends (SQLite, PostgreSQL) through the `service` fixture."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import OutboxRow
from integrations.runtime import incidents
from integrations.runtime.channels import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, smtp_message_id
from integrations.runtime.context import Runtime
from integrations.runtime.models import DeliveryAttemptRow, InboxMessageRow
from integrations.service import CaseService
from tests.fixtures.notices_pathway import ALWAYS_ID, PATHWAY_ID
from tests.integration.runtime_support import (
    COORDINATOR_MAILS,
    PARTNER_SECRET,
    WORKER_MAIL,
    SmtpSink,
    WebhookSink,
    mail_body,
    make_runtime,
    publish_notices,
    runtime_config,
)

CLIENT = {"client_name": "Fatima El Amrani"}
AMS = "Europe/Amsterdam"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def partners() -> Iterator[WebhookSink]:
    sink = WebhookSink(secrets={"/woonbron": PARTNER_SECRET.encode()}).start()
    yield sink
    sink.stop()


@pytest.fixture
def runtime(service: CaseService, smtp: SmtpSink, partners: WebhookSink, data_dir: Path) -> Runtime:
    with smtp.lock:
        smtp.received.clear()
        smtp.envelopes.clear()
        smtp.refuse_next = 0
    with partners.lock:
        partners.calls.clear()
        partners.statuses.clear()
    publish_notices(service)
    return make_runtime(service, data_dir, runtime_config(smtp.port, partners.url))


def _outbox(runtime: Runtime, case_id: str) -> dict[str, OutboxRow]:
    with read_session(runtime.service.db) as session:
        rows = session.execute(select(OutboxRow).where(OutboxRow.case_id == case_id)).scalars().all()
        return {r.template: r for r in rows}


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(AMS)).astimezone(UTC)


def test_one_case_start_reaches_every_channel_once(runtime: Runtime, clock: ManualClock, smtp: SmtpSink,
                                                  partners: WebhookSink) -> None:
    case_id = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake").case_id
    result = runtime.dispatch_once()
    assert dict(result.sent) == {"webhook": 1, "email": 1, "letter": 1, "export": 1, "inbox": 1}
    assert (result.failed, result.retrying, result.incidents) == (0, 0, 0)
    outbox = _outbox(runtime, case_id)
    assert {r.status for r in outbox.values()} == {"sent"} and {r.attempts for r in outbox.values()} == {1}

    # E-mail: the coordinators, in Dutch, a link, the outbox id as Message-ID, no client name.
    (mail,) = smtp.messages()
    message_id = outbox["pathway_message"].id
    assert mail["Message-ID"] == smtp_message_id(message_id)
    assert mail["Subject"] == "Nieuw signaal binnengekomen"
    assert sorted(smtp.envelopes[0][1]) == sorted(COORDINATOR_MAILS)
    body = mail_body(mail)
    assert "Er is een nieuw signaal binnengekomen" in body and f"Dossier: {case_id}" in body
    assert f"https://carepath.test/cases/{case_id}" in body and "Traject: Testpad berichten" in body

    # Webhook: signed with the partner's secret, idempotency key = outbox id, JSON body.
    (call,) = partners.calls
    assert call.signature_ok and call.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert call.headers[IDEMPOTENCY_HEADER] == outbox["partner_notification"].id
    document = call.json()
    assert document["type"] == "partner_notification" and document["case"] == case_id
    assert document["data"]["message"] == "Wij hebben het signaal ontvangen en gaan langs."

    # Inbox, letter and export: rows and files named by the message id.
    with read_session(runtime.service.db) as session:
        (inbox,) = session.execute(select(InboxMessageRow)).scalars().all()
        attempts = session.execute(select(DeliveryAttemptRow.outcome)).scalars().all()
    assert inbox.id == outbox["task_opened"].id and inbox.to_role == "worker"
    assert inbox.subject == "Nieuwe taak: Huisbezoek" and (inbox.link or "").startswith("https://carepath.test/tasks/")
    assert attempts == ["sent"] * 5
    letter = json.loads((runtime.data_dir / "letters" / f"{outbox['uitnodiging-huisbezoek'].id}.json").read_text())
    assert letter["template"] == "uitnodiging-huisbezoek" and letter["to"] == "client"
    export = json.loads((runtime.data_dir / "exports" / f"{outbox['registration'].id}.json").read_text())
    assert export["model"] == "amw" and export["case_id"] == case_id and "origin" not in export

    # Nothing carries the client's name.
    everywhere = [body, call.body.decode(), inbox.subject, inbox.body, json.dumps(letter), json.dumps(export)]
    assert not [text for text in everywhere if "Fatima" in text or "Amrani" in text]

    # Nothing is delivered twice.
    assert runtime.dispatch_once().sent_total == 0
    assert len(smtp.messages()) == 1 and len(partners.calls) == 1


def test_quiet_hours_sunday_and_kings_day(runtime: Runtime, clock: ManualClock, smtp: SmtpSink) -> None:
    """A reminder that falls due on the Sunday before King's Day (Monday 27 April 2026) goes out on
    Tuesday at 08:00; on the 24x7 pathway the same reminder goes out on Sunday at once."""
    clock.set(_local(2026, 4, 24, 10))  # Friday 10:00
    office = runtime.service.start_case(PATHWAY_ID, "signal", CLIENT, actor="intake",
                                        assignments={"worker": "anna"}).case_id
    always = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake",
                                        assignments={"worker": "anna"}).case_id
    runtime.dispatch_once()  # Friday's messages go out on Friday
    smtp.received.clear()

    clock.set(_local(2026, 4, 26, 6))  # Sunday 06:00: visit due Sunday 10:00, reminder 4 hours before
    swept = runtime.sweep_once()
    assert swept.fired_total == 2 and swept.late_total == 0
    reminders = {case: _outbox(runtime, case)["reminder_before"] for case in (office, always)}
    assert reminders[always].deliver_after == _local(2026, 4, 26, 6)
    assert reminders[office].deliver_after == _local(2026, 4, 28, 8)  # Tuesday 08:00: Monday is King's Day

    assert runtime.dispatch_once().sent["email"] == 1  # Sunday: only the 24x7 pathway's reminder
    (sunday,) = smtp.messages()
    assert sunday["Message-ID"] == smtp_message_id(reminders[always].id)
    assert sunday["To"] == WORKER_MAIL and sunday["Subject"].startswith("Herinnering: Huisbezoek")

    for moment in (_local(2026, 4, 27, 12), _local(2026, 4, 28, 7, 59)):  # King's Day; Tuesday before 08:00
        clock.set(moment)
        runtime.sweep_once()
        assert runtime.dispatch_once().sent.get("email", 0) <= 1  # at most the 24x7 escalation
    assert smtp_message_id(reminders[office].id) not in smtp.by_message_id()
    clock.set(_local(2026, 4, 28, 8))
    runtime.dispatch_once()
    sent = smtp.by_message_id()
    assert sent[smtp_message_id(reminders[office].id)] == 1
    # The office pathway's escalation (due Monday 10:00, King's Day) waited for Tuesday 08:00 too.
    escalation = _outbox(runtime, office)["escalation_notify"]
    assert escalation.deliver_after == _local(2026, 4, 28, 8) and escalation.status == "sent"


def test_dst_change_and_holiday_between_due_and_delivery(runtime: Runtime, clock: ManualClock,
                                                         smtp: SmtpSink) -> None:
    """Saturday 27 March 2027 16:00: the reminder is due. Sunday the clocks go forward (and it is
    Easter), Monday is Easter Monday: it goes out on Tuesday 30 March at 08:00 CEST (06:00 UTC)."""
    clock.set(_local(2027, 3, 25, 20))  # Thursday 20:00: visit due Saturday 20:00
    case_id = runtime.service.start_case(PATHWAY_ID, "signal", CLIENT, actor="intake",
                                         assignments={"worker": "anna"}).case_id
    clock.set(_local(2027, 3, 27, 16))
    assert runtime.sweep_once().fired_total == 1
    reminder = _outbox(runtime, case_id)["reminder_before"]
    assert reminder.deliver_after == datetime(2027, 3, 30, 6, 0, tzinfo=UTC)
    clock.set(_local(2027, 3, 29, 12))  # Easter Monday noon
    runtime.dispatch_once()
    assert smtp_message_id(reminder.id) not in smtp.by_message_id()
    clock.set(datetime(2027, 3, 30, 5, 59, 59, tzinfo=UTC))
    runtime.dispatch_once()
    assert smtp_message_id(reminder.id) not in smtp.by_message_id()
    clock.set(datetime(2027, 3, 30, 6, 0, tzinfo=UTC))
    runtime.dispatch_once()
    (mail,) = [m for m in smtp.messages() if m["Message-ID"] == smtp_message_id(reminder.id)]
    body = mail_body(mail)
    assert "Uiterlijk klaar: zaterdag 27 maart 2027 om 20:00" in body  # the due moment in Dutch wall time


def test_temporary_smtp_failures_back_off_then_become_an_incident(runtime: Runtime, clock: ManualClock,
                                                                  smtp: SmtpSink) -> None:
    case_id = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake").case_id
    smtp.refuse_next = 100
    start = clock.now()
    first = runtime.dispatch_once()
    assert first.retrying == 1 and first.sent["email"] == 0 and first.sent_total == 4
    message = _outbox(runtime, case_id)["pathway_message"]
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at == start + timedelta(seconds=30) and "451" in (message.last_error or "")
    assert runtime.dispatch_once().claimed == 0  # not before its moment
    clock.advance(timedelta(seconds=30))
    assert runtime.dispatch_once().retrying == 1
    assert _outbox(runtime, case_id)["pathway_message"].next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    third = runtime.dispatch_once()
    assert (third.failed, third.incidents) == (1, 1)
    assert _outbox(runtime, case_id)["pathway_message"].status == "failed"
    with read_session(runtime.service.db) as session:
        (incident,) = incidents.list_incidents(session)
        outcomes = session.execute(select(DeliveryAttemptRow.outcome).where(
            DeliveryAttemptRow.message_id == message.id).order_by(DeliveryAttemptRow.id)).scalars().all()
    assert outcomes == ["retry", "retry", "failed"]
    assert incident.kind == "delivery_failed" and incident.ref == message.id and incident.case_id == case_id
    assert "na 3 pogingen niet afgeleverd" in incident.summary and "451" in incident.detail

    # A person retries it once the mail server is back: delivered once, the incident closed.
    smtp.refuse_next = 0
    with write_session(runtime.service.db) as session:
        done = incidents.retry(session, incident.id, by="bert", now=clock.now())
    assert done.resolution == "retry: message put back in the outbox"
    assert runtime.dispatch_once().sent["email"] == 1
    assert smtp.by_message_id() == {smtp_message_id(message.id): 1}
    with read_session(runtime.service.db) as session:
        assert incidents.list_incidents(session) == []


def test_no_address_or_refusing_partner_is_an_incident_at_once(service: CaseService, clock: ManualClock,
                                                              smtp: SmtpSink, partners: WebhookSink,
                                                              data_dir: Path) -> None:
    publish_notices(service)
    config = runtime_config(smtp.port, partners.url, roles={"coordinator": []})  # nobody holds coordinator
    runtime = make_runtime(service, data_dir, config)
    partners.statuses[:] = [404]
    case_id = service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake").case_id
    result = runtime.dispatch_once()
    assert (result.failed, result.incidents, result.retrying) == (2, 2, 0)
    with read_session(service.db) as session:
        found = {i.ref: i for i in incidents.list_incidents(session)}
    outbox = _outbox(runtime, case_id)
    mail = found[outbox["pathway_message"].id]
    assert "no e-mail address for role coordinator" in mail.detail and "kan niet worden afgeleverd" in mail.summary
    assert "answered HTTP 404" in found[outbox["partner_notification"].id].detail


def test_a_5xx_partner_is_tried_again_with_the_same_key(runtime: Runtime, clock: ManualClock,
                                                        partners: WebhookSink) -> None:
    partners.statuses[:] = [503]
    case_id = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake").case_id
    assert runtime.dispatch_once().retrying == 1
    clock.advance(timedelta(seconds=30))
    assert runtime.dispatch_once().sent["webhook"] == 1
    keys = [c.headers[IDEMPOTENCY_HEADER] for c in partners.calls]
    assert keys == [_outbox(runtime, case_id)["partner_notification"].id] * 2
    assert len({c.body for c in partners.calls}) == 1  # the same bytes each try; only the signature's time moves


def test_an_expiring_lease_is_not_used_to_send(runtime: Runtime, clock: ManualClock, smtp: SmtpSink) -> None:
    """Dispatcher A claims an e-mail and stalls past its lease; B takes it over and sends it. A then
    finds too little lease left and does not send: the receiver gets it once."""
    runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake")
    a, b = runtime.dispatcher(name="a"), runtime.dispatcher(name="b")
    from integrations.runtime.dispatch import DispatchResult

    claimed_by_a = a._claim(clock.now(), DispatchResult(moment=clock.now()), limit=100)
    assert sorted(m.channel for m in claimed_by_a) == ["email", "webhook"]  # inbox, letter, export: delivered
    clock.advance(timedelta(minutes=5))  # A's lease has run out
    assert b.dispatch_once().sent["email"] == 1
    late = DispatchResult(moment=clock.now())
    a._send_remote(claimed_by_a, late)
    assert late.sent_total == 0 and late.postponed == 2
    assert len(smtp.messages()) == 1


def test_a_reminder_for_a_task_done_meanwhile_is_not_sent(runtime: Runtime, clock: ManualClock,
                                                         smtp: SmtpSink) -> None:
    clock.set(_local(2026, 4, 24, 10))
    case_id = runtime.service.start_case(PATHWAY_ID, "signal", CLIENT, actor="intake",
                                         assignments={"worker": "anna"}).case_id
    runtime.dispatch_once()
    clock.set(_local(2026, 4, 26, 6))
    runtime.sweep_once()  # Sunday: the reminder waits for Tuesday 08:00
    visit = next(t.id for t in runtime.service.case(case_id).open_tasks() if t.step_id == "visit")
    runtime.service.complete_task(visit, {"note": "geweest"}, actor="anna")  # done on King's Day
    clock.set(_local(2026, 4, 28, 8))
    result = runtime.dispatch_once()
    assert result.skipped == 1
    reminder = _outbox(runtime, case_id)["reminder_before"]
    assert reminder.status == "skipped"
    assert smtp_message_id(reminder.id) not in smtp.by_message_id()


def test_without_a_mail_server_e_mails_are_kept_as_files(service: CaseService, clock: ManualClock,
                                                         partners: WebhookSink, data_dir: Path) -> None:
    """A fresh or demo installation has no SMTP server yet: e-mails become .eml files in the data dir
    (once each, by message id) instead of incidents."""
    publish_notices(service)
    runtime = make_runtime(service, data_dir, runtime_config(None, partners.url))
    case_id = service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake").case_id
    result = runtime.dispatch_once()
    assert result.sent["email"] == 1 and result.failed == 0 and result.incidents == 0
    message = _outbox(runtime, case_id)["pathway_message"]
    (eml,) = (runtime.data_dir / "mail").glob("*.eml")
    assert eml.name == f"{message.id}.eml"
    from email import message_from_bytes

    mail = message_from_bytes(eml.read_bytes())
    assert mail["Message-ID"] == smtp_message_id(message.id) and mail["Subject"] == "Nieuw signaal binnengekomen"
    assert sorted(a.strip() for a in mail["To"].split(",")) == sorted(COORDINATOR_MAILS)
    assert "Fatima" not in mail_body(mail)


def test_the_inbox_shows_each_worker_what_is_theirs(runtime: Runtime, clock: ManualClock) -> None:
    from integrations.runtime import inbox

    mine = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake", team="noord",
                                      assignments={"worker": "anna"}).case_id
    queue = runtime.service.start_case(ALWAYS_ID, "signal", CLIENT, actor="intake", team="zuid").case_id
    runtime.dispatch_once()
    with read_session(runtime.service.db) as session:
        anna = inbox.inbox(session, "anna", ["worker"], "noord")
        carl = inbox.inbox(session, "carl", ["worker"], "zuid")
        dirk = inbox.inbox(session, "dirk", ["coordinator"], "zuid")
    assert [m.case_id for m in anna] == [mine] and anna[0].to_worker == "anna"  # assigned to her
    assert [m.case_id for m in carl] == [queue]  # the role's queue in his team
    assert dirk == []
    with write_session(runtime.service.db) as session:
        assert not inbox.mark_read(session, anna[0].id, "carl", ["worker"], "zuid", clock.now())  # not his
        assert inbox.mark_read(session, anna[0].id, "anna", ["worker"], "noord", clock.now())
    with read_session(runtime.service.db) as session:
        assert inbox.unread_count(session, "anna", ["worker"], "noord") == 0
        assert inbox.unread_count(session, "carl", ["worker"], "zuid") == 1
