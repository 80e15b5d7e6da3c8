"""The live states a process keeps of the cases it changed last (integrations/case_cache.py, issue #14).

A kept state saves a command its read. The tests hold it to the same answers as reading every time:
another process's change (a second service on the same database), an erasure of personal data, or a
refusal decided on a kept state that is behind the stored case never leaves a wrong answer or a
wrong write behind.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete

from engine.clock import ManualClock
from engine.errors import ConflictError
from integrations.case_cache import CaseCacheSettingError, size_from_env
from integrations.db import repository
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CasePersonalDataRow
from integrations.db.repository import PendingSave, StaleCaseError
from integrations.service import CaseService
from tests.integration.conftest import make_service
from tests.integration.test_repository import PERSONAL_VALUES, _intake_task, _start


@pytest.fixture
def other(database: tuple[str, Engine], clock: ManualClock, data_dir: Path, service: CaseService) -> CaseService:
    """A second process on the same database: its own service, its own kept cases."""
    return make_service(*database, clock, data_dir)


def state_json_moment(state_json: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(state_json["opened_at"])


def _reads(service: CaseService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The case ids `service` reads from the database for a command (repository.load_live_on)."""
    seen: list[str] = []
    real = repository.load_live_on

    def counted(cursor: Any, name: str, case_id: str) -> Any:
        seen.append(case_id)
        return real(cursor, name, case_id)

    monkeypatch.setattr(repository, "load_live_on", counted)
    return seen


