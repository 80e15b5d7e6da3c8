"""Funders on SQLite and PostgreSQL: a case's funder is stored and reported, a funder's analyst sees only
the aggregates of the cases that funder pays for, and a municipality no longer counts them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, TaskRow
from integrations.reporting.cellkey import MAX_NOISE
from integrations.service import CaseService
from web.app import create_app
from web.testing import MUNICIPALITY, PASSWORD, TEAM_A, WebClient, cheap_password_hashing, standard_accounts

INSURER = "health_insurer:3311"


def _start(service: CaseService, name: str, funder: str | None) -> str:
    return service.start_case("test-visits", "signal", {"client_name": name, "concern": "huur"}, actor="user:cor",
                              client_id=name, team=TEAM_A, municipality=MUNICIPALITY, funder=funder).case_id


def _started(client: WebClient) -> int:
    answer = client.get("/api/reports/outcomes?pathway=test-visits&period=2026-03")
    assert answer.status_code == 200, answer.text
    rows = {r["key"]: r for t in answer.json()["tables"] for r in t["rows"]}
    cell = rows["cases.started"]["cells"][0]
    assert not cell["suppressed"]
    return int(cell["value"])


def test_each_funder_sees_its_own_cases(service: CaseService, db: Engine, clock: ManualClock) -> None:
    own = [_start(service, f"Gemeente {i}", None) for i in range(14)]
    insured = [_start(service, f"Verzekerd {i}", INSURER) for i in range(24)]
    with read_session(db) as session:
        funders = {case_id: funder for case_id, funder in session.execute(select(CaseRow.id, CaseRow.funder))}
        task_funders = set(session.execute(select(TaskRow.funder).where(TaskRow.case_id.in_(insured))).scalars())
    assert {funders[c] for c in own} == {f"municipality:{MUNICIPALITY}"}
    assert {funders[c] for c in insured} == {INSURER} == task_funders
    assert service.case(insured[0]).funder == INSURER
    clock.advance(timedelta(days=40))  # March has ended

    cheap_password_hashing()
    people = standard_accounts(db, clock.now())
    with write_session(db) as session:
        accounts.create_account(session, username="zoe", display_name="Zoë", password=PASSWORD,
                                role=AccountRole.ANALYST, organisation="Zorgverzekeraar Test", now=clock.now(),
                                funder=INSURER)
    app = create_app(service)
    ada, zoe = WebClient(app), WebClient(app)
    assert ada.sign_in(people["analyst"].username).status_code == 303
    assert zoe.sign_in("zoe").status_code == 303
    assert abs(_started(ada) - 14) <= MAX_NOISE  # the municipality: only what it pays for
    assert abs(_started(zoe) - 24) <= MAX_NOISE  # the insurer: only its own
    page = zoe.get("/reports?pathway=test-visits&period=2026-03")
    assert page.status_code == 200 and "zorgverzekeraar 3311" in page.text
    csv = zoe.get("/reports/outcomes.csv?pathway=test-visits&period=2026-03")
    assert csv.status_code == 200 and "health_insurer-3311" in csv.headers["content-disposition"]
    assert zoe.get(f"/cases/{insured[0]}").status_code == 404
    assert zoe.get(f"/api/cases/{insured[0]}").status_code == 404


def test_a_case_names_its_funder_at_its_start(service: CaseService, db: Engine, clock: ManualClock) -> None:
    cheap_password_hashing()
    standard_accounts(db, clock.now())
    cor = WebClient(create_app(service))
    assert cor.sign_in("cor").status_code == 303
    body = {"pathway_id": "test-visits", "trigger": "signal", "data": {"client_name": "Kees", "concern": "huur"},
            "team": TEAM_A, "municipality": MUNICIPALITY}
    made = cor.api("POST", "/api/cases", json={**body, "funder": "school_board:41234"})
    assert made.status_code == 201, made.text
    assert service.case(made.json()["case_id"]).funder == "school_board:41234"
    refused = cor.api("POST", "/api/cases", json={**body, "funder": "bank:1"})
    assert refused.status_code == 422 and "onbekende soort" in refused.text
    with read_session(db) as session:
        assert session.execute(select(CaseRow.funder).where(CaseRow.id == made.json()["case_id"])).scalar_one() \
            == "school_board:41234"
    page = {"pathway": "test-visits", "trigger": "signal", "team": TEAM_A, "municipality": MUNICIPALITY,
            "client_name": "Fenna", "concern": "huur"}
    by_hand = cor.post("/cases/new", {**page, "funder": "housing_corporation:L1234"})
    assert by_hand.status_code == 303
    assert service.case(by_hand.headers["location"].rsplit("/", 1)[-1]).funder == "housing_corporation:L1234"
    wrong = cor.post("/cases/new", {**page, "funder": "housing_corporation"})
    assert wrong.status_code == 422 and "soort:code" in wrong.text


def test_an_analyst_account_needs_a_municipality_or_a_funder(db: Engine, clock: ManualClock) -> None:
    import pytest

    from engine.errors import ValidationError

    with write_session(db) as session, pytest.raises(ValidationError, match="onbekende soort"):
        accounts.create_account(session, username="x1", display_name="X", password=PASSWORD,
                                role=AccountRole.ANALYST, organisation="X", now=clock.now(), funder="bank:1")
    with write_session(db) as session, pytest.raises(ValidationError, match="municipality"):
        accounts.create_account(session, username="x2", display_name="X", password=PASSWORD,
                                role=AccountRole.ANALYST, organisation="X", now=clock.now())
