"""Load a pathway file: safe YAML, the JSON Schema, the semantic checks, then the model.

`load_pathway` either returns a `Pathway` that passed every check or raises
`PathwayError` with every problem found, sorted by position, each naming the
file, line, column and element and, where it can, what was meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.compat import StringIO

from engine.definition import Pathway
from engine.errors import PathwayError, Problem
from engine.kinds import TaskKindSpec
from engine.pathway_build import build_pathway
from engine.pathway_data import fingerprint, pathway_to_data
from engine.problem_texts import text as problem_text
from engine.schema_check import check_structure
from engine.semantic_check import check_semantics
from engine.yaml_source import DEFAULT_MAX_BYTES, YamlReadError, read_yaml

SCHEMA_MODELINE = "# yaml-language-server: $schema=../schemas/pathway.schema.json"

__all__ = ["SCHEMA_MODELINE", "check_versions", "dump_pathway", "load_pathway", "pathway_to_data"]


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.line, p.column, p.path, p.message))


def load_pathway(
    text: str | bytes,
    source: str,
    kinds: Mapping[str, TaskKindSpec],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Pathway:
    """Check and build the pathway in `text` (read from `source`, used in messages).

    `kinds` are the automated task kinds steps may use (`tasks.registry.default_kinds()`).
    Raises `PathwayError` carrying every problem when the file is not a valid pathway.
    """
    try:
        doc, problems = read_yaml(text, source, max_bytes)
    except YamlReadError as exc:
        raise PathwayError(_sorted(exc.problems)) from None
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), problem_text("zorgpad-geen-mapping"), problem_text("hint-begin-bestand")))
        raise PathwayError(_sorted(problems))
    problems.extend(check_structure(doc, kinds))
    problems.extend(check_semantics(doc, kinds))
    if problems:
        raise PathwayError(_sorted(problems))
    pathway = build_pathway(doc.data)
    return replace(pathway, fingerprint=fingerprint(pathway))


def dump_pathway(p: Pathway) -> str:
    """`p` as YAML in canonical form; loading it gives a `Pathway` equal to `p`."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(str, _represent_text)
    yaml.representer.sort_base_mapping_type_on_output = False  # keep the file's logical key order
    buffer = StringIO()
    yaml.dump(pathway_to_data(p), buffer)
    return f"{SCHEMA_MODELINE}\n{buffer.getvalue()}"


def _represent_text(representer: Any, text: str) -> Any:
    """Multi-line text (instructions, descriptions) as a readable `|` block."""
    style = "|" if "\n" in text else None
    return representer.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def check_versions(pathways: Iterable[Pathway], sources: Sequence[str] | None = None) -> list[Problem]:
    """Problems where one id and version stand for different content.

    Publishing a changed pathway under a version that is already in use would
    change running cases behind their back; the fix is to raise `version`.
    Compares fingerprints. `sources` optionally names the file of each pathway
    (same order) for the messages; otherwise the pathway key stands in.
    """
    listed = list(pathways)
    names = list(sources) if sources is not None else [p.key for p in listed]
    highest: dict[str, int] = {}
    for pathway in listed:
        highest[pathway.id] = max(highest.get(pathway.id, 0), pathway.version)
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for index, pathway in enumerate(listed):
        seen = first.setdefault(pathway.key, index)
        if seen != index and listed[seen].fingerprint != pathway.fingerprint:
            problems.append(Problem.of(
                names[index], 0, 0, "version",
                problem_text("versie-andere-inhoud", pathway=pathway.id, version=pathway.version, other=names[seen]),
                problem_text("hint-versie-verhogen", version=highest[pathway.id] + 1),
            ))
    return problems
