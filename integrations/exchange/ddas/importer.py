"""Import a checked DDAS delivery: store each signal once, match its client, decide where it goes.

Per batch of signals, in one transaction: signals whose (partner, ID) is known are skipped when
unchanged and refused when the partner changed them; a signal for a municipality this installation
does not serve is stored as not taken up ("Persoon is geen inwoner (meer) in de gemeente"); a
signal whose client has an open early-signal case (or got one earlier in this import) is linked to
it as a repeat ("Niet opgepakt: herhaalde melding"); any other signal gets a new case id on its
pathway (rent to eviction-prevention, the rest to early-signal), which `opener` then starts. The
client's own data goes to `ddas_signal_clients`; the routing row keeps only keyed hashes.
Nothing here logs a BSN or an address.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from integrations.db.engine_factory import write_session
from integrations.db.models import CaseRow
from integrations.db.signal_tables import SignalClientRow, SignalRow
from integrations.db.sql import insert_many, table
from integrations.exchange.ddas import codes, reader
from integrations.exchange.ddas.contract import Contract, ContractError
from integrations.exchange.ddas.matching import ClientKeys, MatchLevel, client_keys
from integrations.pseudonym import Pseudonymiser
from integrations.service import CaseService, new_case_id

log = logging.getLogger("carepath.signals")

BATCH = 2000

NEW_CASE = "new_case"
LINKED = "linked"
NOT_TAKEN_UP = "not_taken_up"
REFUSED = "refused"  # only in reports: a refused signal is not stored
UNCHANGED = "unchanged"  # only in reports: imported before, nothing changed

RESULT_LABELS = {NEW_CASE: "nieuwe zaak", LINKED: "gekoppeld aan lopende zaak", NOT_TAKEN_UP: "niet opgepakt",
                 REFUSED: "geweigerd", UNCHANGED: "al geïmporteerd, ongewijzigd"}


@dataclass(frozen=True)
class Route:
    """A municipality this installation serves: which team takes its signals, who takes warm transfers."""

    municipality: str  # GM0014
    team: str
    duty_worker: str | None = None  # actor id (user:anna) a warm transfer goes to straight away


ROUTES_ENV = "CAREPATH_SIGNAL_ROUTES"


def routes_from_env() -> dict[str, Route]:
    """The routes in `$CAREPATH_SIGNAL_ROUTES` (empty: no municipality served, every signal not taken up)."""
    return parse_routes(os.environ.get(ROUTES_ENV, ""))


ROUTES_SETTING = "ddas_routes"  # in web_settings: {"routes": "GM0014=team@user:x,..."}, written by the demo or an admin


def load_routes(service: CaseService) -> dict[str, Route]:
    """`$CAREPATH_SIGNAL_ROUTES` when set, else the routes stored in the database (`web_settings`)."""
    if os.environ.get(ROUTES_ENV):
        return routes_from_env()
    from integrations.db import accounts
    from integrations.db.engine_factory import read_session

    with read_session(service.db) as session:
        stored = accounts.get_setting(session, ROUTES_SETTING)
    return parse_routes(str(stored.get("routes", ""))) if stored else {}


def parse_routes(text: str) -> dict[str, Route]:
    """`GM0014=noord-groningen@user:anna,GM1966=noord-groningen` (the `@worker` is optional)."""
    routes: dict[str, Route] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        municipality, eq, rest = part.partition("=")
        team, _, worker = rest.partition("@")
        code = codes.ddas_municipality(municipality)
        if not eq or not team.strip() or len(code) != 6 or not code[2:].isdigit():
            raise ValueError(f"ongeldige route {part!r}: verwacht GM0014=team of GM0014=team@user:naam")
        routes[code] = Route(code, team.strip(), worker.strip() or None)
    return routes


@dataclass(frozen=True)
class SignalOutcome:
    """What happened to one signal (for the web upload's table and the inbox report)."""

    levering: int
    signal_id: str
    result: str  # NEW_CASE | LINKED | NOT_TAKEN_UP | REFUSED | UNCHANGED
    case_id: str | None
    reason: str | None  # Dutch; for the team, never for the partner
    match: str

    def to_json(self) -> dict[str, Any]:
        return {"levering": self.levering + 1, "ID": self.signal_id, "resultaat": RESULT_LABELS[self.result],
                "zaak": self.case_id, "reden": self.reason, "koppeling": self.match}


@dataclass
class ImportReport:
    """The whole import: counts, the contract errors (then nothing was imported), per-signal outcomes."""

    file: str
    sha256: str = ""
    errors: list[ContractError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_LABELS, 0))
    outcomes: list[SignalOutcome] = field(default_factory=list)
    opened: int = 0  # cases started by the opener afterwards
    seconds: float = 0.0

    @property
    def refused_whole(self) -> bool:
        return bool(self.errors)

    @property
    def signals(self) -> int:
        return sum(self.counts.values())

    @property
    def changes(self) -> int:
        return self.counts[NEW_CASE] + self.counts[LINKED] + self.counts[NOT_TAKEN_UP]

    def summary(self) -> str:
        if self.errors:
            return (f"{self.file}: geweigerd, {len(self.errors)} fout(en) tegen het DDAS-schema; "
                    "er is niets geïmporteerd")
        c = self.counts
        text = (f"{self.file}: {self.signals} signalen: {c[NEW_CASE]} nieuwe zaak, {c[LINKED]} gekoppeld "
                f"(herhaalde melding), {c[NOT_TAKEN_UP]} niet opgepakt, {c[REFUSED]} geweigerd, "
                f"{c[UNCHANGED]} al eerder geïmporteerd")
        if self.changes == 0 and c[REFUSED] == 0:
            text += "; er is niets veranderd"
        return text

    def to_json(self) -> dict[str, Any]:
        return {"bestand": self.file, "sha256": self.sha256, "geweigerd": self.refused_whole,
                "fouten": [e.to_json() for e in self.errors],
                "aantallen": {RESULT_LABELS[k]: v for k, v in self.counts.items()},
                "zaken_geopend": self.opened, "signalen": [o.to_json() for o in self.outcomes],
                "samenvatting": self.summary()}


