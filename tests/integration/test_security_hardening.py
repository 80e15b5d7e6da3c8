"""Issue #9, availability and integrity: each attack that found a weakness, played again.

- the editor's dry run of a pathway that evaluates every minute froze the server for 12 minutes;
- a 20,000-key pathway file blocked every request for 15 s;
- the pattern `^(a+)+$` stalled the process inside a write transaction;
- a 5,000-digit `version`, versions beyond 64 bits and report dates 9999-12-31/0001-01-01 answered 500;
- NaN and infinities passed as numbers, `format` was not enforced, data had no size limits;
- after kill -9 a completed task could lack its audit entry;
- an e-mail or webhook sent twice after a crash must carry the same idempotency key.

None of these tests measures speed (that is bench/bench_availability.py): a regression shows as a
hang that pytest-timeout ends, or as a request that is still running while /health has answered.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db import accounts, audit
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow, OutboxRow, TaskRow
from integrations.service import CaseService
from tests.fixtures.visits_pathway import visits_source
from web.app import create_app
from web.pathway_work import PathwayWork, PathwayWorkLimits
from web.testing import (
    MUNICIPALITY,
    TEAM_A,
    WebClient,
    api_token,
    cheap_password_hashing,
    live_server,
    standard_accounts,
)

SHIPPED = Path(__file__).parents[2] / "pathways"
TEAM_CASE_MANAGEMENT = (SHIPPED / "team-case-management.yaml").read_text(encoding="utf-8")
ONE_MINUTE = TEAM_CASE_MANAGEMENT.replace("every: 3 weeks", "every: 1 minute", 1)
TWENTY_THOUSAND_KEYS = "id: x\nversion: 1\n" + "".join(f"k{i}: {i}\n" for i in range(20_000))


def _world(service: CaseService, clock: ManualClock, limits: PathwayWorkLimits | None = None) -> dict[str, Any]:
    cheap_password_hashing()
    people = standard_accounts(service.db, clock.now())
    app = create_app(service)
    if limits is not None:
        app.state.pathway_work = PathwayWork(limits)
    clients = {}
    for role in ("worker", "coordinator", "analyst"):
        clients[role] = WebClient(app)
        assert clients[role].sign_in(people[role].username).status_code == 303
    tokens = {role: api_token(service.db, people[role].username, clock.now()) for role in ("worker", "coordinator")}
    return {"app": app, "clients": clients, "tokens": tokens, "people": people}


def _case(service: CaseService, pathway: str = "test-visits") -> tuple[str, str]:
    started = service.start_case(pathway, "signal", {"client_name": "Jan Jansen", "concern": "huur"},
                                 actor="user:cor", team=TEAM_A, municipality=MUNICIPALITY)
    return started.case_id, started.opened_tasks[0]


def _bearer(world: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][role]}"}


# --- availability ------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_one_minute_evaluation_stops_at_the_limit_with_a_dutch_message(service: CaseService,
                                                                        clock: ManualClock) -> None:
    world = _world(service, clock, PathwayWorkLimits(simulation_seconds=8))
    cor = world["clients"]["coordinator"]
    page = cor.post("/pathways/editor", {"action": "simulate", "source": ONE_MINUTE, "name": "tcm.yaml"})
    assert page.status_code == 422
    assert "De proefrit duurde langer dan 8 seconden en is gestopt" in page.text
    assert "elke minuut" in page.text  # says what to look at
    world["app"].state.pathway_work = PathwayWork()  # the default limits: a normal dry run is far within them
    normal = cor.post("/pathways/editor", {"action": "simulate", "source": TEAM_CASE_MANAGEMENT, "name": "tcm.yaml"})
    assert normal.status_code == 200, re.findall(r'<div class="alert[^>]*>(.*?)</div>', normal.text, re.S)[:1]
    assert 'id="simulation"' in normal.text


def test_the_event_limit_stops_a_dry_run_that_records_too_much(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock, PathwayWorkLimits(simulation_events=500))
    page = world["clients"]["coordinator"].post(
        "/pathways/editor", {"action": "simulate", "source": TEAM_CASE_MANAGEMENT, "name": "tcm.yaml"})
    assert page.status_code == 422
    assert "De proefrit is gestopt na meer dan 500 gebeurtenissen" in page.text


@pytest.mark.timeout(60)
def test_a_twenty_thousand_key_file_is_refused_before_parsing(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    page = world["clients"]["coordinator"].post("/pathways/editor",
                                                {"action": "check", "source": TWENTY_THOUSAND_KEYS, "name": "x.yaml"})
    assert page.status_code == 413
    assert "Het zorgpad heeft 20.003 regels; de grens is 10.000 regels" in page.text
    api = world["clients"]["coordinator"].http.post("/api/pathways/check", headers=_bearer(world, "coordinator"),
                                                     json={"source": TWENTY_THOUSAND_KEYS})
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"


def test_many_problems_are_cut_at_the_limit_and_counted(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    text = "id: x\nversion: 1\n" + "".join(f"k{i}: {i}\n" for i in range(5_000))
    page = world["clients"]["coordinator"].post("/pathways/editor", {"action": "check", "source": text})
    assert page.status_code == 422
    assert page.text.count('class="jump-to-line" data-line=') == 200  # the first 200 problems, each at its line
    assert "En nog" in page.text and "problemen; los eerst deze op." in page.text


@pytest.mark.timeout(120)
class _WatchedSlots(threading.BoundedSemaphore):
    """PathwayWork's worker slots, telling the test when every slot is taken (no polling)."""

    def __init__(self, value: int, all_taken: threading.Event) -> None:
        super().__init__(value)
        self._size, self._taken, self._all_taken = value, 0, all_taken
        self._count_lock = threading.Lock()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        got = super().acquire(blocking, timeout)
        if got:
            with self._count_lock:
                self._taken += 1
                if self._taken >= self._size:
                    self._all_taken.set()
        return got

    def release(self, n: int = 1) -> None:
        with self._count_lock:
            self._taken -= n
        super().release(n)


