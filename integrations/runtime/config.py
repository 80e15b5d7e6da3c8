"""The runtime's configuration: `$CAREPATH_DATA_DIR/config.yaml` (optional; every key has a default).

```yaml
base_url: https://carepath.example.org     # links in e-mails and inbox messages
links: {task: "/tasks/{task_id}", case: "/cases/{case_id}"}
sweep:    {every: 60, late_after: 10, batch_size: 500, parallel: 2}  # seconds, minutes, timers, batches at once
dispatch: {every: 60, batch_size: 100, max_attempts: 8, backoff_first: 30, backoff_max: 3600, lease: 300}
mail:     {host: smtp.example.org, port: 587, starttls: true, username: carepath,
           password_env: CAREPATH_SMTP_PASSWORD, sender: "carepath <noreply@example.org>", timeout: 30}
webhooks: {timeout: 10, sink: false}   # sink: keep webhooks for partners without a url in <data dir>/webhooks
workers:  {anna: {email: anna@example.org}}
roles:    {coordinator: [anna]}                               # worker ids or e-mail addresses
teams:    {noord: {roles: {coordinator: [bert]}}}             # per team, before the global roles
partners: {housing_corporation: {url: https://..., secret_env: CAREPATH_SECRET_WOONBRON}}
pathways: {eviction-prevention: {roles: {...}, partners: {...}}}   # per pathway, before the global ones
```

Secrets may be written inline (`password`, `secret`) or, better, named by the
environment variable that holds them (`password_env`, `secret_env`). Mistakes
are reported with the key that is wrong (ConfigError, exit 2 on the CLI).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.errors import CarepathError

CONFIG_FILE = "config.yaml"
CONFIG_ENV = "CAREPATH_CONFIG"


class ConfigError(CarepathError):
    """The runtime configuration cannot be used; the message names the key."""


@dataclass(frozen=True)
class SweepSettings:
    every: timedelta = timedelta(seconds=60)
    late_after: timedelta = timedelta(minutes=10)
    batch_size: int = 500
    batches_per_task: int = 10  # one Prefect task fires this many batches
    parallel: int = 2  # batches fired at the same time on PostgreSQL (service.SWEEP_PARALLEL, fire_due)


@dataclass(frozen=True)
class DispatchSettings:
    every: timedelta = timedelta(seconds=60)
    batch_size: int = 100
    max_attempts: int = 8
    backoff_first: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)  # a claimed e-mail/webhook is someone else's after this

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: first, 2x first, 4x first ... at most max."""
        seconds = self.backoff_first.total_seconds() * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_max.total_seconds()))


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None  # None: e-mail is not configured; e-mails become incidents
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "carepath <carepath@localhost>"
    timeout: float = 30.0


@dataclass(frozen=True)
class PartnerEndpoint:
    url: str
    secret: bytes


@dataclass(frozen=True)
class RoleTable:
    """Who holds which role (worker ids or e-mail addresses), and partner endpoints."""

    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    partners: Mapping[str, PartnerEndpoint] = field(default_factory=dict)


@dataclass(frozen=True)
class RuntimeConfig:
    base_url: str = "http://127.0.0.1:8000"
    task_link: str = "/tasks/{task_id}"
    case_link: str = "/cases/{case_id}"
    sweep: SweepSettings = SweepSettings()
    dispatch: DispatchSettings = DispatchSettings()
    mail: MailSettings = MailSettings()
    webhook_timeout: float = 10.0
    webhook_sink: bool = False  # webhooks to partners without an endpoint are kept as files, not failed
    workers: Mapping[str, str] = field(default_factory=dict)  # worker id -> e-mail address
    everyone: RoleTable = RoleTable()
    teams: Mapping[str, RoleTable] = field(default_factory=dict)
    pathways: Mapping[str, RoleTable] = field(default_factory=dict)
    source: str = "(defaults)"

    def link(self, task_id: str | None, case_id: str) -> str:
        path = self.task_link.format(task_id=task_id) if task_id else self.case_link.format(case_id=case_id)
        return self.base_url.rstrip("/") + path


# --- reading -----------------------------------------------------------------------------------------


