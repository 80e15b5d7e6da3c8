"""The case commands of `carepath`, run as a user runs them: in a subprocess, on a data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow
from integrations.migrations import head_revision
from integrations.service import CaseService, build_service
from tests.fixtures.visits_pathway import YAML_PATH
from tests.integration.conftest import BACKENDS, empty_tables

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
CLIENT = {"client_name": "Fatima de Vries", "phone": "0612345678", "concern": "huurachterstand"}
_SCRIPT = Path(sys.executable).with_name("carepath")
CAREPATH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "integrations.cli"]


@dataclass
class Cli:
    """`carepath` with a data directory (and, for PostgreSQL, a database URL) of its own."""

    env: dict[str, str]
    cwd: Path
    url: str

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CAREPATH, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True,
                              timeout=120, check=False)

    def english(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The same command with `CAREPATH_LANGUAGE=en`."""
        return subprocess.run([*CAREPATH, *args], env={**self.env, "CAREPATH_LANGUAGE": "en"}, cwd=self.cwd,
                              capture_output=True, text=True, timeout=120, check=False)

    def service(self, clock: ManualClock) -> CaseService:
        """The same installation in this process (same database, same pseudonym secret)."""
        return build_service(self.url, clock, YAML_PATH.parent, data_dir=Path(self.env["CAREPATH_DATA_DIR"]))

    def file(self, name: str, content: object) -> str:
        return self.text(name, json.dumps(content))

    def text(self, name: str, text: str) -> str:
        path = self.cwd / name
        path.write_text(text, encoding="utf-8")
        return str(path)


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    env["CAREPATH_DATA_DIR"] = str(tmp_path / "data")
    env["CAREPATH_PATHWAYS_DIR"] = str(YAML_PATH.parent)  # the small test pathway only
    env["CAREPATH_WORKER"] = "tester"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'carepath.db'}"  # the default: nothing configured but the dir
    else:
        url, engine = request.getfixturevalue("postgresql_database")
        empty_tables(engine)
        env["CAREPATH_DATABASE_URL"] = url
    return Cli(env, tmp_path, url)


def _team_with_workers(cli: Cli) -> None:
    """Team noord with anna (role worker) and bob (coordinator role only); zuid works elsewhere."""
    from integrations.db import accounts
    from integrations.db.accounts import AccountRole
    from integrations.db.engine_factory import write_session

    now = datetime.now(UTC)
    with write_session(cli.service(ManualClock(now)).db) as session:
        accounts.upsert_team(session, "noord", "Team Noord", "AMW")
        accounts.upsert_team(session, "zuid", "Team Zuid", "AMW")
        for username, team, roles in (("anna", "noord", ["worker"]), ("bob", "noord", ["coordinator"]),
                                      ("zuid", "zuid", ["worker"])):
            accounts.create_account(session, username=username, display_name=username, password="lang wachtwoord 1",
                                    role=AccountRole.WORKER, organisation="AMW", now=now, teams=[team],
                                    pathway_roles=roles)


def test_start_show_list_and_complete(cli: Cli) -> None:
    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"staat op revisie {head_revision()}" in upgraded.stdout and "test-visits@1" in upgraded.stdout

    unknown_team = cli("case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("case.json", CLIENT),
                       "--team", "noord", "--municipality", "GM0014")
    assert unknown_team.returncode == 1 and "onbekend team 'noord'" in unknown_team.stderr
    _team_with_workers(cli)
    bad_municipality = cli("case", "start", "test-visits", "--trigger", "signal", "--data",
                           cli.file("case.json", CLIENT), "--team", "noord", "--municipality", "Groningen")
    assert bad_municipality.returncode == 1 and "geen CBS-gemeentecode" in bad_municipality.stderr
    started = cli("case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("case.json", CLIENT),
                  "--client-id", "123456782", "--team", "noord", "--municipality", "GM0014")
    assert started.returncode == 0, started.stderr
    case_id = started.stdout.split()[1]
    task_id = started.stdout.split("open taak ")[1].split(":")[0]
    assert f"zaak {case_id} gestart op test-visits@1" in started.stdout
    assert "(rol Maatschappelijk werker, uiterlijk " in started.stdout

    shown = cli("case", "show", case_id)
    assert shown.returncode == 0, shown.stderr
    assert "Fatima" not in shown.stdout and "0612345678" not in shown.stdout and "123456782" not in shown.stdout
    assert "persoonsgegevens verborgen (client_name, phone): gebruik --personal" in shown.stdout
    assert f"taak {task_id} geopend: Intake (rol Maatschappelijk werker" in shown.stdout
    assert '"concern": "huurachterstand"' in shown.stdout and "wat er aankomt:" in shown.stdout
    opened = shown.stdout.split("geopend ")[1].split(" (Nederlandse tijd)")[0]  # e.g. 4 december 2026 14:05
    day, month, year, clock = opened.split()
    assert day.isdigit() and month in MONTHS and len(year) == 4 and clock[2] == ":"
    english = cli.english("case", "show", case_id)
    assert f"task {task_id} opened: Intake (role Maatschappelijk werker" in english.stdout
    assert "personal data hidden (client_name, phone): use --personal" in english.stdout
    personal = cli("case", "show", case_id, "--personal", "--as", "coordinator", "--why", "huisbezoek")
    assert "Fatima de Vries" in personal.stdout

    queue = cli("tasks", "--role", "worker")
    assert task_id in queue.stdout and "niet opgepakt" in queue.stdout and f"zaak {case_id}" in queue.stdout
    assert cli("tasks", "--worker", "anna").stdout.strip() == "geen open taken"
    assert cli.english("tasks", "--worker", "anna").stdout.strip() == "no open tasks"

    form = cli.file("form.json", {"outcome": "help", "problems": ["debts", "housing"]})
    nobody = cli("task", "complete", task_id, "--data", form, "--worker", "nobody")
    assert nobody.returncode == 1 and "nobody is geen actief account" in nobody.stderr
    elsewhere = cli("task", "complete", task_id, "--data", form, "--worker", "zuid")
    assert elsewhere.returncode == 1 and "zuid werkt niet in een team dat zaak" in elsewhere.stderr
    wrong_role = cli("task", "complete", task_id, "--data", form, "--worker", "bob")
    assert wrong_role.returncode == 1 and "bob heeft niet de rol" in wrong_role.stderr
    done = cli("task", "complete", task_id, "--data", form, "--worker", "anna")
    assert done.returncode == 0, done.stderr
    assert f"taak {task_id} afgerond; zaak {case_id} is open" in done.stdout
    assert done.stdout.count("open taak ") == 2

    again = cli("task", "complete", task_id, "--data", form, "--worker", "bob")
    assert again.returncode == 1
    assert "taak «Intake» is al afgerond door anna" in again.stderr

    timeline = cli("case", "show", case_id).stdout
    assert f"taak {task_id} (Intake) afgerond" in timeline and "probleemgebied debts gestart" in timeline

    with read_session(cli.service(ManualClock(datetime.now(UTC))).db) as session:
        audit = session.execute(select(AuditLogRow.who, AuditLogRow.action, AuditLogRow.why)).all()
    assert audit == [("coordinator", "view_personal", "huisbezoek")]