def test_a_command_on_a_kept_case_does_not_read_it_and_decides_as_a_read_would(
        service: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    assert service.cases_kept.get(case_id) is not None  # kept at its start
    reads = _reads(service, monkeypatch)
    service.claim(intake, "anna")
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")
    assert reads == []
    kept = service.cases_kept.get(case_id)
    assert kept is not None and kept.personal_row
    stored = service.case(case_id)  # read: the whole case, history included
    assert kept.state.version == stored.version
    assert kept.state.to_json(live_only=True) == stored.to_json(live_only=True)


def test_a_change_by_another_process_makes_the_kept_state_fail_its_save_and_the_command_is_decided_again(
        service: CaseService, other: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    other.claim(intake, "bram")  # service's kept state still shows the task unclaimed
    version = other.case(case_id).version
    reads = _reads(service, monkeypatch)
    with pytest.raises(ConflictError, match="bram"):  # the stored case's answer: bram has it
        service.claim(intake, "anna")
    assert reads == [case_id]
    assert service.case(case_id).version == version  # nothing written
    other.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="bram")
    service.suspend(case_id, actor="coordinator", reason="opname")  # decided again on the stored case
    case = service.case(case_id)
    assert case.tasks[intake].status.value == "completed"
    assert [e.seq for e in service.history(case_id)] == list(range(1, case.version + 1))  # no gap, none twice


def test_a_refusal_decided_on_a_kept_state_is_checked_against_the_stored_case(
        service: CaseService, other: CaseService) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    service.suspend(case_id, actor="coordinator", reason="opname")  # kept: suspended
    other.resume(case_id, actor="coordinator")
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")  # not "suspended"
    assert service.case(case_id).tasks[intake].status.value == "completed"


def test_an_erasure_elsewhere_is_never_undone_by_a_kept_state(
        service: CaseService, other: CaseService, db: Engine) -> None:
    case_id = _start(service)
    assert {"client_name", "phone"} <= set(service.cases_kept.get(case_id).state.data)  # type: ignore[union-attr]
    assert other.erase_personal_data(case_id, actor="fg", reason="verzoek van de cliënt")
    service.suspend(case_id, actor="coordinator", reason="opname")
    kept = service.cases_kept.get(case_id)
    assert kept is not None and not {"client_name", "phone"} & set(kept.state.data)  # decided on the stored case
    assert not kept.personal_row
    with read_session(db) as session:
        assert repository.personal_data_of(session, case_id) is None
    assert not any(value in str(e.data) for e in service.history(case_id) for value in PERSONAL_VALUES)


def test_a_save_that_read_personal_data_fails_once_it_is_erased(service: CaseService, db: Engine) -> None:
    case_id = _start(service)
    state = service.case(case_id)
    from engine import commands as c

    decision = service.engine.handle(state, c.SuspendCase(case_id=case_id, actor="coordinator", reason="opname"),
                                     state.opened_at)
    with write_session(db) as session:
        session.execute(delete(CasePersonalDataRow).where(CasePersonalDataRow.case_id == case_id))
    save = PendingSave(state.version, decision, ("client_name", "phone"), had_personal=True)
    with pytest.raises(StaleCaseError, match="personal data was erased"), write_session(db) as session:
        repository.save_decision(session, save)
    with write_session(db) as session:  # the same decision taken without personal data is saved
        repository.save_decision(session, PendingSave(state.version, decision, ("client_name", "phone")))
    assert service.case(case_id).version == state.version + len(decision.events)


def test_closed_cases_are_not_kept_and_the_cache_keeps_at_most_its_size(
        database: tuple[str, Engine], clock: ManualClock, data_dir: Path, service: CaseService) -> None:
    case_id = _start(service)
    service.close_case(case_id, "client_moved", actor="coordinator")
    assert service.cases_kept.get(case_id) is None
    monkeypatched = make_service(*database, clock, data_dir)
    monkeypatched.cases_kept.size = 2
    started = [_start(monkeypatched) for _ in range(3)]
    assert len(monkeypatched.cases_kept) == 2
    assert monkeypatched.cases_kept.get(started[0]) is None  # least recently used: gone
    assert all(monkeypatched.cases_kept.get(i) is not None for i in started[1:])


def test_size_zero_keeps_nothing_and_every_command_reads(
        database: tuple[str, Engine], clock: ManualClock, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPATH_CASE_CACHE", "0")
    service = make_service(*database, clock, data_dir)
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    reads = _reads(service, monkeypatch)
    service.claim(intake, "anna")
    assert len(service.cases_kept) == 0 and reads == [case_id]


def test_the_sweep_lets_go_of_what_it_fired(service: CaseService, clock: ManualClock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    clock.advance(timedelta(hours=45))  # the reminder 4 hours before due
    assert service.fire_due().fired
    assert service.cases_kept.get(case_id) is None
    reads = _reads(service, monkeypatch)
    service.complete_task(intake, {"outcome": "help", "problems": ["debts"]}, actor="anna")
    assert reads == [case_id]
    assert service.cases_kept.get(case_id) is not None


def test_a_case_without_a_personal_data_row_is_never_held_to_one(service: CaseService, db: Engine) -> None:
    """Whether a save checks the personal data row follows the row, not the names in the case's data: a
    case stored with its personal fields in its state (the synthetic cohort writes them so) and no row
    takes commands, kept or read."""
    from engine import commands as c

    state_json = service.case(_start(service)).to_json()  # a template: the test pathway's started case
    start = c.StartCase(case_id="C-COHORT-1", actor="intake", pathway_id=state_json["pathway_id"],
                        pathway_version=state_json["pathway_version"], trigger="signal",
                        data={"client_name": "Synthetisch", "concern": "x"}, pseudonym="p-cohort")
    decision = service.engine.start(start, state_json_moment(state_json))
    with write_session(db) as session:
        repository.insert_case(session, decision, ())  # personal fields left in the state, no row
    service.suspend("C-COHORT-1", actor="coordinator", reason="opname")  # read
    service.resume("C-COHORT-1", actor="coordinator")  # kept
    assert service.case("C-COHORT-1").status.value == "open"


def test_a_repeat_with_an_idempotency_key_reads_and_returns_the_stored_result(
        service: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = _start(service)
    intake = _intake_task(service, case_id)
    first = service.claim(intake, "anna", idempotency_key="k-1")
    reads = _reads(service, monkeypatch)
    again = service.claim(intake, "anna", idempotency_key="k-1")
    assert again.duplicate and again.version == first.version and reads == [case_id]


@pytest.mark.parametrize(("raw", "size"), [("", 1000), (" 250 ", 250), ("0", 0)])
def test_the_setting_gives_the_size(raw: str, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPATH_CASE_CACHE", raw)
    assert size_from_env() == size


@pytest.mark.parametrize("raw", ["-1", "veel", "1.5"])
def test_a_bad_setting_is_refused_by_name(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPATH_CASE_CACHE", raw)
    with pytest.raises(CaseCacheSettingError, match=f"CAREPATH_CASE_CACHE='{raw}': verwacht een geheel getal"):
        size_from_env()
