"""Pathway files on disk: find them, read them, load them, check versions across them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.definition import Pathway
from engine.errors import PathwayError, Problem
from engine.kinds import TaskKindSpec
from engine.loader import check_versions, load_pathway
from engine.problem_texts import text
from engine.yaml_source import DEFAULT_MAX_BYTES
from tasks.registry import default_kinds

PATHWAY_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FileResult:
    """The outcome of checking one file: a pathway, or the problems that stop it."""

    file: str
    pathway: Pathway | None
    problems: tuple[Problem, ...]

    @property
    def valid(self) -> bool:
        return self.pathway is not None and not self.problems


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for the pathway files directly inside it, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in PATHWAY_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_file(
    path: Path, kinds: Mapping[str, TaskKindSpec] | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Pathway:
    """Load one pathway file; `PathwayError` when it is invalid, `OSError` when it cannot be read."""
    size = path.stat().st_size
    if size > max_bytes:
        raise PathwayError([Problem.of(str(path), 0, 0, "", text("bestand-te-groot", size=size, limit=max_bytes),
                                       text("hint-pad-splitsen"))])
    with path.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
    return load_pathway(raw, str(path), kinds if kinds is not None else default_kinds(), max_bytes=max_bytes)


def validate_files(
    paths: Sequence[Path], kinds: Mapping[str, TaskKindSpec] | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[FileResult]:
    """Check every file, then check versions across the valid ones (same id+version, other content)."""
    kinds = kinds if kinds is not None else default_kinds()
    results: list[FileResult] = []
    for path in paths:
        try:
            results.append(FileResult(str(path), load_file(path, kinds, max_bytes), ()))
        except PathwayError as exc:
            results.append(FileResult(str(path), None, exc.problems))
        except OSError as exc:
            reason = text("bestand-onleesbaar", reason=str(exc.strerror or exc))
            results.append(FileResult(str(path), None, (Problem.of(str(path), 0, 0, "", reason),)))
    loaded = [r for r in results if r.pathway is not None]
    clashes = check_versions([r.pathway for r in loaded if r.pathway is not None], [r.file for r in loaded])
    by_file: dict[str, list[Problem]] = {}
    for problem in clashes:
        by_file.setdefault(problem.file, []).append(problem)
    return [FileResult(r.file, r.pathway, tuple(by_file[r.file])) if r.file in by_file else r for r in results]
