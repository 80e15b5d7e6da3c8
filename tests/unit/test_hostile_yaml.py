"""The loader against hostile and malformed input: it must refuse quickly and clearly,
and never raise anything but `PathwayError`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import yaml_source
from engine.errors import PathwayError, Problem
from engine.loader import load_pathway
from engine.yaml_source import MAX_ALIAS_NODES, MAX_DEPTH, read_yaml
from tasks.registry import default_kinds

KINDS = default_kinds()


def problems_of(raw: str | bytes, **options: int) -> list[Problem]:
    with pytest.raises(PathwayError) as caught:
        load_pathway(raw, "hostile.yaml", KINDS, **options)
    return list(caught.value.problems)


def messages(raw: str | bytes, **options: int) -> list[str]:
    return [p.message for p in problems_of(raw, **options)]


def test_python_tag_is_refused_without_constructing_anything() -> None:
    problems = problems_of("id: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    tag = next(p for p in problems if p.code == "tag-niet-toegestaan")
    assert tag.message == "de tag `!!python/object/apply:os.system` is niet toegestaan"
    assert (tag.line, tag.column) == (1, 5)


@pytest.mark.parametrize("tag", ["!foo", "!!str", "!!binary", "!<tag:example.com,2000:x>", "!"])
def test_every_explicit_tag_is_refused(tag: str) -> None:
    found = messages(f"title: {tag} text\n")
    assert any(m.startswith("de tag `") and m.endswith("` is niet toegestaan") for m in found), found


def test_tags_on_collections_are_refused() -> None:
    assert "de tag `!!set` is niet toegestaan" in messages("roles: !!set {a, b}\n")


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_alias_limit() -> None:
    # 10**10 nodes if expanded: the test returning at all shows the expansion stopped at the limit
    found = problems_of(billion_laughs())
    assert found[0].message == f"aliassen (`*naam`) breiden uit tot meer dan {MAX_ALIAS_NODES} extra elementen"


def test_modest_alias_use_is_fine() -> None:
    doc, problems = read_yaml("base: &r [{before: 1 day}]\nother: *r\n", "f.yaml")
    assert problems == []
    assert doc.data == {"base": [{"before": "1 day"}], "other": [{"before": "1 day"}]}


def test_recursive_alias_is_refused() -> None:
    assert "de alias `*a` verwijst naar zichzelf" in messages("a: &a [1, *a]\n")


def test_undefined_alias_is_reported() -> None:
    assert "de alias `*nope` is niet gedefinieerd" in messages("a: *nope\n")


def test_file_over_the_size_limit_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(text: str) -> Iterator[Any]:
        raise AssertionError("the parser ran on a file over the size limit")

    monkeypatch.setattr(yaml_source, "_events", no_parsing)
    big = "description: " + "x" * (1024 * 1024) + "\n"
    found = messages(big)
    assert found == [f"het bestand is {len(big)} bytes; de grens is 1048576 bytes"]


def test_size_limit_is_configurable() -> None:
    assert messages(b"id: x\n" * 20, max_bytes=100) == ["het bestand is 120 bytes; de grens is 100 bytes"]


def test_utf16_with_bom_is_refused() -> None:
    raw = "id: café\n".encode("utf-16")
    assert messages(raw) == ["het bestand is opgeslagen als UTF-16; carepath leest alleen UTF-8"]


def test_utf16_without_bom_is_refused() -> None:
    raw = "id: café\ntitle: x\n".encode("utf-16-le")
    assert messages(raw)[0].startswith("het bestand lijkt UTF-16 of binaire gegevens")


def test_latin1_names_the_byte_offset_and_line() -> None:
    raw = "id: x\ntitle: Coördinatie\n".encode("latin-1")
    problem = problems_of(raw)[0]
    assert problem.message == ("het bestand is geen geldige UTF-8: byte 0xF6 op positie 15 (regel 2, kolom 10) "
                               "(het lijkt Latin-1/Windows-1252, bijvoorbeeld een letter met accent)")
    assert problem.message_in("en") == ("the file is not valid UTF-8: byte 0xF6 at offset 15 (line 2, column 10) "
                                        "(it looks like Latin-1/Windows-1252, e.g. an accented letter)")
    assert (problem.line, problem.column) == (2, 10)


def test_binary_input_is_refused() -> None:
    assert messages(bytes(range(256)) * 4) == ["het bestand bevat een nul-byte op positie 0: het zijn binaire "
                                               "gegevens, geen tekstbestand"]
    assert messages(b"\x00" * 64)[0].startswith("het bestand lijkt UTF-16 of binaire gegevens")


def test_control_characters_are_refused() -> None:
    assert messages("id: a\x07b\n")[0].startswith("het bestand bevat een stuurteken (U+0007) op regel 1")


def test_utf8_bom_is_accepted() -> None:
    doc, problems = read_yaml("\ufeffid: x\n".encode(), "f.yaml")
    assert doc.data == {"id": "x"} and problems == []


def test_duplicate_keys_are_errors() -> None:
    problem = next(p for p in problems_of("id: a\nversion: 1\nid: b\n") if p.code == "sleutel-dubbel")
    assert problem.message == "de sleutel `id` staat twee keer in deze mapping (eerst op regel 1)"
    assert (problem.line, problem.column, problem.path) == (3, 1, "id")


def test_yaml_12_booleans_keep_no_yes_on_as_text() -> None:
    doc, _ = read_yaml("a: no\nb: yes\nc: on\nd: off\ne: y\nf: true\ng: False\nh: ~\n", "f.yaml")
    assert doc.data == {"a": "no", "b": "yes", "c": "on", "d": "off", "e": "y", "f": True, "g": False, "h": None}


def test_numbers_follow_the_core_schema() -> None:
    doc, _ = read_yaml("a: 010\nb: 0o10\nc: 0x1F\nd: 1.5\ne: 1e3\nf: '12'\ng: 1_000\n", "f.yaml")
    assert doc.data == {"a": 10, "b": 8, "c": 31, "d": 1.5, "e": 1000.0, "f": "12", "g": "1_000"}


def test_dates_become_iso_strings() -> None:
    doc, _ = read_yaml("a: 2026-10-17\nb: 2026-1-7\nc: 2026-10-17 10:30:00+02:00\nd: '2026-10-17'\n"
                       "e: 2026-02-30\n", "f.yaml")
    assert doc.data == {"a": "2026-10-17", "b": "2026-01-07", "c": "2026-10-17T10:30:00+02:00",
                        "d": "2026-10-17", "e": "2026-02-30"}


def test_infinity_and_nan_are_refused() -> None:
    assert any("`.inf` (oneindig / geen getal) kan niet opgeslagen worden" in m for m in messages("a: .inf\n"))


def test_deep_nesting_is_refused() -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    assert messages(deep) == [f"het bestand is meer dan {MAX_DEPTH} niveaus diep genest"]


def test_very_deep_block_nesting_is_refused_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused as soon as the depth limit is crossed: the parser is not asked for the rest of the file."""
    read: list[int] = []
    events = yaml_source._events

    def counted(text: str) -> Iterator[Any]:
        for event in events(text):
            read.append(1)
            yield event

    monkeypatch.setattr(yaml_source, "_events", counted)
    text = "".join(" " * i + f"k{i}:\n" for i in range(500))
    assert messages(text) == [f"het bestand is meer dan {MAX_DEPTH} niveaus diep genest"]
    assert len(read) <= 2 * MAX_DEPTH + 10, f"{len(read)} parser events read for a file refused at depth {MAX_DEPTH}"


