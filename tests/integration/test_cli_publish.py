"""`carepath publish`, `unpublish` and `origin`, run in-process on a data directory of their own
(the subprocess runs of the other commands are in test_cli_cases.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import ManualClock
from integrations.cli import main
from integrations.db.engine_factory import read_session
from integrations.service import CaseService, build_service
from tests.fixtures.visits_pathway import YAML_PATH
from tests.integration.conftest import BACKENDS, empty_tables

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
YOUTH = (EXAMPLES / "youth-debt.yaml").read_text(encoding="utf-8")
CRISIS = (EXAMPLES / "crisis-chain.yaml").read_text(encoding="utf-8")


@pytest.fixture(params=BACKENDS)
def installation(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for key in [k for k in os.environ if k.startswith("CAREPATH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CAREPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAREPATH_PATHWAYS_DIR", str(YAML_PATH.parent))
    monkeypatch.setenv("CAREPATH_WORKER", "carla")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'carepath.db'}"
    url, engine = request.getfixturevalue("postgresql_database")
    empty_tables(engine)
    monkeypatch.setenv("CAREPATH_DATABASE_URL", url)
    return str(url)


def _service(url: str, tmp_path: Path) -> CaseService:
    return build_service(url, ManualClock(datetime.now(UTC)), YAML_PATH.parent, data_dir=tmp_path / "data")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_publish_checks_diffs_and_unpublishes(installation: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    v1 = tmp_path / "youth-debt.yaml"
    v1.write_text(YOUTH, encoding="utf-8")
    code, out, _ = _run(capsys, "publish", str(v1), "--dry-run")
    assert code == 0 and "youth-debt@1 (Schuldhulp jongeren) is in orde; wijzigingen nieuw:" in out
    assert "proefrun: er is niets gepubliceerd" in out
    code, out, _ = _run(capsys, "publish", str(v1))
    assert code == 0 and "youth-debt@1 is gepubliceerd" in out
    assert _run(capsys, "publish", str(v1))[1].startswith("youth-debt@1 is al gepubliceerd met deze inhoud")

    other = tmp_path / "other.yaml"
    other.write_text(YOUTH.replace("due: 4 werkweken", "due: 3 werkweken"), encoding="utf-8")
    code, _, err = _run(capsys, "publish", str(other))
    assert code == 1 and "youth-debt@1 is al gepubliceerd met andere inhoud" in err
    v2 = tmp_path / "youth-debt-2.yaml"
    v2.write_text(YOUTH.replace("version: 1", "version: 2").replace("due: 4 werkweken", "due: 3 werkweken")
                  .replace("title: Schuldhulpverlener jongeren", "title: Schuldhulpverlener jongvolwassenen"),
                  encoding="utf-8")
    code, out, _ = _run(capsys, "publish", str(v2))
    assert code == 0 and "wijzigingen sinds versie 1:" in out
    assert "  - rol gewijzigd: debt_worker (title)" in out and "  - stap gewijzigd: intake (due)" in out

    broken = tmp_path / "broken.yaml"
    broken.write_text(YOUTH.replace("role: debt_worker", "role: debt_wrker"), encoding="utf-8")
    code, _, err = _run(capsys, "publish", str(broken))
    line = 1 + YOUTH[:YOUTH.index("role: debt_worker")].count("\n")
    assert code == 1 and f"broken.yaml:{line}:11:" in err and "onbekende rol `debt_wrker`" in err
    assert "er is niets gepubliceerd" in err

    service = _service(installation, tmp_path)
    service.start_case("youth-debt", "referral", {"client_name": "Sara"}, actor="carla", version=1)
    code, _, err = _run(capsys, "unpublish", "youth-debt@1")
    assert code == 1 and "wordt gebruikt door 1 zaken" in err
    code, out, _ = _run(capsys, "unpublish", "youth-debt@2")
    assert code == 0 and "youth-debt@2 is ingetrokken" in out
    with read_session(service.db) as session:
        assert [v for pid, v, _ in service.catalog.published(session) if pid == "youth-debt"] == [1]
    assert _run(capsys, "unpublish", "youth-debt")[0] == 2


def test_origin_registration_and_objection(installation: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in (("crisis-chain.yaml", CRISIS), ("youth-debt.yaml", YOUTH)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        code, out, _ = _run(capsys, "publish", str(tmp_path / name))
        assert code == 0
        if name == "crisis-chain.yaml":  # published before the pathway it hands over to
            assert "waarschuwing: stap debt_handover: zorgpad youth-debt is (nog) niet gepubliceerd" in out
    bad_map = tmp_path / "crisis-2.yaml"
    bad_map.write_text(CRISIS.replace("version: 1", "version: 2").replace(
        "map: {client_name: client_name, phone: phone}", "map: {naam: client_name}"), encoding="utf-8")
    code, out, _ = _run(capsys, "publish", str(bad_map), "--dry-run")
    assert code == 0 and "youth-debt@1 kent geen zaakgegeven 'naam'" in out
    assert "youth-debt@1 vraagt 'client_name', maar `map` vult het niet" in out
    service = _service(installation, tmp_path)
    data = {"client_name": "Sara", "risk_level": "low", "problem_area": "housing"}
    crisis = service.start_case("crisis-chain", "police_report", data, actor="carla").case_id
    youth = service.start_case("youth-debt", "referral", {"client_name": "Sara"}, actor="carla").case_id

    code, out, _ = _run(capsys, "origin", crisis, "--client", "nl", "--mother", "MA", "--father", "TR")
    assert code == 0 and f"herkomst vastgelegd voor zaak {crisis}" in out
    assert service.case(crisis).origin == {"client": "NL", "mother": "MA", "father": "TR"}
    code, _, err = _run(capsys, "origin", crisis, "--client", "Nederland")
    assert code == 1 and "ISO 3166" in err
    code, out, _ = _run(capsys, "origin", crisis, "--objects")
    assert code == 0 and "bezwaar vastgelegd" in out
    state = service.case(crisis)
    assert state.origin is None and state.origin_objection
    code, _, err = _run(capsys, "origin", crisis, "--client", "NL")
    assert code == 1 and "bezwaar" in err
    code, _, err = _run(capsys, "origin", youth, "--client", "NL")
    assert code == 1 and "legt geen herkomst vast" in err
    assert _run(capsys, "origin", crisis)[0] == 2
