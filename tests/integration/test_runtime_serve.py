"""`carepath serve`, `sweep`, `dispatch` and `incidents` as a user runs them (subprocesses).

`serve` is started the way an installation starts it: a data directory, a config.yaml, nothing
else. It must print its URL, answer /health, run the dispatch through Prefect (whose embedded
server keeps its database in the data directory), stop cleanly on SIGTERM, and write nothing
outside its directories (the test gives it an empty HOME and working directory and checks them).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from ruamel.yaml import YAML

from tests.fixtures.notices_pathway import ALWAYS_ID, notices_source
from tests.integration.runtime_support import (
    COORDINATOR_MAILS,
    PARTNER_SECRET,
    SmtpSink,
    WebhookSink,
)

_SCRIPT = Path(sys.executable).with_name("carepath")
CAREPATH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "integrations.cli"]
ROOT = Path(__file__).resolve().parents[2]


class Lines:
    """A stream's lines, read by a thread, for waiting on with a deadline."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)  # the process closed it (exited)

    def wait_for(self, needle: str, deadline: float) -> str:
        while True:
            try:
                line = self.lines.get(timeout=deadline)
            except queue.Empty:
                raise AssertionError(f"no line with {needle!r} within {deadline} s; saw: {self.seen[-20:]}") from None
            if line is None:
                raise AssertionError(f"the stream ended before a line with {needle!r}; saw: {self.seen[-20:]}")
            self.seen.append(line)
            if needle in line:
                return line


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, SmtpSink, WebhookSink]]:
    """An installation directory with config.yaml, an empty HOME and working directory, and
    the receivers its config names."""
    smtp = SmtpSink().start()
    partners = WebhookSink(secrets={"/woonbron": PARTNER_SECRET.encode()}).start()
    data, home, cwd, pathways = (tmp_path / name for name in ("data", "home", "cwd", "pathways"))
    for folder in (data, home, cwd, pathways):
        folder.mkdir()
    (pathways / "notices-24x7.yaml").write_text(notices_source(always=True), encoding="utf-8")
    YAML().dump({
        "base_url": "https://carepath.test",
        "roles": {"coordinator": COORDINATOR_MAILS},
        "mail": {"host": "127.0.0.1", "port": smtp.port},
        "partners": {"housing_corporation": {"url": f"{partners.url}/woonbron", "secret": PARTNER_SECRET}},
        "sweep": {"every": 1},
        "dispatch": {"every": 1},
    }, data / "config.yaml")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CAREPATH_", "PREFECT_", "XDG_")) and k not in ("TMPDIR", "DO_NOT_TRACK")}
    env.update({"CAREPATH_DATA_DIR": str(data), "CAREPATH_PATHWAYS_DIR": str(pathways), "HOME": str(home),
                "CAREPATH_WORKER": "tester", "PYTHONPATH": str(ROOT)})
    try:
        yield env, cwd, smtp, partners
    finally:
        smtp.stop()
        partners.stop()


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAREPATH, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180,
                          check=False)


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_serve_runs_the_web_app_sweep_and_dispatch_in_its_data_dir(
        installation: tuple[dict[str, str], Path, SmtpSink, WebhookSink]) -> None:
    env, cwd, smtp, partners = installation
    data = Path(env["CAREPATH_DATA_DIR"])
    (cwd / "client.json").write_text(json.dumps({"client_name": "Henk de Wit"}), encoding="utf-8")
    started = _run(env, cwd, "case", "start", ALWAYS_ID, "--trigger", "signal", "--data", "client.json",
                   "--municipality", "GM0014")
    assert started.returncode == 0, started.stderr
    (cwd / "client.json").unlink()

    serve = subprocess.Popen([*CAREPATH, "serve", "--port", "0"], env=env, cwd=cwd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert serve.stdout is not None and serve.stderr is not None
        out, err = Lines(serve.stdout), Lines(serve.stderr)
        url = out.wait_for("carepath luistert op http://127.0.0.1:", deadline=90).split(" op ", 1)[1]
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            health = json.loads(response.read())
        assert response.status == 200 and health["status"] == "ok" and health["database"] == "ok"

        done = err.wait_for("dispatch via prefect", deadline=150)  # the embedded Prefect server starts first
        assert "'email': 1" in done and "'webhook': 1" in done and "'inbox': 1" in done
        (mail,) = smtp.messages()
        assert mail["Subject"] == "Nieuw signaal binnengekomen" and "Henk" not in mail.as_string()
        assert len(partners.calls) == 1 and partners.calls[0].signature_ok
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            runtime = json.loads(response.read())["runtime"]
        assert runtime["prefect"] == "ok" and runtime["dispatch"]["via"] == "prefect"
        children = _children(serve.pid)
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    assert code == 0
    assert not {pid for pid in children if Path(f"/proc/{pid}").exists()}, "a child outlived carepath serve"

    # Everything it keeps is in the data directory; nothing in HOME or the working directory.
    assert (data / "prefect" / "prefect.db").exists() and (data / "carepath.db").exists()
    assert (data / "letters").is_dir() and (data / "exports").is_dir()
    assert sorted(p.name for p in Path(env["HOME"]).iterdir()) == []
    assert sorted(p.name for p in cwd.iterdir()) == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_killed_serve_takes_its_prefect_server_along(
        installation: tuple[dict[str, str], Path, SmtpSink, WebhookSink]) -> None:
    """kill -9 of carepath serve (OOM killer, a hard stop) leaves no Prefect server behind: it runs
    inside carepath's process, no child process at all."""
    import socket

    env, cwd, _, _ = installation
    serve = subprocess.Popen([*CAREPATH, "serve", "--port", "0"], env=env, cwd=cwd,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert serve.stdout is not None and serve.stderr is not None
        Lines(serve.stdout).wait_for("carepath luistert op", deadline=60)
        ready = Lines(serve.stderr).wait_for("Prefect server ready on http://127.0.0.1:", deadline=120)
        port = int(ready.split("http://127.0.0.1:", 1)[1].split()[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        assert not _children(serve.pid), "the Prefect server should run inside carepath serve"
    finally:
        serve.kill()
        serve.wait(timeout=30)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_sweep_dispatch_and_incidents_commands(installation: tuple[dict[str, str], Path, SmtpSink, WebhookSink]
                                               ) -> None:
    env, cwd, smtp, partners = installation
    (cwd / "client.json").write_text(json.dumps({"client_name": "Henk de Wit"}), encoding="utf-8")
    assert _run(env, cwd, "case", "start", ALWAYS_ID, "--trigger", "signal", "--data", "client.json",
                "--municipality", "GM0014").returncode == 0
    partners.statuses[:] = [410]  # the partner refuses for good: an incident

    swept = _run(env, cwd, "sweep", "--once", "--no-prefect")
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.startswith("0 geplande momenten uitgevoerd")
    dispatched = _run(env, cwd, "dispatch", "--once", "--no-prefect", "--json")
    assert dispatched.returncode == 1  # one message failed: see the incidents
    result = json.loads(dispatched.stdout)
    assert result["sent_by_channel"] == {"email": 1, "inbox": 1, "letter": 1, "export": 1}
    assert result["failed"] == result["incidents"] == 1

    listed = _run(env, cwd, "incidents")
    assert listed.returncode == 0 and "delivery_failed" in listed.stdout and "HTTP 410" in listed.stdout
    incident = int(listed.stdout.split()[0].lstrip("#"))
    retried = _run(env, cwd, "incidents", "--retry", str(incident))
    assert retried.returncode == 0 and "message put back in the outbox" in retried.stdout
    again = _run(env, cwd, "dispatch", "--once", "--no-prefect")
    assert again.returncode == 0 and again.stdout.startswith("1 berichten bezorgd"), again.stdout
    assert _run(env, cwd, "incidents").stdout.strip() == "geen open incidenten"
    everything = _run(env, cwd, "incidents", "--all", "--json")
    (line,) = everything.stdout.splitlines()
    assert json.loads(line)["resolved_by"] == "tester"
    assert _run(env, cwd, "incidents", "--resolve", str(incident), "--note", "x").returncode == 1  # already closed
    assert len(partners.calls) == 2 and len(smtp.messages()) == 1


def test_the_cheap_commands_do_not_import_prefect(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from integrations.cli import main\n"
            f"main(['validate', {str(ROOT / 'pathways')!r}])\n"
            "main(['incidents'])\n"
            "assert 'prefect' not in sys.modules, 'prefect was imported'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    env.update({"CAREPATH_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "geen open incidenten" in done.stdout


def _sign_in(url: str, username: str, password: str) -> tuple[int, str]:
    """GET the sign-in page, POST it back with its CSRF token: (status, page or redirect target)."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse

    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(f"{url}/login", timeout=30) as response:
        page = response.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token.group(1),
                                   "next": ""}).encode()
    try:
        with opener.open(f"{url}/login", data=body, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location") or answer.read().decode()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_serve_demo_answers_first_and_seeds_before_the_runtime_runs(tmp_path: Path) -> None:
    """`carepath serve --demo` (README): the sign-in page answers while the demo data is still being
    made; signing in waits for it (503, Dutch notice), so nobody sees half a demo; the runtime loop
    starts only after the seed (its sweeps would otherwise fire the demo's timers on the wrong
    clock); then flows run through the Prefect server inside the process, and all 240 cases are there."""
    import sqlite3

    from web.demo import DEMO_PASSWORD

    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CAREPATH_", "PREFECT_", "XDG_")) and k not in ("TMPDIR", "DO_NOT_TRACK")}
    env.update({"CAREPATH_DATA_DIR": str(data), "HOME": str(home), "PYTHONPATH": str(ROOT)})
    serve = subprocess.Popen([*CAREPATH, "serve", "--demo", "--port", "0"], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert serve.stdout is not None and serve.stderr is not None
        url = Lines(serve.stdout).wait_for("carepath luistert op http://127.0.0.1:", deadline=60).split(" op ", 1)[1]
        err = Lines(serve.stderr)
        def demo_state() -> str:
            with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
                return str(json.loads(response.read())["runtime"]["demo"])

        notice = "De demogegevens worden nog klaargezet"
        if demo_state() == "seeding":  # the usual case: seeding takes several seconds more than listening
            with urllib.request.urlopen(f"{url}/", timeout=30) as response:
                assert response.status == 200
                assert notice in response.read().decode() or demo_state() != "seeding"
            status, page = _sign_in(url, "anna", DEMO_PASSWORD)
            assert (status == 503 and notice in page) or demo_state() != "seeding", (status, page[:300])
        err.wait_for("carepath.demo: demo data: 240 cases", deadline=240)
        assert not any(" via " in line for line in err.seen), "the runtime ran while the demo was seeded"
        err.wait_for("dispatch via prefect", deadline=150)
        with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
            runtime = json.loads(response.read())["runtime"]
        assert runtime["demo"] == "ready" and runtime["prefect"] == "ok"
        status, target = _sign_in(url, "anna", DEMO_PASSWORD)
        assert status == 303 and "/login" not in target
        assert not _children(serve.pid)
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    assert code == 0
    with sqlite3.connect(data / "carepath.db") as db:
        (cases,) = db.execute("select count(*) from cases where id like 'D%'").fetchone()
    assert cases == 240
