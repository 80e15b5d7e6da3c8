"""The watched inbox and the retention run: plain functions on both databases, and real Prefect flow runs."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from engine.clock import ManualClock
from integrations.db.signal_tables import SignalRow  # noqa: F401  (registers the tables for the fixtures)
from integrations.exchange.ddas.importer import ROUTES_ENV
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal
from integrations.runtime.context import Runtime, installed
from integrations.runtime.loop import SERVE_JOBS, RuntimeLoop
from integrations.runtime.signal_jobs import INBOX_ENV, process_inbox, run_retention
from integrations.service import CaseService
from tests.integration.runtime_support import make_runtime, prepare_prefect, runtime_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runtime(service: CaseService, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    return _runtime(service, data_dir, tmp_path, monkeypatch)


def _runtime(service: CaseService, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    for name in ("eviction-prevention.yaml", "early-signal.yaml"):
        path = ROOT / "pathways" / name
        service.publish_pathway(path.read_text(encoding="utf-8"), str(path))
    monkeypatch.setenv(ROUTES_ENV, "GM0014=noord-groningen")
    monkeypatch.setenv(INBOX_ENV, str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    return make_runtime(service, data_dir, runtime_config())


def _drop(folder: Path, name: str, *, broken: bool = False) -> Path:
    rng = random.Random(len(name))
    items = [signal(rng, i, "Energie", date(2026, 2, 10), client={"burgerservicenummer": f"9000000{i:02d}"})
             for i in range(1, 4)]
    if broken:
        items[1]["signaaldatum"] = "10-02-2026"
    path = folder / name
    path.write_text(json.dumps(delivery([("0014", PARTNERS[1], items)], date(2026, 2, 1), date(2026, 2, 28))),
                    encoding="utf-8")
    return path


def test_the_inbox_moves_files_to_done_or_rejected_with_a_report(runtime: Runtime, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _drop(inbox, "goed.json")
    _drop(inbox, "fout.json", broken=True)
    (inbox / "half.json.part").write_text("{", encoding="utf-8")  # still being written: left alone
    result = process_inbox(runtime)
    assert result == {"files": 2, "rejected": 1, "signals": 3, "opened": 3}
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["half.json.part"]
    done = json.loads((inbox / "done" / "goed.verslag.json").read_text(encoding="utf-8"))
    assert done["aantallen"]["nieuwe zaak"] == 3 and done["zaken_geopend"] == 3
    assert (inbox / "done" / "goed.json").is_file()
    rejected = json.loads((inbox / "rejected" / "fout.verslag.json").read_text(encoding="utf-8"))
    assert rejected["geweigerd"] and rejected["fouten"][0]["veld"] == "signaaldatum"
    assert "900000001" not in json.dumps(done) + json.dumps(rejected)  # reports carry no client data
    # The same file again: imported before, nothing changes; its report lands beside a free name.
    _drop(inbox, "goed.json")
    assert process_inbox(runtime)["opened"] == 0
    assert json.loads((inbox / "done" / "goed-2.verslag.json").read_text(encoding="utf-8"))["aantallen"][
        "al geïmporteerd, ongewijzigd"] == 3


def test_serve_runs_the_signal_jobs_in_its_loop(runtime: Runtime, tmp_path: Path, clock: ManualClock) -> None:
    _drop(tmp_path / "inbox", "goed.json")
    loop = RuntimeLoop(runtime, use_prefect=False, jobs=SERVE_JOBS)
    loop.tick()
    assert loop.status.jobs["signal-inbox"].last_result == {"files": 1, "rejected": 0, "signals": 3, "opened": 3}
    assert loop.status.jobs["retention"].runs == 1
    clock.advance(timedelta(days=400))
    assert run_retention(runtime)["erased"] == 0  # open cases: nothing of theirs is due


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    prepare_prefect(tmp_path_factory.mktemp("prefect-home"))
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), \
            temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def test_the_inbox_and_retention_as_prefect_flow_runs(prefect_harness: None, service: CaseService,
                                                       data_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from integrations.runtime.flows import retention_flow, signal_inbox_flow

    built = _runtime(service, data_dir, tmp_path, monkeypatch)
    _drop(tmp_path / "inbox", "goed.json")
    with installed(built):
        assert signal_inbox_flow() == {"files": 1, "rejected": 0, "signals": 3, "opened": 3}
        assert retention_flow()["erased"] == 0
    assert (tmp_path / "inbox" / "done" / "goed.verslag.json").is_file()