def config_path(data_dir: Path) -> Path:
    configured = os.environ.get(CONFIG_ENV)
    return Path(configured) if configured else data_dir / CONFIG_FILE


def load_config(data_dir: Path, environ: Mapping[str, str] | None = None) -> RuntimeConfig:
    """The configuration in `data_dir/config.yaml` (or `$CAREPATH_CONFIG`); defaults when absent."""
    path = config_path(data_dir)
    if not path.exists():
        return RuntimeConfig()
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
    return parse_config(data or {}, str(path), os.environ if environ is None else environ)


def parse_config(data: Any, source: str, environ: Mapping[str, str]) -> RuntimeConfig:
    reader = _Reader(source, environ)
    top = reader.mapping(data, "")
    reader.only(top, "", {"base_url", "links", "sweep", "dispatch", "mail", "webhooks", "workers", "roles",
                          "teams", "partners", "pathways"})
    links = reader.mapping(top.get("links", {}), "links")
    reader.only(links, "links", {"task", "case"})
    sweep = reader.mapping(top.get("sweep", {}), "sweep")
    reader.only(sweep, "sweep", {"every", "late_after", "batch_size", "batches_per_task", "parallel"})
    dispatch = reader.mapping(top.get("dispatch", {}), "dispatch")
    reader.only(dispatch, "dispatch", {"every", "batch_size", "max_attempts", "backoff_first", "backoff_max", "lease"})
    webhooks = reader.mapping(top.get("webhooks", {}), "webhooks")
    reader.only(webhooks, "webhooks", {"timeout", "sink"})
    sink = webhooks.get("sink", False)
    if not isinstance(sink, bool):
        raise reader.fail("webhooks.sink", f"must be true or false, not {sink!r}")
    d, s = DispatchSettings(), SweepSettings()
    workers = {}
    for worker, entry in reader.mapping(top.get("workers", {}), "workers").items():
        entry = reader.mapping(entry, f"workers.{worker}")
        reader.only(entry, f"workers.{worker}", {"email", "name"})
        workers[str(worker)] = reader.email(entry.get("email"), f"workers.{worker}.email")
    return RuntimeConfig(
        base_url=reader.text(top.get("base_url", RuntimeConfig.base_url), "base_url"),
        task_link=reader.text(links.get("task", RuntimeConfig.task_link), "links.task"),
        case_link=reader.text(links.get("case", RuntimeConfig.case_link), "links.case"),
        sweep=SweepSettings(
            every=reader.seconds(sweep.get("every"), "sweep.every", s.every),
            late_after=timedelta(minutes=reader.number(sweep.get("late_after"), "sweep.late_after",
                                                       s.late_after.total_seconds() / 60)),
            batch_size=reader.count(sweep.get("batch_size"), "sweep.batch_size", s.batch_size),
            batches_per_task=reader.count(sweep.get("batches_per_task"), "sweep.batches_per_task",
                                          s.batches_per_task),
            parallel=reader.count(sweep.get("parallel"), "sweep.parallel", s.parallel),
        ),
        dispatch=DispatchSettings(
            every=reader.seconds(dispatch.get("every"), "dispatch.every", d.every),
            batch_size=reader.count(dispatch.get("batch_size"), "dispatch.batch_size", d.batch_size),
            max_attempts=reader.count(dispatch.get("max_attempts"), "dispatch.max_attempts", d.max_attempts),
            backoff_first=reader.seconds(dispatch.get("backoff_first"), "dispatch.backoff_first", d.backoff_first),
            backoff_max=reader.seconds(dispatch.get("backoff_max"), "dispatch.backoff_max", d.backoff_max),
            lease=reader.seconds(dispatch.get("lease"), "dispatch.lease", d.lease),
        ),
        mail=reader.mail(top.get("mail", {})),
        webhook_timeout=reader.number(webhooks.get("timeout"), "webhooks.timeout", RuntimeConfig.webhook_timeout),
        webhook_sink=sink,
        workers=workers,
        everyone=reader.role_table(top, ""),
        teams={str(k): reader.role_table(v, f"teams.{k}")
               for k, v in reader.mapping(top.get("teams", {}), "teams").items()},
        pathways={str(k): reader.role_table(v, f"pathways.{k}")
                  for k, v in reader.mapping(top.get("pathways", {}), "pathways").items()},
        source=source,
    )