def test_health_answers_while_ten_heavy_editor_requests_run(sqlite_service_for_live: CaseService,
                                                            clock: ManualClock) -> None:
    """The event loop is free: /health answers while the editor's dry runs are still running."""
    world = _world(sqlite_service_for_live, clock, PathwayWorkLimits(workers=2, simulation_seconds=4,
                                                                     queue_seconds=30))
    cor: WebClient = world["clients"]["coordinator"]
    cookies = dict(cor.http.cookies)
    finished: list[int] = []
    with live_server(world["app"]) as base:
        def heavy() -> None:
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
                response = client.post("/pathways/editor", data={"action": "simulate", "source": ONE_MINUTE,
                                                                 "csrf_token": cor.csrf},
                                       headers={"Origin": base})
                finished.append(response.status_code)

        work: PathwayWork = world["app"].state.pathway_work
        both_busy = threading.Event()
        work._slots = _WatchedSlots(2, both_busy)
        threads = [threading.Thread(target=heavy) for _ in range(10)]
        for thread in threads:
            thread.start()
        assert both_busy.wait(30), "the two editor workers never both started"
        answers = []
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(5):
                answers.append(client.get("/health").status_code)
        still_running = 10 - len(finished)
        for thread in threads:
            thread.join(90)
    assert answers == [200] * 5
    assert still_running >= 8  # the health checks were answered while the dry runs ran
    assert sorted(set(finished)) == [422]  # each ended at its limit, with its message


@pytest.fixture
def sqlite_service_for_live(sqlite_database: tuple[str, Any], clock: ManualClock, data_dir: Path) -> CaseService:
    from tests.integration.conftest import empty_tables, make_service

    empty_tables(sqlite_database[1])
    return make_service(*sqlite_database, clock, data_dir)


# --- patterns ---------------------------------------------------------------------------------------


PATTERNED = visits_source().replace("id: test-visits", "id: test-patterns", 1).replace(
    "        outcome: {enum: [help, no_help]}\n",
    "        outcome: {enum: [help, no_help]}\n        code: {type: string, pattern: '^(a+)+$'}\n", 1)


@pytest.mark.timeout(60)
def test_a_backtracking_pattern_runs_in_linear_time(service: CaseService, clock: ManualClock) -> None:
    """`^(a+)+$` against 'a' * 40 + '!' would take Python's `re` days; RE2 answers at once."""
    world = _world(service, clock)
    service.publish_pathway(PATTERNED, "patterns.yaml")
    _, task_id = _case(service, "test-patterns")
    http = world["clients"]["worker"].http
    answer = http.post(f"/api/tasks/{task_id}/complete", headers=_bearer(world, "worker"),
                       json={"data": {"outcome": "help", "code": "a" * 40 + "!"}})
    assert answer.status_code == 422 and answer.json()["error"]["fields"] == {"code": "Het formaat klopt niet."}
    done = http.post(f"/api/tasks/{task_id}/complete", headers=_bearer(world, "worker"),
                     json={"data": {"outcome": "no_help", "code": "aaaa"}})
    assert done.status_code == 200