Progress = Callable[[int], None]  # called with the number of signals done so far


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def signal_key(partner: str, signal_id: str) -> str:
    return hashlib.sha256(f"{partner}\x1f{signal_id}".encode()).hexdigest()


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SignalImporter:
    """Imports checked delivery files for the municipalities in `routes`."""

    def __init__(self, service: CaseService, routes: Mapping[str, Route], *, contract: Contract | None = None,
                 keep_outcomes: bool = False, batch_size: int = BATCH) -> None:
        self.service = service
        self.routes = dict(routes)
        self.contract = contract
        self.keep_outcomes = keep_outcomes
        self.batch_size = batch_size
        self._pseudonymise: Pseudonymiser = service.pseudonymiser

    def check(self, path: Path) -> reader.CheckResult:
        return reader.check(path, self.contract)

    def import_file(self, path: Path, *, progress: Progress | None = None, name: str | None = None,
                    checked: reader.CheckResult | None = None) -> ImportReport:
        """Check the whole file (unless `checked` is its check), then import it batch by batch. A file
        with errors imports nothing."""
        started = time.perf_counter()
        report = ImportReport(file=name or path.name, sha256=file_sha256(path))
        checked = checked or self.check(path)
        if not checked.ok:
            report.errors = checked.errors
            report.seconds = time.perf_counter() - started
            log.info("signal file refused: %d errors", len(checked.errors))
            return report
        received_at = self.service.clock.now()
        done = 0
        # Keys of clients given a new case in this import: their later signals are repeats.
        opened_here: dict[str, str] = {}
        for batch in _batches(reader.signals(path, checked.headers), self.batch_size):
            with write_session(self.service.db) as session:
                self._import_batch(session, batch, received_at, report, opened_here)
            done += len(batch)
            if progress is not None:
                progress(done)
        report.seconds = time.perf_counter() - started
        log.info("signal file imported: %s", {k: v for k, v in report.counts.items()})
        return report

    def _import_batch(self, session: Session, batch: list[tuple[reader.Header, dict[str, Any]]],
                      received_at: datetime, report: ImportReport, opened_here: dict[str, str]) -> None:
        keyed = [(signal_key(h.partner, s["ID"]), h, s) for h, s in batch]
        if session.get_bind().dialect.name == "postgresql":
            # psycopg prepares a statement after five runs and PostgreSQL then settles on a generic plan,
            # costed while the table was still empty: a sequential scan, repeated for every chunk of
            # every batch as the table grows (two minutes for 100,000 signals). Plan each lookup anew.
            session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        known = dict(session.execute(
            select(SignalRow.key, SignalRow.content_hash).where(SignalRow.key.in_([k for k, _, _ in keyed]))
        ).all())
        fresh: list[tuple[str, reader.Header, dict[str, Any], str, ClientKeys | None]] = []
        for key, header, signal in keyed:
            content = hashlib.sha256(header.gemeentecode.encode() + b"\x1f" + _canonical(signal)).hexdigest()
            if key in known:
                if known[key] == content:
                    self._count(report, header, signal, UNCHANGED, None, None, "")
                else:
                    self._count(report, header, signal, REFUSED, None,
                                "dit signaal-ID is eerder met andere inhoud geleverd; een signaal wijzigt niet", "")
                continue
            route = self.routes.get(codes.ddas_municipality(header.gemeentecode))
            keys = client_keys(signal["client"], self._pseudonymise) if route is not None else None
            fresh.append((key, header, signal, content, keys))
        open_cases = self._open_cases(session, {k.key for *_, k in fresh if k is not None and k.key})
        signal_rows: list[dict[str, Any]] = []
        client_rows: list[dict[str, Any]] = []
        for key, header, signal, content, keys in fresh:
            municipality = codes.ddas_municipality(header.gemeentecode)
            partner_type = signal["signaalpartner"].get("type", "Overige")
            row: dict[str, Any] = {
                "key": key, "partner": header.partner, "signal_id": signal["ID"], "partner_type": partner_type,
                "partner_name": header.organisation_name[:300], "municipality": municipality,
                "signaaldatum": _date(signal.get("signaaldatum")), "ontstaansdatum": _date(signal.get("ontstaansdatum")),
                "bedrag": signal.get("bedrag"), "crisis": bool(signal.get("crisissignaal", False)),
                "warm": bool(signal.get("warmeOverdracht", False)), "content_hash": content,
                "received_at": received_at, "client_key": None, "address_key": None,
                "pathway_id": codes.pathway_for(partner_type), "case_id": None, "case_opened": False,
                "feedback_queued": False, "reason": None,
            }
            if keys is None:
                row.update(match=MatchLevel.ELSEWHERE.value, disposition=NOT_TAKEN_UP, status=codes.GEEN_INWONER,
                           reason=f"gemeente {municipality} is hier niet aangesloten")
            else:
                row.update(client_key=keys.client_key, address_key=keys.address_key)
                existing = opened_here.get(keys.key) or open_cases.get(keys.key)
                if existing is not None:
                    row.update(match=keys.level.value, disposition=LINKED, status=codes.HERHAALDE_MELDING,
                               case_id=existing, reason="herhaalde melding: de cliënt heeft al een lopende zaak")
                else:
                    case_id = new_case_id()
                    opened_here[keys.key] = case_id
                    row.update(match=MatchLevel.NONE.value, disposition=NEW_CASE, status=codes.NOG_NIET_OPGEPAKT,
                               case_id=case_id)
            signal_rows.append(row)
            client_rows.append({"key": key, "data": dict(signal["client"])})
            self._count(report, header, signal, row["disposition"], row["case_id"], row["reason"], row["match"])
        connection = session.connection()
        insert_many(connection, table(SignalRow), signal_rows)
        insert_many(connection, table(SignalClientRow), client_rows)

    def _open_cases(self, session: Session, keys: set[str]) -> dict[str, str]:
        """Client key -> the open early-signal case (started, or waiting for the opener) of that client."""
        if not keys:
            return {}
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(keys), 500):
            for pseudonym, case_id in session.execute(
                select(CaseRow.pseudonym, CaseRow.id).where(
                    CaseRow.pseudonym.in_(chunk), CaseRow.status != "closed",
                    CaseRow.pathway_id.in_(codes.SIGNAL_PATHWAYS))
            ):
                found.setdefault(pseudonym, case_id)
            for column in (SignalRow.client_key, SignalRow.address_key):
                # Only the key's own index: with the disposition and `case_opened` in the WHERE clause
                # PostgreSQL's planner took the (case_opened, disposition) index, which during an
                # import matches nearly every row, and scanned it once per chunk (120 s for 100,000).
                for client, waiting, disposition, opened in session.execute(
                    select(column, SignalRow.case_id, SignalRow.disposition, SignalRow.case_opened)
                    .where(column.in_(chunk))
                ):
                    if (client is not None and waiting is not None and disposition == NEW_CASE
                            and not opened):
                        found.setdefault(client, waiting)
        return found

    def _count(self, report: ImportReport, header: reader.Header, signal: Mapping[str, Any], result: str,
               case_id: str | None, reason: str | None, match: str) -> None:
        report.counts[result] += 1
        if self.keep_outcomes:
            report.outcomes.append(SignalOutcome(header.index, str(signal["ID"]), result, case_id, reason, match))


def _batches(items: Iterable[tuple[reader.Header, dict[str, Any]]], size: int
             ) -> Iterator[list[tuple[reader.Header, dict[str, Any]]]]:
    batch: list[tuple[reader.Header, dict[str, Any]]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
