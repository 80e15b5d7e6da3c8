"""The catalogue of problem texts: every code in Dutch and English with the same arguments,
codes the engine names all exist, and a problem renders in either language."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from engine.errors import PathwayError, Problem
from engine.json_validation import error_text, validator_for
from engine.loader import load_pathway
from engine.problem_texts import TEXTS, all_of, any_words, argument_names, language_of, one_of, render, text
from tasks.registry import default_kinds

ENGINE = Path(__file__).resolve().parents[2] / "engine"
GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "pathway-language.md"


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_every_code_has_both_languages_with_the_same_arguments(code: str) -> None:
    nl, en = TEXTS[code]
    assert nl.strip() and en.strip()
    assert argument_names(nl) == argument_names(en), code
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code), code


def test_every_code_the_engine_names_is_in_the_catalogue() -> None:
    named: set[str] = set()
    for source in ENGINE.glob("*.py"):
        body = source.read_text(encoding="utf-8")
        named |= set(re.findall(r"""(?<![\w.])(?:_?text|problem_text)\(\s*"([a-z0-9]+-[a-z0-9-]+)\"""", body))
        named |= set(re.findall(r'"((?:hint|deel)-[a-z0-9-]+)"', body))
    joins = {"deel-een-van", "deel-alle", "deel-of-woorden"}  # lists, joined by the renderer
    assert len(named) > 150
    assert sorted(code for code in named if code not in TEXTS and code not in joins) == []


def test_dutch_texts_use_the_glossary_terms() -> None:
    avoided: set[str] = set()
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("concept", "---"):
            avoided |= {re.sub(r"\(.*?\)", "", w).strip().lower() for w in cells[2].split(",")} - {""}
    found = [(word, code) for code, (nl, _) in TEXTS.items() for word in avoided
             if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", nl, re.IGNORECASE)]
    assert "casus" in avoided and found == []


def test_every_problem_code_is_documented() -> None:
    section = DOCS.read_text(encoding="utf-8").split("#### Foutcodes", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))
    problems = {code for code in TEXTS if not code.startswith(("hint-", "deel-"))}
    assert sorted(problems - documented) == []
    assert sorted(documented - problems) == []


def test_lists_numbers_and_nested_texts_follow_the_language() -> None:
    assert one_of(["a", "b", "c"]).render("nl") == "`a`, `b` of `c`"
    assert one_of(["a", "b", "c"]).render("en") == "`a`, `b` or `c`"
    assert all_of(["a", "b"]).render("nl") == "`a` en `b`"
    assert one_of([]).render("en") == "nothing"
    assert any_words([text("deel-type-string"), text("deel-type-array")]).render("nl") == "tekst of een lijst"
    assert text("te-klein", limit=0.5).render("nl") == "moet minstens 0,5 zijn"
    assert text("te-klein", limit=0.5).render("en") == "must be at least 0.5"
    assert render("hint-bedoel-je", (("word", "title"),), "EN-gb") == "did you mean `title`?"
    assert language_of("") == "nl" and language_of("en_US.UTF-8") == "en"


def test_an_unknown_code_is_refused_where_it_is_made() -> None:
    with pytest.raises(KeyError):
        text("bestaat-niet")


def test_a_problem_is_dutch_by_default_and_english_on_request() -> None:
    with pytest.raises(PathwayError) as caught:
        load_pathway("id: x\nversion: 1\ntitel: Huisbezoek\n", "p.yaml", default_kinds())
    problem = next(p for p in caught.value.problems if p.code == "onbekend-veld")
    assert problem.args == (("key", "titel"),)
    assert problem.message == "onbekend veld `titel`"
    assert problem.hint == "bedoel je `title`?"
    assert str(problem) == "p.yaml:3:1: titel: onbekend veld `titel` (bedoel je `title`?)"
    assert problem.text("en") == "p.yaml:3:1: titel: unknown key `titel` (did you mean `title`?)"
    assert caught.value.text("en").startswith("p.yaml:") and "more)" in caught.value.text("en")
    assert "(en nog " in str(caught.value)