def test_a_pattern_that_needs_backtracking_is_refused_at_its_line(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    text = PATTERNED.replace("pattern: '^(a+)+$'", "pattern: '^(a+)\\1$'")
    line = text.splitlines().index(next(x for x in text.splitlines() if "pattern:" in x)) + 1
    answer = world["clients"]["coordinator"].http.post("/api/pathways/check", headers=_bearer(world, "coordinator"),
                                                        json={"source": text})
    problems = answer.json()["problems"]
    assert answer.status_code == 200 and not answer.json()["valid"]
    assert [(p["line"], "kan niet in lineaire tijd gecontroleerd worden" in p["message"]) for p in problems] == [
        (line, True)]
    assert [p["code"] for p in problems] == ["regex-niet-lineair"]


def test_no_form_is_matched_while_the_write_lock_is_held(service: CaseService, clock: ManualClock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Deciding (and so checking the form) happens on a snapshot; only the save takes the lock."""
    from integrations import service as service_module

    world = _world(service, clock)
    service.publish_pathway(PATTERNED, "patterns.yaml")
    _, task_id = _case(service, "test-patterns")
    writing = threading.local()
    matched_while_writing: list[str] = []
    from contextlib import contextmanager

    from integrations.db.engine_factory import write_session as real_write

    @contextmanager
    def watched_write(db: Any) -> Any:
        writing.active = True
        try:
            with real_write(db) as session:
                yield session
        finally:
            writing.active = False

    import engine.json_validation as validation

    real_matches = validation.matches

    def watched_matches(pattern: str, text: str) -> bool:
        if getattr(writing, "active", False):
            matched_while_writing.append(pattern)
        return real_matches(pattern, text)

    monkeypatch.setattr(service_module, "write_session", watched_write)
    monkeypatch.setattr(validation, "matches", watched_matches)
    answer = world["clients"]["worker"].http.post(f"/api/tasks/{task_id}/complete", headers=_bearer(world, "worker"),
                                                  json={"data": {"outcome": "no_help", "code": "aaa"}})
    assert answer.status_code == 200
    assert matched_while_writing == []


# --- no 500s ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["9" * 5000, str(2**63), str(2**64 + 1), str(2**31), "1000001"])
def test_absurd_versions_are_located_problems(service: CaseService, clock: ManualClock, version: str) -> None:
    world = _world(service, clock)
    text = visits_source().replace("\nversion: 1\n", f"\nversion: {version}\n", 1)
    headers = _bearer(world, "coordinator")
    http = world["clients"]["coordinator"].http
    checked = http.post("/api/pathways/check", headers=headers, json={"source": text})
    assert checked.status_code == 200 and not checked.json()["valid"]
    assert {p["path"] for p in checked.json()["problems"]} == {"version"}
    assert {p["line"] for p in checked.json()["problems"]} == {3}
    published = http.post("/api/pathways", headers=headers, json={"source": text})
    assert published.status_code == 422
    page = world["clients"]["coordinator"].post("/pathways/editor", {"action": "publish", "source": text})
    assert page.status_code == 422 and "version" in page.text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_report_dates_at_the_ends_of_the_calendar_are_refused(service: CaseService, clock: ManualClock,
                                                             day: str) -> None:
    world = _world(service, clock)
    analyst: WebClient = world["clients"]["analyst"]
    for query in (f"start={day}", f"end={day}", f"start=2026-01-01&end={day}"):
        api = analyst.api("GET", f"/api/reports/outcomes?{query}")
        assert api.status_code == 422, query
        # Analysts choose whole ended months, quarters or years (docs/reporting.md): never a free date.
        assert "periode" in api.json()["error"]["message"]
        assert analyst.get(f"/reports?{query}").status_code == 422
        assert analyst.get(f"/reports/outcomes.csv?{query}").status_code == 422


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinities_are_refused_as_json(service: CaseService, clock: ManualClock, number: bytes) -> None:
    world = _world(service, clock)
    _, task_id = _case(service)
    answer = world["clients"]["worker"].http.post(
        f"/api/tasks/{task_id}/complete", content=b'{"data": {"outcome": "help", "n": ' + number + b"}}",
        headers={**_bearer(world, "worker"), "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("NaN, Infinity, -Infinity en getallen als 1e999")


def test_nan_typed_into_a_number_field_is_not_a_number() -> None:
    from web import forms

    schema = {"type": "object", "properties": {"amount": {"type": "number", "minimum": 0}}}
    for typed in ("NaN", "nan", "inf", "-Infinity", "1e999"):
        assert forms.parse(schema, {"amount": typed})[1] == {"amount": "Vul een getal in."}, typed
    from engine.json_validation import validator_for

    validator = validator_for(schema)
    assert [e.validator for e in validator.iter_errors({"amount": float("nan")})] == ["type"]
    assert [e.validator for e in validator.iter_errors({"amount": float("inf")})] == ["type"]
    assert list(validator.iter_errors({"amount": 12.5})) == []


def test_formats_are_enforced() -> None:
    from engine.json_validation import validator_for
    from web import forms

    schema = {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                                               "day": {"type": "string", "format": "date"},
                                               "at": {"type": "string", "format": "date-time"}}}
    bad = {"email": "jan@", "day": "2026-02-30", "at": "gisteren"}
    good = {"email": "jan@voorbeeld.nl", "day": "2026-02-28", "at": "2026-02-28T10:00:00+01:00"}
    assert sorted(e.instance for e in validator_for(schema).iter_errors(bad)) == sorted(bad.values())
    assert list(validator_for(schema).iter_errors(good)) == []
    fields, _ = forms.validate(schema, bad)
    assert fields == {"email": "Vul een geldig e-mailadres in.", "day": "Vul een datum in.",
                      "at": "Vul een datum en tijd in."}


def test_a_format_carepath_cannot_check_is_refused_at_its_line(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    text = visits_source().replace("    phone: {type: string}\n", "    phone: {type: string, format: uri}\n", 1)
    answer = world["clients"]["coordinator"].http.post("/api/pathways/check", headers=_bearer(world, "coordinator"),
                                                        json={"source": text})
    (problem,) = answer.json()["problems"]
    assert problem["path"] == "case_data.properties.phone.format"
    assert "carepath kan het formaat `uri` niet controleren" in problem["message"]
    assert problem["code"] == "formaat-onbekend"


def test_case_data_form_data_and_fields_have_size_limits(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    _, task_id = _case(service)
    http = world["clients"]["worker"].http
    long_field = http.post(f"/api/tasks/{task_id}/complete", headers=_bearer(world, "worker"),
                           json={"data": {"outcome": "help", "problems": ["x" * 10_001]}})
    assert long_field.status_code == 422
    assert long_field.json()["error"]["message"] == "Veld problems.0: hoogstens 10.000 tekens (nu 10.001)."
    too_many = http.post(f"/api/tasks/{task_id}/complete", headers=_bearer(world, "worker"),
                         json={"data": {"outcome": "help", "problems": ["x"] * 501}})
    assert too_many.status_code == 422 and "hoogstens 500 items" in too_many.json()["error"]["message"]
    too_large = http.post("/api/cases", headers=_bearer(world, "coordinator"), json={
        "pathway_id": "test-visits", "trigger": "signal", "team": TEAM_A, "municipality": MUNICIPALITY,
        "data": {"client_name": "A", "concern": "c" * 9_000, "phone": "1" * 9_000,
                 **{f"x{i}": "y" * 9_000 for i in range(8)}}})
    assert too_large.status_code == 422
    assert too_large.json()["error"]["message"].startswith("De zaakgegevens zijn te groot:")
    page = world["clients"]["worker"].post(f"/tasks/{task_id}/complete", {"outcome": "help",
                                                                          "problems": "y" * 10_001})
    assert page.status_code == 422 and "Hoogstens 10000 tekens." in page.text
    with read_session(service.db) as session:
        status = session.execute(select(TaskRow.status).where(TaskRow.id == task_id)).scalar_one()
    assert status == "open"


def test_a_nul_character_is_refused_before_any_route(service: CaseService, clock: ManualClock) -> None:
    world = _world(service, clock)
    worker: WebClient = world["clients"]["worker"]
    assert worker.get("/cases", params={"q": "a\x00"}).status_code == 400
    answer = worker.http.post("/api/cases", content=json.dumps({"data": {"x": "a\x00"}}),
                              headers={**_bearer(world, "coordinator"), "Content-Type": "application/json"})
    assert answer.status_code == 422 and "nul-teken" in answer.json()["error"]["message"]


# --- integrity --------------------------------------------------------------------------------------


def test_completion_draft_deletion_and_audit_entry_commit_together(service: CaseService, clock: ManualClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The crash between the completion and its audit entry (4 of 125 after kill -9), played by a
    failing audit write: then nothing of the completion stays; without it, all three are there."""
    world = _world(service, clock)
    worker: WebClient = world["clients"]["worker"]
    _, task_id = _case(service)
    assert worker.post(f"/tasks/{task_id}/draft", {"outcome": "help", "problems": "debts"}).status_code == 303
    account_id = world["people"]["worker"].id

    def state() -> tuple[str, bool, int]:
        with read_session(service.db) as session:
            status = session.execute(select(TaskRow.status).where(TaskRow.id == task_id)).scalar_one()
            draft = accounts.get_draft(session, account_id, task_id) is not None
            entries = len(session.execute(select(AuditLogRow.id).where(
                AuditLogRow.what.like(f"completed task {task_id}%"))).all())
        return status, draft, entries

    real_record = audit.record_access

    def crash(*args: Any, **kwargs: Any) -> None:
        if str(kwargs.get("what", "")).startswith("completed task"):
            raise RuntimeError("the process died here")
        real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record_access", crash)
    with pytest.raises(RuntimeError, match="the process died here"):
        worker.post(f"/tasks/{task_id}/complete", {"outcome": "no_help", "bevestigd": "ja"})
    assert state() == ("open", True, 0)
    monkeypatch.setattr(audit, "record_access", real_record)
    assert worker.post(f"/tasks/{task_id}/complete", {"outcome": "no_help", "bevestigd": "ja"}).status_code == 303
    assert state() == ("completed", False, 1)


def test_a_message_sent_again_after_a_crash_carries_the_same_key(service: CaseService, clock: ManualClock,
                                                                 data_dir: Path) -> None:
    """A dispatcher dies after the receiver took the message and before it marked it sent; the next
    one sends it again, with the same Message-ID and Idempotency-Key, so the receiver drops it."""
    from integrations.runtime.channels import IDEMPOTENCY_HEADER, Mailer, post_webhook, smtp_message_id
    from tests.fixtures.notices_pathway import ALWAYS_ID
    from tests.integration.runtime_support import (
        PARTNER_SECRET,
        SmtpSink,
        WebhookSink,
        make_runtime,
        publish_notices,
        runtime_config,
    )

    class Died(BaseException):
        pass

    smtp = SmtpSink().start()
    partners = WebhookSink(secrets={"/woonbron": PARTNER_SECRET.encode()}).start()
    try:
        publish_notices(service)
        runtime = make_runtime(service, data_dir, runtime_config(smtp.port, partners.url))
        service.start_case(ALWAYS_ID, "signal", {"client_name": "Fatima El Amrani"}, actor="intake")

        class DyingMailer(Mailer):
            def send(self, *args: Any, **kwargs: Any) -> str:
                super().send(*args, **kwargs)
                raise Died()

        def dying_webhook(*args: Any, **kwargs: Any) -> str:
            post_webhook(*args, **kwargs)
            raise Died()

        lease = runtime.config.dispatch.lease + timedelta(seconds=1)
        for mailer, webhook in ((DyingMailer, post_webhook), (Mailer, dying_webhook)):
            dispatcher = runtime.dispatcher(mailer=lambda m=mailer: m(runtime.config.mail), webhook=webhook)
            with pytest.raises(Died):
                dispatcher.dispatch_once()
            clock.set(clock.now() + lease)
        runtime.dispatch_once()
        mails = smtp.messages()
        calls = partners.calls
        assert len(mails) == 2 and len({m["Message-ID"] for m in mails}) == 1
        assert len(calls) == 2 and len({c.headers[IDEMPOTENCY_HEADER] for c in calls}) == 1
        assert len({c.json()["id"] for c in calls}) == 1
        with read_session(service.db) as session:
            email_id = session.execute(select(OutboxRow.id).where(OutboxRow.channel == "email")).scalar_one()
        assert mails[0]["Message-ID"] == smtp_message_id(email_id)
    finally:
        smtp.stop()
        partners.stop()
