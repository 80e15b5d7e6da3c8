"""Every interface text has an English translation; the demo seed makes realistic data, once."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, func, select

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseRow, TaskRow
from integrations.db.signal_tables import SignalRow
from integrations.service import build_service
from web import caseview, forms, pathwayview
from web.demo import ACCOUNTS, DEMO_PASSWORD, TEAMS, seed
from web.i18n import EN
from web.pages import tasks as task_pages
from web.testing import cheap_password_hashing

WEB = Path(__file__).resolve().parents[2] / "web"


def interface_texts() -> set[str]:
    texts: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        source = template.read_text(encoding="utf-8")
        texts.update(m.group(2).replace("\\'", "'")
                     for m in re.finditer(r'_\(\s*(["\'])((?:\\.|(?!\1).)*)\1', source))
        for mapping in re.finditer(r'_\(\{([^}]*)\}', source):
            texts.update(re.findall(r':\s*"([^"]+)"', mapping.group(1)))
    for module in WEB.rglob("*.py"):
        source = module.read_text(encoding="utf-8")
        texts.update(re.findall(r'translate\(\s*"((?:\\.|[^"\\])*)"', source))
        texts.update(re.findall(r'\bt\(\s*"((?:\\.|[^"\\])*)"', source))
    # Words that reach `_()` or `translate()` through a variable.
    texts.update(caseview._AUTOMATED_WORDS.values(), caseview._RESULTS.values(), pathwayview.KIND_WORDS.values())
    texts.update(pathwayview._ACTIONS.values(), (label for _, label in task_pages.RESULTS))
    texts.update({"Huidig wachtwoord", "Nieuw wachtwoord", "Nieuw wachtwoord nog eens", "worker", "coordinator",
                  "manager", "partner", "cliënt"})
    return texts


def test_every_interface_text_has_an_english_translation() -> None:
    texts = interface_texts()
    assert len(texts) > 300
    missing = sorted(t for t in texts if t not in EN)
    assert missing == []
    for dutch, english in EN.items():
        assert re.findall(r"\{(\w+)\}", dutch) == re.findall(r"\{(\w+)\}", english) or \
            sorted(re.findall(r"\{(\w+)\}", dutch)) == sorted(re.findall(r"\{(\w+)\}", english)), dutch


def test_form_messages_come_in_both_languages() -> None:
    schema = {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}}
    assert forms.parse(schema, {"x": "een"}, "en")[1] == {"x": "Enter a number."}
    assert forms.parse(schema, {"x": "een"}, "nl")[1] == {"x": "Vul een getal in."}


def test_demo_seed_makes_a_monday_morning_once(sqlite_db: Engine, tmp_path: Path) -> None:
    cheap_password_hashing()
    from datetime import UTC, datetime

    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    url = str(sqlite_db.url)
    service = build_service(url, clock, db=sqlite_db, data_dir=tmp_path)
    assert seed(service, cases=32, months=4) is True
    with read_session(sqlite_db) as session:
        cases = dict(session.execute(select(CaseRow.status, func.count()).where(
            CaseRow.id.not_in(select(SignalRow.case_id).where(SignalRow.case_id.is_not(None))))
            .group_by(CaseRow.status)).all())
        signal_cases = session.execute(select(func.count()).select_from(CaseRow).where(
            CaseRow.id.in_(select(SignalRow.case_id)))).scalar()
        open_tasks = session.execute(select(func.count()).select_from(TaskRow).where(TaskRow.status == "open")).scalar()
        overdue = session.execute(select(func.count()).select_from(TaskRow).where(
            TaskRow.status == "open", TaskRow.due_at < clock.now())).scalar()
        pathways = set(session.execute(select(CaseRow.pathway_id).distinct()).scalars())
        teams = set(session.execute(select(CaseRow.team).distinct()).scalars())
        made = {a.username for a in accounts.list_accounts(session)}
    assert sum(cases.values()) == 32
    assert cases.get("closed", 0) > 0 and cases.get("open", 0) > 0
    assert open_tasks and open_tasks > 0 and overdue is not None and overdue >= 0
    assert pathways == {t.pathway for t in TEAMS} | {"early-signal"} and teams == {t.id for t in TEAMS}
    assert signal_cases and signal_cases > 10  # the demo DDAS delivery (web/demo_signals.py)
    assert made == {a.username for a in ACCOUNTS}
    assert seed(service, cases=32, months=4) is False  # a second run adds nothing
    with read_session(sqlite_db) as session:
        assert session.execute(select(func.count()).select_from(CaseRow)).scalar() == 32 + signal_cases
        outcome, _account = accounts.sign_in(session, "anna", DEMO_PASSWORD, clock.now())
    assert outcome is accounts.SignInOutcome.OK
