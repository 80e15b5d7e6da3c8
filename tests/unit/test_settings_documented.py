"""Every `CAREPATH_*` environment variable the program reads is documented (issue #10).

The one place is the table in README.md, section "Environment variables" (meaning and default). The
source (`engine integrations tasks web scripts`) is scanned for every `CAREPATH_` name; a name built at
run time (`f"CAREPATH_WEB_PATHWAY_{suffix}"`) is found by running its reader with a mapping that
records what is asked for.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("engine", "integrations", "tasks", "web", "scripts")
NAME = re.compile(r"CAREPATH_[A-Z0-9_]*")


class Recording(dict[str, str]):
    """An empty environment that remembers every name looked up."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)


def _source_names() -> tuple[set[str], set[str]]:
    """(full names, prefixes such as CAREPATH_WEB_ that a name is built from or a text refers to)."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".sh", "") or not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for found in NAME.finditer(text):
                name = found.group()
                (prefixes if name.endswith("_") else names).add(name)
    return names, prefixes


def _documented() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented: set[str] = set()
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), f"a row needs variable, read by, meaning and default: {row}"
        documented.update(NAME.findall(cells[0]))
    return documented


def _built_at_run_time() -> set[str]:
    from web.pathway_work import PathwayWorkLimits
    from web.settings import WebSettings

    asked: set[str] = set()
    for reader in (PathwayWorkLimits.from_env, WebSettings.from_env):
        env = Recording()
        reader(env)
        asked |= env.asked
    return asked


def test_every_variable_read_is_in_the_readme_table() -> None:
    names, prefixes = _source_names()
    built = _built_at_run_time()
    assert "CAREPATH_WEB_PATHWAY_SIMULATION_EVENTS" in built and "CAREPATH_LANGUAGE" in names  # the scan works
    documented = _documented()
    missing = sorted((names | built) - documented)
    assert missing == [], f"document these in README.md, section Environment variables: {missing}"
    assert all(any(d.startswith(prefix) for d in documented) for prefix in prefixes), prefixes


def test_the_table_names_nothing_the_program_does_not_read() -> None:
    names, _prefixes = _source_names()
    test_only = {"CAREPATH_CHROMIUM", "CAREPATH_REQUIRE_BROWSER", "CAREPATH_REQUIRE_POSTGRES",
                 "CAREPATH_TEST_POSTGRES_URL", "CAREPATH_UPDATE_SCREENSHOTS"}
    stale = sorted(_documented() - names - _built_at_run_time() - test_only)
    assert stale == []