class _Reader:
    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: `{key or '(top)'}` {message}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping, not {type(value).__name__}")
        return {str(k): v for k, v in value.items()}

    def only(self, value: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            where = f"{key}." if key else ""
            raise self.fail(f"{where}{unknown[0]}", f"is not a known key (known here: {', '.join(sorted(allowed))})")

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty text")
        return value

    def email(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        if "@" not in text or any(ch in text for ch in " ,;<>\n"):
            raise self.fail(key, f"is not an e-mail address: {text!r}")
        return text

    def number(self, value: Any, key: str, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(key, f"must be a number >= 0, not {value!r}")
        return float(value)

    def seconds(self, value: Any, key: str, default: timedelta) -> timedelta:
        return timedelta(seconds=self.number(value, key, default.total_seconds()))

    def count(self, value: Any, key: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"must be a whole number >= 1, not {value!r}")
        return value

    def secret(self, entry: Mapping[str, Any], key: str, name: str) -> str | None:
        if entry.get(f"{name}_env") is not None:
            variable = self.text(entry[f"{name}_env"], f"{key}.{name}_env")
            value = self.environ.get(variable)
            if not value:
                raise self.fail(f"{key}.{name}_env", f"names ${variable}, which is not set")
            return value
        if entry.get(name) is not None:
            return self.text(entry[name], f"{key}.{name}")
        return None

    def mail(self, value: Any) -> MailSettings:
        entry = self.mapping(value, "mail")
        self.only(entry, "mail", {"host", "port", "starttls", "ssl", "username", "password", "password_env",
                                  "sender", "timeout"})
        defaults = MailSettings()
        for flag in ("starttls", "ssl"):
            if not isinstance(entry.get(flag, False), bool):
                raise self.fail(f"mail.{flag}", "must be true or false")
        port = entry.get("port", defaults.port)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise self.fail("mail.port", f"must be a port number, not {port!r}")
        return MailSettings(
            host=self.text(entry["host"], "mail.host") if entry.get("host") is not None else None,
            port=port,
            starttls=bool(entry.get("starttls", False)),
            ssl=bool(entry.get("ssl", False)),
            username=self.text(entry["username"], "mail.username") if entry.get("username") is not None else None,
            password=self.secret(entry, "mail", "password"),
            sender=self.text(entry.get("sender", defaults.sender), "mail.sender"),
            timeout=self.number(entry.get("timeout"), "mail.timeout", defaults.timeout),
        )

    def role_table(self, value: Any, key: str) -> RoleTable:
        entry = self.mapping(value, key)
        if key:  # a team's or pathway's own section holds only roles and partners
            self.only(entry, key, {"roles", "partners"})
        prefix = f"{key}." if key else ""
        roles: dict[str, tuple[str, ...]] = {}
        for role, holders in self.mapping(entry.get("roles", {}), f"{prefix}roles").items():
            if isinstance(holders, str):
                holders = [holders]
            if not isinstance(holders, list) or not all(isinstance(h, str) and h for h in holders):
                raise self.fail(f"{prefix}roles.{role}", "must be a list of worker ids or e-mail addresses")
            roles[role] = tuple(holders)
        partners: dict[str, PartnerEndpoint] = {}
        for role, partner in self.mapping(entry.get("partners", {}), f"{prefix}partners").items():
            where = f"{prefix}partners.{role}"
            partner = self.mapping(partner, where)
            self.only(partner, where, {"url", "secret", "secret_env"})
            url = self.text(partner.get("url"), f"{where}.url")
            if not url.startswith(("https://", "http://")):
                raise self.fail(f"{where}.url", f"must be an http(s) URL, not {url!r}")
            secret = self.secret(partner, where, "secret")
            if secret is None or len(secret) < 16:
                raise self.fail(where, "needs a `secret` (or `secret_env`) of at least 16 characters to sign with")
            partners[role] = PartnerEndpoint(url=url, secret=secret.encode("utf-8"))
        return RoleTable(roles=roles, partners=partners)