def test_tick_fires_what_is_due(cli: Cli) -> None:
    # A case that started three days ago: its intake is overdue, reminders and escalations are due.
    past = ManualClock(datetime.now(UTC) - timedelta(days=3))
    case_id = cli.service(past).start_case("test-visits", "signal", CLIENT, actor="intake").case_id
    ticked = cli("tick")
    assert ticked.returncode == 0, ticked.stderr
    assert " geplande momenten uitgevoerd in 1 zaak (" in ticked.stdout
    assert int(ticked.stdout.split()[0]) >= 3
    timeline = cli("case", "show", case_id).stdout
    assert "herinnering 1" in timeline and "escalatie 3" in timeline
    assert "verplaatst naar de wachtrij van rol Coördinator" in timeline
    assert cli("tick").stdout.startswith("0 geplande momenten uitgevoerd")
    assert cli.english("tick").stdout.startswith("fired 0 timers")


def test_refusals_and_usage_errors(cli: Cli) -> None:
    missing = cli("case", "show", "C404")
    assert (missing.returncode, missing.stderr.strip()) == (1, "carepath case show: zaak C404 bestaat niet")
    english = cli.english("case", "show", "C404")  # an engine refusal in the language of the setting
    assert (english.returncode, english.stderr.strip()) == (1, "carepath case show: there is no case C404")
    no_file = cli("case", "start", "test-visits", "--trigger", "signal", "--data", "nope.json",
                  "--municipality", "GM0014")
    assert no_file.returncode == 2 and "kan nope.json niet lezen" in no_file.stderr
    no_task = cli("task", "complete", "C404.3", "--data", cli.text("broken.json", '{"outcome": '))
    # Who may complete the task is checked before the form is read: a stranger learns nothing about it.
    assert (no_task.returncode, no_task.stderr.strip()) == (1, "carepath task complete: taak C404.3 bestaat niet")
    _team_with_workers(cli)
    started = cli("case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("client.json", CLIENT),
                  "--team", "noord", "--municipality", "GM0014")
    task_id = started.stdout.split("open taak ")[1].split(":")[0]
    not_json = cli("task", "complete", task_id, "--data", cli.text("broken.json", '{"outcome": '), "--worker", "anna")
    assert not_json.returncode == 2 and "broken.json is geen JSON: Expecting value op regel 1" in not_json.stderr
    a_list = cli("task", "complete", task_id, "--data", cli.file("list.json", ["help"]), "--worker", "anna")
    assert a_list.returncode == 2 and "moet een JSON-object bevatten, geen list" in a_list.stderr
    invalid = cli("case", "start", "test-visits", "--trigger", "signal", "--data",
                  cli.file("invalid.json", {"concern": "x"}), "--municipality", "GM0014")
    assert invalid.returncode == 1 and "fout in de zaakgegevens voor zorgpad «Testpad huisbezoeken»" in invalid.stderr
    unknown = cli("case", "start", "test-visits@9", "--trigger", "signal", "--data", cli.file("c.json", CLIENT),
                  "--municipality", "GM0014")
    assert unknown.returncode == 1 and "zorgpad test-visits versie 9 is niet gepubliceerd" in unknown.stderr
    usage = cli("case", "start", "test-visits")
    assert usage.returncode == 2 and "--trigger" in usage.stderr
    assert "fout: de volgende argumenten zijn verplicht: --trigger, --data, --municipality" in usage.stderr
    no_municipality = cli("case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("c.json", CLIENT))
    assert no_municipality.returncode == 2 and "verplicht: --municipality" in no_municipality.stderr
    assert "the following arguments are required: --municipality" in cli.english(
        "case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("c.json", CLIENT)).stderr
