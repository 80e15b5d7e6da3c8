"""Funders: the optional `funder` block of a pathway, a case's own funder at its start, funder keys."""

from __future__ import annotations

import pytest

from engine import commands as c
from engine.errors import PathwayError, ValidationError
from engine.funding import Funder, FunderKind, funder_key, municipality_key, parse_funder_key
from engine.loader import dump_pathway, load_pathway
from tasks.registry import default_kinds
from tests.unit.engine_support import PATHWAYS, runner_for, start

SCHOOL = PATHWAYS / "school-social-work.yaml"


def _school(funder_block: str) -> str:
    text = SCHOOL.read_text(encoding="utf-8")
    return text.replace("\ncalendar:", f"\n{funder_block}\ncalendar:", 1)


def _load(text: str) -> object:
    return load_pathway(text, "school.yaml", default_kinds())


def test_a_pathway_names_its_funder_and_cases_inherit_it() -> None:
    pathway = load_pathway(_school("funder: {kind: school_board, code: '41234', name: Stichting Drentse Scholen}"),
                           "school.yaml", default_kinds())
    assert pathway.funder == Funder(FunderKind.SCHOOL_BOARD, "41234", "Stichting Drentse Scholen")
    assert "funder:" in dump_pathway(pathway)
    assert load_pathway(dump_pathway(pathway), "again.yaml", default_kinds()) == pathway
    runner = runner_for(pathway)
    state = start(runner, pathway, _data(pathway))
    assert state.funder == "school_board:41234"
    # A case names another funder at its start: that one counts.
    other = runner.start(c.StartCase(case_id="C2", actor="coordinator:anna", pathway_id=pathway.id,
                                     pathway_version=pathway.version, trigger=pathway.triggers[0].type,
                                     data=_data(pathway), pseudonym="P-C2", funder="municipality:GM0106"))
    assert other.funder == "municipality:GM0106"
    with pytest.raises(ValidationError, match="onbekende soort"):
        runner.start(c.StartCase(case_id="C3", actor="coordinator:anna", pathway_id=pathway.id,
                                 pathway_version=pathway.version, trigger=pathway.triggers[0].type,
                                 data=_data(pathway), pseudonym="P-C3", funder="bank:7"))


def test_without_a_funder_nothing_changes() -> None:
    pathway = load_pathway(SCHOOL.read_text(encoding="utf-8"), str(SCHOOL), default_kinds())
    assert pathway.funder is None
    state = start(runner_for(pathway), pathway, _data(pathway))
    assert state.funder is None and "funder" not in state.to_json()


@pytest.mark.parametrize(("block", "where"), [
    ("funder: {kind: bank, code: '1'}", "funder"),
    ("funder: {kind: municipality, code: '0344'}", "funder"),
    ("funder: {kind: health_insurer}", "funder"),
    ("funder: {kind: health_insurer, code: '3311', colour: red}", "funder"),
])
def test_a_bad_funder_block_is_refused_where_it_is(block: str, where: str) -> None:
    with pytest.raises(PathwayError) as caught:
        _load(_school(block))
    assert where in str(caught.value)


def test_funder_keys() -> None:
    assert funder_key(FunderKind.HEALTH_INSURER, "3311") == "health_insurer:3311"
    assert municipality_key("GM0599") == "municipality:GM0599"
    assert parse_funder_key("housing_corporation:L1234") == (FunderKind.HOUSING_CORPORATION, "L1234")
    for bad, message in (("GM0599", "soort:code"), ("municipality:0599", "CBS-code"), ("school_board:", "letters"),
                         ("x:1", "onbekende soort")):
        with pytest.raises(ValidationError, match=message):
            parse_funder_key(bad)


def _data(pathway: object) -> dict[str, object]:
    return {"pupil_name": "Sem de Vries", "date_of_birth": "2011-04-02", "school_name": "Dr. Nassau College",
            "school_level": "secondary", "referred_by": "mentor", "referral_reason": "verzuim", "funding": "school"}
