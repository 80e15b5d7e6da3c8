"""The `carepath` pathway commands, run as a user runs them: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "unit" / "fixtures"
BROKEN = ROOT / "tests" / "unit" / "broken"


def carepath(*args: str, language: str = "nl") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREPATH_LANGUAGE": language}
    return subprocess.run([sys.executable, "-m", "integrations.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_validate_valid_files_exits_0_with_a_summary() -> None:
    result = carepath("validate", str(FIXTURES / "minimal.yaml"), str(FIXTURES / "rich.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "2 bestanden gecontroleerd: 2 geldig, 0 ongeldig\n"
    english = carepath("validate", str(FIXTURES / "minimal.yaml"), str(FIXTURES / "rich.yaml"), language="en")
    assert english.stdout == "2 files checked: 2 valid, 0 invalid\n"


def test_validate_a_directory() -> None:
    result = carepath("validate", str(FIXTURES))
    assert result.returncode == 0
    assert result.stdout.startswith("2 bestanden gecontroleerd")


def test_validate_invalid_file_exits_1_and_prints_located_problems() -> None:
    broken = BROKEN / "unknown_next_step.yaml"
    result = carepath("validate", str(FIXTURES / "minimal.yaml"), str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (f"{broken}:54:16: steps[0].next[1].goto: onbekende stap `pick_rout` "
                        "(bedoel je `pick_route`?)")
    assert lines[-1] == "2 bestanden gecontroleerd: 1 geldig, 1 ongeldig (1 probleem)"


def test_validate_json_report_shape() -> None:
    broken = BROKEN / "duplicate_role.yaml"
    result = carepath("validate", "--json", str(FIXTURES / "minimal.yaml"), str(broken))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    good, bad = report["files"]
    assert good["valid"] is True and good["pathway"] == "minimal-referral@1" and len(good["fingerprint"]) == 64
    assert good["problems"] == []
    assert bad["valid"] is False and bad["pathway"] is None
    assert bad["problems"] == [{
        "file": str(broken), "line": 22, "column": 10, "path": "roles[2].id", "code": "id-dubbel",
        "message": "rol-id `worker` wordt twee keer gebruikt (eerst op regel 20)",
        "hint": "elke id moet uniek zijn; geef een van beide een andere naam",
    }]


def test_validate_speaks_english_with_carepath_language_en() -> None:
    broken = BROKEN / "duplicate_role.yaml"
    result = carepath("validate", str(broken), language="en")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (f"{broken}:22:10: roles[2].id: role id `worker` is used twice "
                                             "(first at line 20) (every id must be unique; rename one of them)")
    report = json.loads(carepath("validate", "--json", str(broken), language="en").stdout)
    assert report["files"][0]["problems"][0]["message"] == "role id `worker` is used twice (first at line 20)"
    assert report["files"][0]["problems"][0]["code"] == "id-dubbel"


def test_validate_reports_a_version_clash_across_files(tmp_path: Path) -> None:
    original = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(original, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(original.replace("5 werkdagen", "6 werkdagen"), encoding="utf-8")
    result = carepath("validate", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert result.returncode == 1
    assert f"{tmp_path / 'b.yaml'}:0:0: version: zorgpad `minimal-referral` versie 1 staat ook in" in result.stdout


def test_validate_usage_errors_exit_2() -> None:
    missing = carepath("validate", "does-not-exist.yaml")
    assert missing.returncode == 2
    assert "bestand of map bestaat niet: does-not-exist.yaml" in missing.stderr
    usage = carepath("validate")
    assert usage.returncode == 2
    assert "carepath validate: fout: de volgende argumenten zijn verplicht: PAD" in usage.stderr
    unknown = carepath("no-such-command")
    assert unknown.returncode == 2 and "fout: argument OPDRACHT: ongeldige keuze: 'no-such-command'" in unknown.stderr
    assert "error: argument COMMAND: invalid choice" in carepath("no-such-command", language="en").stderr


def test_graph_prints_a_mermaid_flowchart() -> None:
    result = carepath("graph", str(FIXTURES / "rich.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("flowchart TD\n")
    assert 'subgraph t_debts["Schulden"]' in result.stdout
    # role titles and deadlines in words, Dutch unless the setting asks for English
    assert '["Huisbezoek aan de voordeur (Outreachend maatschappelijk werker, 5 werkdagen)"]' in result.stdout
    english = carepath("graph", str(FIXTURES / "rich.yaml"), language="en").stdout
    assert "(Outreachend maatschappelijk werker, 5 working days)" in english


def test_graph_of_an_invalid_file_exits_1_with_problems_on_stderr() -> None:
    result = carepath("graph", str(BROKEN / "unknown_role.yaml"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "onbekende rol `wroker`" in result.stderr
    english = carepath("graph", str(BROKEN / "unknown_role.yaml"), language="en")
    assert "unknown role `wroker`" in english.stderr


def test_schema_prints_the_json_schema() -> None:
    result = carepath("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "carepath pathway"


def test_validate_does_not_import_prefect_or_sqlalchemy() -> None:
    code = ("import sys; from integrations.cli import main; "
            f"code = main(['validate', {str(FIXTURES / 'minimal.yaml')!r}]); "
            "heavy = sorted(m for m in ('prefect', 'sqlalchemy', 'fastapi') if m in sys.modules); "
            "print(heavy); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
