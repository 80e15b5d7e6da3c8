"""The optional `ddas` and `retention` blocks of a pathway: loaded, checked, and used by retention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.durations import parse_duration
from engine.errors import PathwayError
from engine.loader import load_pathway
from engine.pathway_data import pathway_to_data
from integrations.exchange.ddas.retention import before
from tasks.registry import default_kinds

PATHWAYS = Path(__file__).resolve().parents[2] / "pathways"


def _load(text: str, name: str = "x.yaml") -> object:
    return load_pathway(text.encode(), name, default_kinds())


def test_end_results_by_close_reason_then_outcome() -> None:
    pathway = load_pathway((PATHWAYS / "eviction-prevention.yaml").read_bytes(), "ep.yaml", default_kinds())
    assert pathway.ddas is not None and pathway.retention is not None
    assert pathway.ddas.result_for("no_contact", "other") == "Definitief geen contact kunnen krijgen"
    assert pathway.ddas.result_for(None, "tenancy_kept") == "Vervolghulp en/of verwijzing financieel"
    assert pathway.ddas.result_for("unknown", "other") == "Niet opgepakt: andere reden"
    assert pathway.retention.personal_data_after_close == parse_duration("18 months")
    data = pathway_to_data(pathway)
    assert data["retention"]["signal_taken_up"] == "12 months"
    assert data["ddas"]["end_results"]["by_close_reason"]["client_moved"].startswith("Persoon is geen inwoner")


def test_a_wrong_mapping_is_refused_with_its_place() -> None:
    text = (PATHWAYS / "early-signal.yaml").read_text(encoding="utf-8")
    broken = text.replace("      quick_fix: '(Budget)advies en/of quick fix'\n      referred_financial",
                          "      quick_fixe: '(Budget)advies en/of quick fix'\n      referred_financial", 1)
    broken = broken.replace("      not_taken_up: 'Niet opgepakt: andere reden'\n", "", 1)
    broken = broken.replace("signal_unmatched: 6 months", "signal_unmatched: zes maanden", 1)
    with pytest.raises(PathwayError) as caught:
        _load(broken, "early-signal.yaml")
    text_of = "\n".join(str(p) for p in caught.value.problems)
    assert "ddas.end_results.by_close_reason.quick_fixe: onbekende sluitreden `quick_fixe`" in text_of
    assert "bedoel je `quick_fix`" in text_of
    assert "geen DDAS-eindresultaat voor uitkomst(en) not_taken_up" in text_of
    assert "retention.signal_unmatched" in text_of


def test_months_back_stay_on_a_real_day() -> None:
    moment = datetime(2026, 8, 31, 10, 0, tzinfo=UTC)
    assert before(moment, parse_duration("6 months")) == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert before(moment, parse_duration("18 months")) == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
    assert before(moment, parse_duration("2 weeks")) == datetime(2026, 8, 17, 10, 0, tzinfo=UTC)
