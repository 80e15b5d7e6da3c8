"""The coordinator's dry run: deterministic, complete, and honest about its model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.compiled import compile_pathway
from engine.errors import EngineError
from engine.simulate import WorkerModel, choices, simulate
from tasks.handlers import default_handlers
from tests.unit.engine_support import PATHWAYS, load

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
SHIPPED = sorted(PATHWAYS.glob("*.yaml"))


def run(name: str, seed: int = 1, cases: int = 30, model: WorkerModel | None = None) -> list[str]:
    cp = compile_pathway(load(PATHWAYS / name))
    result = simulate(cp, default_handlers(), cases=cases, days=365, seed=seed, start=START, model=model)
    return result.timeline + result.summary


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_pathway_simulates_to_closed_cases_without_refusals(path) -> None:  # type: ignore[no-untyped-def]
    lines = run(path.name, cases=25)
    summary = "\n".join(lines)
    assert "geweigerde handelingen" not in summary
    closed = next(line for line in lines if "zaken afgesloten:" in line)
    assert int(closed.split("zaken afgesloten: ")[1].split(",")[0]) >= 20


def test_same_seed_same_output_other_seed_other_output() -> None:
    assert run("swa-trajectory.yaml", seed=7) == run("swa-trajectory.yaml", seed=7)
    assert run("swa-trajectory.yaml", seed=7) != run("swa-trajectory.yaml", seed=8)


def test_model_answers_steer_the_outcome() -> None:
    never = WorkerModel(answers={"doorstep_visit.contact_result": "not_home"})
    lines = run("eviction-prevention.yaml", cases=10, model=never)
    assert any(line.strip() == "Huurder blijft huren (tenancy_kept): 0" for line in lines)


def test_the_report_is_dutch_and_english_on_request() -> None:
    cp = compile_pathway(load(PATHWAYS / "swa-trajectory.yaml"))
    dutch = simulate(cp, default_handlers(), cases=5, days=120, seed=3, start=START)
    english = simulate(cp, default_handlers(), cases=5, days=120, seed=3, start=START, lang="en")
    nl, en = "\n".join(dutch.timeline + dutch.summary), "\n".join(english.timeline + english.summary)
    assert "Verloop van zaak C00001" in nl and "zaken afgesloten:" in nl and "probleemgebieden:" in nl
    assert "taak geopend:" in nl and " jan 2026 " in nl  # task titles and Dutch dates in local time
    for english_word in ("Timeline", "cases closed", "tasks created", "task opened", "started", "median"):
        assert english_word not in nl
    assert "Timeline of case C00001" in en and "cases closed:" in en and "2026-01-" in en
    assert len(dutch.summary) == len(english.summary)


def test_parallel_tracks_four_to_five_per_client() -> None:
    cp = compile_pathway(load(PATHWAYS / "swa-trajectory.yaml"))
    result = simulate(cp, default_handlers(), cases=20, days=60, seed=2, start=START,
                      model=WorkerModel(on_time=1.0, answers={}))
    started = [len(s.tracks) for s in result.cases.values() if s.tracks]
    assert started and all(4 <= n <= 6 for n in started)  # 4-5 from the intake, an evaluation may add one


def test_unknown_model_setting_is_named() -> None:
    with pytest.raises(EngineError, match="onbekende instellingen van het werkmodel: speed"):
        WorkerModel.from_mapping({"speed": 2})


def test_choices_reads_enum_and_const_options() -> None:
    assert choices({"enum": ["a", "b"]}) == ["a", "b"]
    assert choices({"oneOf": [{"const": "x", "title": "X"}, {"const": "y"}]}) == ["x", "y"]
    assert choices({"type": "string"}) is None
