"""The hostile-input corpus: what a curious insider sends to every route, as data.

Each `Probe` is one request: who sends it (a role, or nobody), the method, the path (with `{case}`,
`{task}`, `{pathway}` filled in from the test world), and a JSON body, form fields or raw bytes.
The corpus is built from families (ids, numbers, dates, texts, pathway files, JSON oddities) crossed
with the routes that take them. `tests/integration/test_hostile_inputs.py` runs every probe and
expects an answer below 500, within the time a route may take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).parents[2] / "pathways"


@dataclass(frozen=True)
class Probe:
    name: str
    role: str  # worker, coordinator, analyst, admin, or "anonymous"
    method: str
    path: str
    json: Any = None
    form: dict[str, Any] | None = None
    content: bytes | None = None
    content_type: str = ""
    files: dict[str, tuple[str, bytes, str]] | None = field(default=None, hash=False)

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


HOSTILE_IDS = [
    "x" * 101, "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "C000000000000.1", "C1.99999999999999999999999",
    "C1.-1", "%E2%85%AB", "'%20OR%201=1--", "%3Cscript%3E", "%F0%9F%92%A9", "C1.1.1", ".", "%20", "%00",
]
HOSTILE_NUMBERS = ["0", "-1", "9" * 5000, str(2**63 - 1), str(2**63), str(2**64 + 1), "1e3", "NaN", "Infinity",
                   "1.5", "0x10", "%00", " 1", "１"]
HOSTILE_DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "99999-01-01", "0000-00-00", "2026-1-1",
                 "1999-12-31", "2100-01-01", "2026-13-01", "-2026-01-01", "2026-03-01T00:00", "%00"]
HOSTILE_TEXTS = ["", " ", "a" * 20_000, "\u202e\u0645\u0631\u062d\u0628\u0627", "<script>alert(1)</script>",
                 "{{7*7}}", "=cmd|' /C calc'!A0", "\ufffe\uffff", "x\ny\rz", "😀" * 3000]
JSON_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1" + b"0" * 5000, b"1e-999"]


def _pathway_text(name: str = "school-social-work.yaml") -> str:
    return (SHIPPED / name).read_text(encoding="utf-8")


def _with_version(text: str, version: str) -> str:
    import re

    return re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M)


def hostile_pathways() -> list[tuple[str, str]]:
    """(label, text) of pathway files that once crashed, froze or stalled carepath."""
    base = _pathway_text()
    twenty_thousand = "id: x\nversion: 1\n" + "".join(f"k{i}: {i}\n" for i in range(20_000))
    nine_thousand = "id: x\nversion: 1\n" + "".join(f"k{i}: {i}\n" for i in range(9_000))
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    return [
        ("version-5000-digits", _with_version(base, "9" * 5000)),
        ("version-2^63", _with_version(base, str(2**63))),
        ("version-2^63-1", _with_version(base, str(2**63 - 1))),
        ("version-2^64+1", _with_version(base, str(2**64 + 1))),
        ("version-2^31", _with_version(base, str(2**31))),
        ("version-1000001", _with_version(base, "1000001")),
        ("version-hex-huge", _with_version(base, "0x" + "f" * 5000)),
        ("version-negative-huge", _with_version(base, "-" + "9" * 30)),
        ("version-float", _with_version(base, "1e400")),
        ("version-nan", _with_version(base, ".nan")),
        ("20000-keys", twenty_thousand),
        ("9000-keys", nine_thousand),
        ("billion-laughs", laughs),
        ("deep-nesting", "a:" + " [" * 2000 + "]" * 2000 + "\n"),
        ("deep-mapping", "".join("  " * i + f"k{i}:\n" for i in range(200))),
        ("empty", ""),
        ("only-bom", "\ufeff"),
        ("tabs", "\tid: x\n"),
        ("binary-ish", "\x01\x02\x03"),
        ("a-list", "- 1\n- 2\n"),
        ("long-line", "id: " + "x" * 900_000 + "\n"),
        ("many-lines", "\n" * 50_000),
        ("one-minute-evaluation", _pathway_text("team-case-management.yaml").replace(
            "every: 3 weeks", "every: 1 minute", 1)),
        ("unknown-format", base.replace("type: string", "type: string\n      format: uri", 1)),
    ]


def build() -> list[Probe]:
    probes: list[Probe] = []
    add = probes.append
    # --- ids in paths, as each role that may reach the route --------------------------------------
    for value in HOSTILE_IDS:
        add(Probe(f"api-case-{value[:12]}", "worker", "GET", f"/api/cases/{value}"))
        add(Probe(f"api-task-{value[:12]}", "worker", "GET", f"/api/tasks/{value}"))
        add(Probe(f"page-case-{value[:12]}", "worker", "GET", f"/cases/{value}"))
        add(Probe(f"page-task-{value[:12]}", "worker", "GET", f"/tasks/{value}"))
        add(Probe(f"api-complete-{value[:12]}", "worker", "POST", f"/api/tasks/{value}/complete", json={"data": {}}))
        add(Probe(f"page-pathway-{value[:12]}", "coordinator", "GET", f"/pathways/{value}"))
    # --- numbers: versions, pages, migration targets -----------------------------------------------
    for value in HOSTILE_NUMBERS:
        add(Probe(f"api-version-{value[:12]}", "worker", "GET", f"/api/pathways/{{pathway}}/versions/{value}"))
        add(Probe(f"page-version-{value[:12]}", "worker", "GET", f"/pathways/{{pathway}}?version={value}"))
        add(Probe(f"api-cases-page-{value[:12]}", "worker", "GET", f"/api/cases?page={value}"))
        add(Probe(f"page-migrate-{value[:12]}", "coordinator", "GET", f"/pathways/{{pathway}}/migrate?to={value}"))
        add(Probe(f"page-migrate-post-{value[:12]}", "coordinator", "POST", "/pathways/{pathway}/migrate",
                  form={"to": value}))
        add(Probe(f"api-migrations-{value[:12]}", "coordinator", "GET", f"/api/pathways/{{pathway}}/migrations?to={value}"))
    # --- report dates ------------------------------------------------------------------------------
    for value in HOSTILE_DATES:
        add(Probe(f"api-report-start-{value}", "analyst", "GET", f"/api/reports/outcomes?start={value}"))
        add(Probe(f"api-report-end-{value}", "analyst", "GET", f"/api/reports/outcomes?end={value}"))
        add(Probe(f"page-report-{value}", "analyst", "GET", f"/reports?start={value}&end={value}"))
        add(Probe(f"csv-report-{value}", "analyst", "GET", f"/reports/outcomes.csv?start=2026-01-01&end={value}"))
    # --- texts in forms and JSON ---------------------------------------------------------------------
    for i, value in enumerate(HOSTILE_TEXTS):
        add(Probe(f"api-complete-text-{i}", "worker", "POST", "/api/tasks/{task}/complete",
                  json={"data": {"outcome": "help", "problems": [value]}}))
        add(Probe(f"api-start-text-{i}", "coordinator", "POST", "/api/cases",
                  json={"pathway_id": "test-visits", "trigger": "signal", "team": "team-a",
                        "municipality": "GM0344", "data": {"client_name": value, "concern": value}}))
        add(Probe(f"page-draft-text-{i}", "worker", "POST", "/tasks/{task}/draft", form={"outcome": "help",
                                                                                        "problems": value}))
        add(Probe(f"api-suspend-text-{i}", "coordinator", "POST", "/api/cases/{case}/suspend",
                  json={"reason": value}))
        add(Probe(f"page-login-{i}", "anonymous", "POST", "/login", form={"username": value, "password": value}))
        add(Probe(f"api-cases-q-{i}", "worker", "GET", "/api/cases", form={"q": value[:60]}))
    # --- numbers inside JSON --------------------------------------------------------------------------
    for raw in JSON_NUMBERS:
        label = raw[:12].decode()
        add(Probe(f"json-complete-{label}", "worker", "POST", "/api/tasks/{task}/complete",
                  content=b'{"data": {"outcome": "help", "x": ' + raw + b"}}", content_type="application/json"))
        add(Probe(f"json-start-{label}", "coordinator", "POST", "/api/cases",
                  content=b'{"pathway_id": "test-visits", "trigger": "signal", "team": "team-a", '
                          b'"municipality": "GM0344", "data": {"client_name": "A", "concern": ' + raw + b"}}",
                  content_type="application/json"))
        add(Probe(f"json-migrate-{label}", "coordinator", "POST", "/api/pathways/{pathway}/migrations",
                  content=b'{"to_version": ' + raw + b', "case_ids": []}', content_type="application/json"))
    # --- JSON oddities ---------------------------------------------------------------------------------
    oddities: list[tuple[str, bytes]] = [
        ("deep-array", b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("deep-object", b'{"data": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"),
        ("nul-escape", b'{"data": {"outcome": "help\\u0000"}}'),
        ("raw-nul", b'{"data": {"outcome": "help\x00"}}'),
        ("lone-surrogate", b'{"data": {"outcome": "\\ud800"}}'),
        ("not-json", b"{data: nope"),
        ("array-body", b"[1, 2, 3]"),
        ("string-body", b'"hello"'),
        ("null-body", b"null"),
        ("empty-body", b""),
        ("huge-body", b'{"data": {"x": "' + b"a" * 8_100_000 + b'"}}'),
        ("many-keys", b'{"data": {' + b",".join(b'"k%d": 1' % i for i in range(50_000)) + b"}}"),
        ("long-list", b'{"data": {"problems": [' + b",".join(b'"x"' for _ in range(5_000)) + b"]}}"),
        ("duplicate-keys", b'{"data": {"outcome": "help", "outcome": "no_help"}}'),
        ("utf16", '{"data": {}}'.encode("utf-16")),
        ("latin1", '{"data": {"outcome": "caf\xe9"}}'.encode("latin-1")),
    ]
    for label, body in oddities:
        add(Probe(f"odd-complete-{label}", "worker", "POST", "/api/tasks/{task}/complete", content=body,
                  content_type="application/json"))
        add(Probe(f"odd-start-{label}", "coordinator", "POST", "/api/cases", content=body,
                  content_type="application/json"))
    # --- pathway files: the API check and publish, and the editor ------------------------------------
    for label, text in hostile_pathways():
        add(Probe(f"api-check-{label}", "coordinator", "POST", "/api/pathways/check",
                  json={"source": text or " ", "name": "x.yaml"}))
        add(Probe(f"api-publish-{label}", "coordinator", "POST", "/api/pathways",
                  json={"source": text or " ", "name": "x.yaml"}))
        add(Probe(f"editor-check-{label}", "coordinator", "POST", "/pathways/editor",
                  form={"action": "check", "source": text, "name": "x.yaml"}))
    for label in ("one-minute-evaluation", "version-5000-digits", "20000-keys"):
        text = dict(hostile_pathways())[label]
        add(Probe(f"editor-simulate-{label}", "coordinator", "POST", "/pathways/editor",
                  form={"action": "simulate", "source": text, "name": "x.yaml"}))
        add(Probe(f"editor-publish-{label}", "coordinator", "POST", "/pathways/editor",
                  form={"action": "publish", "source": text, "name": "x.yaml"}))
    add(Probe("editor-upload-binary", "coordinator", "POST", "/pathways/editor", form={"action": "check"},
              files={"file": ("x.yaml", bytes(range(256)) * 10, "application/octet-stream")}))
    add(Probe("editor-upload-too-large", "coordinator", "POST", "/pathways/editor", form={"action": "check"},
              files={"file": ("x.yaml", b"a: 1\n" * 210_000, "text/yaml")}))
    add(Probe("editor-name-nul", "coordinator", "POST", "/pathways/editor",
              form={"action": "check", "source": "id: x\n", "name": "x\x00.yaml"}))
    # --- page forms with numbers and dates --------------------------------------------------------------
    for value in ["NaN", "nan", "inf", "-Infinity", "1e999", "9" * 5000, "1,5", "€ 1.234,56"]:
        add(Probe(f"page-complete-number-{value[:10]}", "worker", "POST", "/tasks/{task}/complete",
                  form={"outcome": "help", "amount": value}))
    for value in ["NUL\x00", "%00"]:
        add(Probe(f"page-search-{value[:4]}", "worker", "GET", "/cases", form={"q": value}))
    return probes


CORPUS = build()