def test_a_problem_is_plain_frozen_data() -> None:
    first = Problem.of("f", 1, 1, "", text("bestand-leeg"), text("hint-begin-met-id"))
    again = Problem.of("f", 1, 1, "", text("bestand-leeg"), text("hint-begin-met-id"))
    assert first == again and hash(first) == hash(again)
    assert pickle.loads(pickle.dumps(first)) == first  # the web app checks pathways in worker processes
    assert first.hint_code == "hint-begin-met-id" and first.hint_in("en").startswith("a pathway starts")
    with pytest.raises(AttributeError):
        first.code = "x"  # type: ignore[misc]


def _errors(schema: dict[str, object], data: object) -> list[str]:
    return sorted(error_text(e) for e in validator_for(schema).iter_errors(data))


FORM = {"type": "object", "additionalProperties": False, "required": ["title"],
        "properties": {"title": {"type": "string", "minLength": 1}, "count": {"type": "integer", "minimum": 1},
                       "kind": {"enum": ["visit", "call"]}, "code": {"type": "string", "pattern": "^[A-Z]{2}$"},
                       "day": {"type": "string", "format": "date"}, "tags": {"type": "array", "minItems": 1},
                       "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}


def test_json_schema_errors_of_data_are_dutch_per_keyword() -> None:
    assert _errors(FORM, {"titel": "x"}) == ["onbekend veld `titel` (bedoel je `title`?)",
                                             "verplicht veld `title` ontbreekt"]
    assert _errors(FORM, {"title": 5}) == ["title: moet tekst zijn, niet het getal 5 "
                                           "(zet de waarde tussen aanhalingstekens als het tekst moet zijn)"]
    assert _errors(FORM, {"title": ""}) == ["title: mag niet leeg zijn"]
    assert _errors(FORM, {"title": "x", "count": 0}) == ["count: moet minstens 1 zijn"]
    assert _errors(FORM, {"title": "x", "kind": "vist"}) == [
        "kind: de tekst `vist` is hier niet toegestaan; gebruik `visit` of `call` (bedoel je `visit`?)"]
    assert _errors(FORM, {"title": "x", "code": "nl"}) == ["code: `nl` heeft niet de verwachte vorm"]
    assert _errors(FORM, {"title": "x", "day": "2026-13-01"})[0].startswith("day: de tekst `2026-13-01` is geen "
                                                                            "geldige datum")
    assert _errors(FORM, {"title": "x", "tags": []}) == ["tags: de lijst is leeg; voeg minstens één item toe"]
    assert _errors(FORM, {"title": "x", "choice": 1.5}) == ["choice: past bij geen van de toegestane vormen"]


def test_json_schema_errors_of_data_in_english() -> None:
    (error,) = validator_for(FORM).iter_errors({"title": "x", "count": "3"})
    assert error_text(error, "en") == "count: must be a whole number, not the text `3`"
    nested = {"type": "object", "properties": {"kids": {"type": "array", "items": {
        "type": "object", "properties": {"age": {"type": "integer", "maximum": 17}}}}}}
    (deep,) = validator_for(nested).iter_errors({"kids": [{"age": 3}, {"age": 30}]})
    assert error_text(deep, "en") == "kids[1].age: must be at most 17"
    assert error_text(deep) == "kids[1].age: mag hoogstens 17 zijn"


@pytest.mark.parametrize("command", ["validate", "graph", "simulate"])
def test_the_cli_prints_problems_in_the_language_of_the_setting(
        command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from integrations.cli import main

    broken = str(Path(__file__).parent / "broken" / "unknown_role.yaml")
    monkeypatch.setenv("CAREPATH_LANGUAGE", "en")
    assert main([command, broken]) == 1
    english = capsys.readouterr()
    assert "unknown role `wroker` (did you mean `worker`?)" in english.out + english.err
    monkeypatch.setenv("CAREPATH_LANGUAGE", "")
    assert main([command, broken]) == 1
    dutch = capsys.readouterr()
    assert "onbekende rol `wroker` (bedoel je `worker`?)" in dutch.out + dutch.err
