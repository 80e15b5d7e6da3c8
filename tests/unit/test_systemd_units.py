"""The systemd units of docs/systemd/ (docs/deployment.md, "One machine") start what exists: the web
unit's `carepath` command line is one carepath's own parser accepts, the worker's names the work pool
`carepath deploy` makes, and both set a CPU weight (which turns systemd's CPU controller on for them)."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from integrations.cli import build_parser

UNITS = Path(__file__).resolve().parents[2] / "docs" / "systemd"


def _unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    assert set(parser.sections()) == {"Unit", "Service", "Install"}, name
    return parser["Service"]


@pytest.mark.parametrize("name", ["carepath-web.service", "carepath-worker.service"])
def test_a_unit_has_its_own_cpu_weight_and_environment(name: str) -> None:
    service = _unit(name)
    assert 1 <= int(service["CPUWeight"]) <= 10000
    assert service["EnvironmentFile"] == "/etc/carepath/carepath.env"
    assert service["Restart"] == "on-failure"


def test_the_web_unit_runs_a_web_only_serve_that_carepath_accepts() -> None:
    command = shlex.split(_unit("carepath-web.service")["ExecStart"])
    assert Path(command[0]).name == "carepath"
    args = build_parser().parse_args(command[1:])
    assert args.command == "serve" and args.web_only and args.port == 8000


def test_the_worker_unit_serves_the_pool_carepath_deploys_to() -> None:
    command = shlex.split(_unit("carepath-worker.service")["ExecStart"])
    assert Path(command[0]).name == "prefect"
    assert command[1:4] == ["worker", "start", "--pool"]
    assert command[4] == build_parser().parse_args(["deploy"]).pool  # the pool `carepath deploy` makes