def test_more_than_one_document_is_refused() -> None:
    assert "het bestand bevat meer dan één YAML-document" in messages("id: a\n---\nid: b\n")


def test_merge_keys_are_refused() -> None:
    assert "merge-sleutels (`<<`) worden niet ondersteund" in messages("base: &b {a: 1}\nother:\n  <<: *b\n")


def test_complex_keys_are_refused() -> None:
    assert "een sleutel moet gewone tekst zijn, geen lijst of mapping" in messages("? [a, b]\n: 1\n")


def test_empty_and_non_mapping_files() -> None:
    assert messages("") == ["het bestand is leeg"]
    assert messages("# only a comment\n") == ["het bestand is leeg"]
    assert messages("- a\n- b\n")[0].startswith("een zorgpadbestand moet een mapping zijn")
    assert messages("just text\n")[0].startswith("een zorgpadbestand moet een mapping zijn")


def test_syntax_errors_have_a_position_and_a_hint() -> None:
    problem = problems_of("id: x\ntitle: Bezoek: eerste keer\n")[0]
    assert (problem.line, problem.column) == (2, 14)
    assert problem.message == "YAML-syntaxfout: hier mag geen waarde van een mapping staan"
    assert problem.hint == "tekst met ': ' erin moet tussen aanhalingstekens"
    assert problem.message_in("en") == "YAML syntax error: mapping values are not allowed here"
    assert problem.hint_in("en") == "text that contains ': ' needs quotes around it"


yamlish = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
              st.sampled_from(["no", "2026-10-17", "&a", "*a", "!!python/name:os.system", "{", "[", ":", "- "])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)


def _as_yaml(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        return "".join(f"{pad}{k}:\n{_as_yaml(v, indent + 2)}" for k, v in value.items()) or f"{pad}{{}}\n"
    if isinstance(value, list):
        return "".join(f"{pad}-\n{_as_yaml(v, indent + 2)}" for v in value) or f"{pad}[]\n"
    return f"{pad}{value}\n"


PATHWAY_KEYS = ["id", "version", "title", "owner", "calendar", "triggers", "case_data", "roles", "outcomes",
                "steps", "tracks", "next", "kind", "when", "goto", "form", "params"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    yamlish.map(_as_yaml),
    st.dictionaries(st.sampled_from(PATHWAY_KEYS), yamlish, max_size=8).map(_as_yaml),
))
def test_loader_only_ever_raises_pathway_error(raw: str | bytes) -> None:
    try:
        load_pathway(raw, "fuzz.yaml", KINDS)
    except PathwayError as exc:
        assert exc.problems, "a PathwayError must carry at least one problem"


RICH = read_yaml((__import__("pathlib").Path(__file__).parent / "fixtures" / "rich.yaml").read_bytes(), "rich.yaml")[0]
RICH_PATHS = sorted(RICH.values, key=repr)


def _replace(data: object, path: tuple[str | int, ...], value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in data.items()}
    if isinstance(data, list):
        return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(data)]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(RICH_PATHS), yamlish), min_size=1, max_size=3))
def test_mutated_valid_pathway_only_ever_raises_pathway_error(edits: list[tuple[tuple[str | int, ...], object]]) -> None:
    import json

    data = RICH.data
    for path, value in edits:
        data = _replace(data, path, value)
    try:
        load_pathway(json.dumps(data), "mutant.yaml", KINDS)  # JSON is YAML
    except PathwayError as exc:
        assert exc.problems
