"""The operator's side of issue #9 in the `carepath` command: pathway owners, `task complete` checking
who before reading the form, a closed case's personal data only with a reason, and the processing-log
export (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from engine.clock import ManualClock
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import write_session
from tests.integration.test_cli_cases import CLIENT, Cli, cli  # noqa: F401 - the fixture

NOW = ManualClock(datetime.now(UTC))


def _started(cli: Cli) -> tuple[str, str]:  # noqa: F811 - the fixture's name
    started = cli("case", "start", "test-visits", "--trigger", "signal", "--data", cli.file("client.json", CLIENT),
                  "--municipality", "GM0014")
    assert started.returncode == 0, started.stderr
    case_id = started.stdout.split()[1]
    return case_id, started.stdout.split("open taak ")[1].split(":")[0]


def test_the_owner_of_a_pathway_comes_from_the_account_registry(cli: Cli) -> None:  # noqa: F811
    service = cli.service(NOW)
    unknown = cli("owner", "test-visits", "Verzonnen BV")
    assert unknown.returncode == 1 and "staat niet in het accountregister" in unknown.stderr
    with write_session(service.db) as session:
        accounts.upsert_team(session, "team-a", "Team A", "AMW Test")
    assert cli("owner", "test-visits").returncode == 1  # no owner yet
    made = cli("owner", "test-visits", "AMW Test")
    assert made.returncode == 0 and "zorgpad test-visits is van AMW Test" in made.stdout
    assert cli("owner").stdout.strip() == "test-visits\tAMW Test"


def test_task_complete_checks_who_before_it_reads_the_form(cli: Cli) -> None:  # noqa: F811
    service = cli.service(NOW)
    with write_session(service.db) as session:
        accounts.upsert_team(session, "team-a", "Team A", "AMW Test")
        accounts.create_account(session, username="rik", display_name="Rik", password="x", role=AccountRole.WORKER,
                                organisation="AMW Test", now=NOW.now(), teams=["team-a"], pathway_roles=["manager"],
                                check_rules=False)
    _case_id, task_id = _started(cli)
    stranger = cli("task", "complete", task_id, "--data", "no-such-file.json", "--worker", "user:rik")
    assert stranger.returncode == 1 and "heeft die rol niet" in stranger.stderr  # the form was never read
    service.claim(task_id, "user:anna")
    other = cli("task", "complete", task_id, "--data", cli.file("bad.json", {"nonsense": 1}), "--worker", "bob")
    assert other.returncode == 1 and "staat op naam van user:anna" in other.stderr and "outcome" not in other.stderr


def test_a_closed_cases_personal_data_needs_a_reason_in_the_cli_too(cli: Cli) -> None:  # noqa: F811
    case_id, _task_id = _started(cli)
    cli.service(NOW).close_case(case_id, "client_moved", actor="tester")
    refused = cli("case", "show", case_id, "--personal")
    assert refused.returncode == 2 and "alleen met een reden" in refused.stderr and "Fatima" not in refused.stdout
    shown = cli("case", "show", case_id, "--personal", "--why", "inzageverzoek van de cliënt")
    assert shown.returncode == 0 and "Fatima de Vries" in shown.stdout


def test_the_processing_log_export(cli: Cli) -> None:  # noqa: F811
    case_id, _ = _started(cli)
    assert cli("case", "show", case_id, "--personal", "--why", "controle").returncode == 0
    # The export's days are Dutch calendar days: from 23:00 or 22:00 UTC it is already tomorrow there.
    day = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    export = cli("audit", "export", "--from", day, "--to", day)
    assert export.returncode == 0, export.stderr
    lines = [json.loads(line) for line in export.stdout.splitlines()]
    viewed = next(line for line in lines if line["attributes"]["carepath.action"] == "view_personal")
    assert viewed["attributes"]["dpl.core.data_subject_id"] == case_id
    assert viewed["attributes"]["dpl.core.processing_activity_id"] == "inzage persoonsgegevens"
    assert len(viewed["trace_id"]) == 32 and viewed["attributes"]["carepath.reason"] == "controle"
    assert "Fatima" not in export.stdout
    csv = cli("audit", "export", "--from", day, "--to", day, "--format", "csv", "--case", case_id)
    assert csv.stdout.splitlines()[0].startswith("trace_id,span_id") and case_id in csv.stdout
    backwards = cli("audit", "export", "--from", day, "--to", "2000-01-01")
    assert backwards.returncode == 2 and "--to ligt voor --from" in backwards.stderr
