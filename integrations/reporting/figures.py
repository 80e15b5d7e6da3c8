"""Municipal outcome reports: aggregates per pathway and period, small cells suppressed.

A municipality commissions and pays for the work and monitors outcomes, but sees aggregates only:
never a name, a pseudonym or a case id. `build_report` computes, for the cases one municipality
commissions, per pathway (or over all pathways) and period:

* cases started, open at the end of the period, and closed;
* the outcome distribution of the closed cases, with the pathway's Dutch outcome labels;
* the median and 90th-percentile lead time in days;
* the share of tasks done on time, and of evaluations held on time;
* reach by origin group (CBS classification of the countries of birth of client and parents,
  `integrations.reporting.origin`), objections counted as "not registered".

Every figure is aggregated in SQL over indexed columns of `cases` and `tasks` (never over the state
JSON), then protected by `integrations.reporting.suppression`: figures from fewer than `min_cell`
cases are suppressed, and more cells where a total would give a suppressed one away.
`report_to_csv` writes the same tables for Excel. What every figure means: docs/reporting.md.

Reports are per funder (`scope_key`: a municipality's CBS code, or a funder key such as
``health_insurer:3311``), and include the interventions (tracks) of the cases. `build_report` gives
exact figures over any period; an analyst only ever gets `integrations.reporting.published`
(fixed ended periods, `Protection` `PUBLISHED`: cell-key perturbation, percentiles for large groups).
"""

from __future__ import annotations

import csv
import io
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    Integer,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from engine.errors import CarepathError, NotFoundError, ValidationError
from engine.funding import municipality_key
from engine.state import TaskType
from integrations.clock import SystemClock
from integrations.db.engine_factory import read_session, with_options
from integrations.db.errors import StorageError
from integrations.db.models import REPORTED_TASKS, CaseRow, CaseTrackRow, PathwayVersionRow, TaskRow
from integrations.db.pathway_store import loader_parser
from integrations.db.sql import table
from integrations.reporting import cellkey
from integrations.reporting.origin import OriginGroup
from integrations.reporting.suppression import Equation, Figure, Why, protect

__all__ = [
    "EXACT",
    "PUBLISHED",
    "SUPPRESSED",
    "Aggregates",
    "Cell",
    "LeadTimes",
    "PathwayInfo",
    "Protection",
    "Report",
    "Row",
    "RowKind",
    "Table",
    "TaskCounts",
    "TrackCounts",
    "assemble",
    "build_report",
    "report_as_dict",
    "report_to_csv",
]

LOCAL = ZoneInfo("Europe/Amsterdam")
DEFAULT_MIN_CELL: Final = 10


# --- the report -------------------------------------------------------------------------------------


class _Suppressed:
    """The value of a suppressed cell (one instance: `SUPPRESSED`)."""

    _instance: _Suppressed | None = None

    def __new__(cls) -> _Suppressed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "SUPPRESSED"

    def __reduce__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED: Final = _Suppressed()

Number = int | float
CellValue = int | float | _Suppressed


@dataclass(frozen=True)
class Cell:
    """A number, or `SUPPRESSED` with a note (Dutch) that says why."""

    value: CellValue
    note: str | None = None

    @property
    def suppressed(self) -> bool:
        return self.value is SUPPRESSED


class RowKind(str, Enum):
    ITEM = "item"
    SUBTOTAL = "subtotal"
    TOTAL = "total"


@dataclass(frozen=True)
class Row:
    """A labelled row. `key` names the figure in its first column: the same key in two tables is
    the same number (suppressed in both or neither)."""

    key: str
    label: str
    cells: tuple[Cell, ...]
    kind: RowKind = RowKind.ITEM


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]  # headers of the cells (the label column is not counted)
    units: tuple[str, ...]  # per column: "count", "percent" or "days"
    rows: tuple[Row, ...]
    # The sums a reader sees in the first column: (row key of the total, row keys of its parts).
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    notes: tuple[str, ...] = ()

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(f"table {self.key} has no row {key}")


@dataclass(frozen=True)
class Report:
    municipality: str
    pathway_id: str | None  # None: all pathways
    pathway_title: str | None
    start: date  # the period, both days included (Europe/Amsterdam)
    end: date
    min_cell: int
    as_of: datetime  # the moment the figures were computed (UTC)
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    perturbed: bool = False  # published counts carry cell-key perturbation (Protection.perturb)

    def table(self, key: str) -> Table:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(f"the report has no table {key}")


# --- what the database gives ------------------------------------------------------------------------


@dataclass(frozen=True)
class PathwayInfo:
    """What a report needs of a pathway (over all its published versions)."""

    id: str
    title: str
    outcomes: tuple[tuple[str, str], ...]  # (code, Dutch label), in the pathway's order
    registers_origin: bool = False
    has_evaluation: bool = False
    tracks: tuple[tuple[str, str], ...] = ()  # (track id, Dutch title): the problem areas


@dataclass(frozen=True)
class LeadTimes:
    count: int = 0  # closed cases in the period
    median: float | None = None  # days
    p90: float | None = None


@dataclass(frozen=True)
class TaskCounts:
    """Tasks whose deadline fell in the period and has passed, per bucket: (tasks, distinct cases).
    The number of cases is exact below the report's min_cell; at or above it, it may be a lower bound."""

    on_time: tuple[int, int] = (0, 0)
    late: tuple[int, int] = (0, 0)
    not_done: tuple[int, int] = (0, 0)
    total: tuple[int, int] = (0, 0)
    keys: Mapping[str, int] = field(default_factory=dict)  # bucket -> sum of the tasks' record keys


@dataclass(frozen=True)
class TrackCounts:
    """Interventions (tracks) per (pathway, track): started in the period, and closed in it per result;
    the clients with an intervention started in the period. Each with the sum of its record keys."""

    started: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # -> (count, key sum)
    closed: Mapping[tuple[str, str, str | None], tuple[int, int]] = field(default_factory=dict)
    clients: tuple[int, int] = (0, 0)
    started_cases: int = 0  # distinct cases behind the interventions started (decides suppression)
    closed_cases: Mapping[str, int] = field(default_factory=dict)  # result bucket or "total" -> distinct cases


@dataclass(frozen=True)
class Aggregates:
    started: int = 0
    open_at_end: int = 0
    closed: int = 0
    closed_by_outcome: Mapping[tuple[str, str | None], int] = field(default_factory=dict)  # (pathway, outcome)
    started_by_origin: Mapping[str | None, int] = field(default_factory=dict)  # origin_group column value
    lead_times: LeadTimes = LeadTimes()
    tasks: TaskCounts = TaskCounts()
    evaluations: TaskCounts = TaskCounts()
    pathways: tuple[str, ...] = ()  # pathways with cases of the municipality open at some moment of the period
    keys: Mapping[Any, int] = field(default_factory=dict)  # the record-key sums of the case counts (_case_counts)
    tracks: TrackCounts = TrackCounts()


# --- SQL --------------------------------------------------------------------------------------------


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[first moment, moment after the last day) of the period in Dutch time, as UTC."""
    first = datetime.combine(start, time(0), LOCAL).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), LOCAL).astimezone(UTC)
    return first, after


_CASES = table(CaseRow)
_TASKS = table(TaskRow)


def scope_key(who: str) -> str:
    """The funder key a report is for: a funder key as given, or a municipality's (CBS code)."""
    return who if ":" in who else municipality_key(who)


def _scope(municipality: str, pathway_id: str | None) -> list[Any]:
    where: list[Any] = [_CASES.c.funder == scope_key(municipality)]
    if pathway_id is not None:
        where.append(_CASES.c.pathway_id == pathway_id)
    return where


def _case_counts(session: Session, scope: list[Any], lo: datetime, hi: datetime) -> tuple[
        int, int, int, dict[tuple[str, str | None], int], dict[str | None, int], tuple[str, ...], dict[Any, int]]:
    c = _CASES.c
    started = case((c.opened_at >= lo, 1), else_=0)
    open_at_end = case((or_(c.closed_at.is_(None), c.closed_at >= hi), 1), else_=0)
    closed = case((and_(c.closed_at >= lo, c.closed_at < hi), 1), else_=0)
    inner = (
        select(c.pathway_id, c.outcome, c.origin_group, started.label("s"), open_at_end.label("o"),
               closed.label("c"), func.coalesce(c.report_key, 0).label("k"))
        .where(*scope, c.opened_at < hi, or_(c.closed_at.is_(None), c.closed_at >= lo))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.pathway_id, inner.c.outcome, inner.c.origin_group, inner.c.s, inner.c.o, inner.c.c,
               func.count(), func.sum(inner.c.k))
        .group_by(inner.c.pathway_id, inner.c.outcome, inner.c.origin_group, inner.c.s, inner.c.o, inner.c.c)
    ).all()
    n_started = n_open = n_closed = 0
    by_outcome: dict[tuple[str, str | None], int] = defaultdict(int)
    by_origin: dict[str | None, int] = defaultdict(int)
    pathways: set[str] = set()
    keys: dict[Any, int] = defaultdict(int)  # the same names with the sum of the record keys
    for pathway, outcome, origin, s, o, cl, n, k in rows:
        pathways.add(pathway)
        k = int(k or 0)
        if s:
            n_started += n
            by_origin[origin] += n
            keys["started"] += k
            keys[("origin", origin)] += k
        if o:
            n_open += n
            keys["open"] += k
        if cl:
            n_closed += n
            by_outcome[(pathway, outcome)] += n
            keys["closed"] += k
            keys[("outcome", pathway, outcome)] += k
    return n_started, n_open, n_closed, dict(by_outcome), dict(by_origin), tuple(sorted(pathways)), dict(keys)


def _percentile(ordered: Mapping[int, float], n: int, p: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont, Excel's PERCENTILE.INC)."""
    h = (n - 1) * p
    lo = int(h)
    if lo + 1 >= n:
        return ordered[lo]
    return ordered[lo] + (h - lo) * (ordered[lo + 1] - ordered[lo])


def _lead_times(session: Session, scope: list[Any], lo: datetime, hi: datetime) -> LeadTimes:
    c = _CASES.c
    where = [*scope, c.closed_at >= lo, c.closed_at < hi]
    if session.get_bind().dialect.name == "postgresql":
        days = cast(extract("epoch", c.closed_at - c.opened_at), Float) / 86400.0
        n, median, p90 = session.execute(
            select(func.count(), func.percentile_cont(0.5).within_group(days),
                   func.percentile_cont(0.9).within_group(days)).where(*where)
        ).one()
        return LeadTimes(int(n), None if median is None else float(median), None if p90 is None else float(p90))
    # SQLite has no percentile_cont: number the lead times in order and fetch the ranks around each.
    days = func.julianday(c.closed_at) - func.julianday(c.opened_at)
    ranked = select(days.label("d"), (func.row_number().over(order_by=days) - 1).label("i"),
                    func.count().over().label("n")).where(*where).subquery()
    ranks = []
    for p in (0.5, 0.9):
        floor = cast((ranked.c.n - 1) * p, Integer)
        ranks += [ranked.c.i == floor, ranked.c.i == floor + 1]
    rows = session.execute(select(ranked.c.i, ranked.c.d, ranked.c.n).where(or_(*ranks))).all()
    if not rows:
        return LeadTimes()
    n = int(rows[0][2])
    ordered = {int(i): float(d) for i, d, _ in rows}
    return LeadTimes(n, _percentile(ordered, n, 0.5), _percentile(ordered, n, 0.9))


def _task_counts(session: Session, municipality: str, pathway_id: str | None, lo: datetime, cut: datetime,
                 min_cell: int) -> dict[str, TaskCounts]:
    """Human tasks and evaluations due in [lo, cut), not cancelled, per type and bucket: (tasks, cases).

    `tasks.funder`/`pathway_id` (copies of the case's) make this one scan of `ix_tasks_funder_report`,
    which holds only these tasks (`REPORTED_TASKS`, a partial index: migration 0025).
    The number of distinct cases behind a bucket only decides suppression, so on PostgreSQL it is
    first bounded from below by a 64-bit bitmap of hashed case ids (bit_or, no sort): a bucket whose
    bitmap has `min_cell` bits set has at least that many cases. Only a bucket with at least
    `min_cell` tasks but fewer bits is counted exactly (count distinct)."""
    t = _TASKS.c
    # REPORTED_TASKS as literal text, not bound values: it is the partial index's own condition.
    where = [t.funder == scope_key(municipality), t.due_at >= lo, t.due_at < cut,
             text(REPORTED_TASKS).self_group()]
    if pathway_id is not None:
        where.append(t.pathway_id == pathway_id)
    bucket = case((t.completed_at.is_(None), "not_done"), (t.completed_at <= t.due_at, "on_time"), else_="late")
    if session.get_bind().dialect.name != "postgresql":
        return _task_counts_exact(session, where, bucket)
    # Grouped by two booleans rather than the bucket's text: cheaper per row.
    pending = t.completed_at.is_(None)
    in_time = t.completed_at <= t.due_at
    bit = cast(literal(1), BigInteger).op("<<")(func.hashtext(t.case_id).op("&")(63))
    inner = select(t.type, pending.label("pending"), in_time.label("in_time"), bit.label("bit"),
                   func.coalesce(t.report_key, 0).label("k")).where(*where).subquery()
    rows = session.execute(
        select(inner.c.type, inner.c.pending, inner.c.in_time, func.count(), func.bit_or(inner.c.bit),
               func.sum(inner.c.k))
        .group_by(inner.c.type, inner.c.pending, inner.c.in_time)
    ).all()
    found: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    masks: dict[str, int] = defaultdict(int)
    keys: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, is_pending, is_in_time, n, mask, k in rows:
        mask = int(mask) & 0xFFFF_FFFF_FFFF_FFFF
        name = "not_done" if is_pending else "on_time" if is_in_time else "late"
        found[kind][name] = (int(n), mask.bit_count())
        masks[kind] |= mask
        keys[kind][name] += int(k or 0)
        keys[kind]["total"] += int(k or 0)
    for kind, buckets in found.items():
        buckets["total"] = (sum(n for n, _ in buckets.values()), masks[kind].bit_count())
    if any(n >= min_cell > bits for buckets in found.values() for n, bits in buckets.values()):
        return _task_counts_exact(session, where, bucket)
    return {kind: TaskCounts(**buckets, keys=dict(keys[kind])) for kind, buckets in found.items()}


def _task_counts_exact(session: Session, where: list[Any], bucket: Any) -> dict[str, TaskCounts]:
    t = _TASKS.c
    inner = select(t.type, bucket.label("b"), t.case_id, func.coalesce(t.report_key, 0).label("k")).where(
        *where).subquery()
    per_bucket = session.execute(
        select(inner.c.type, inner.c.b, func.count(), func.count(distinct(inner.c.case_id)), func.sum(inner.c.k))
        .group_by(inner.c.type, inner.c.b)
    ).all()
    totals = session.execute(
        select(inner.c.type, func.count(), func.count(distinct(inner.c.case_id)), func.sum(inner.c.k))
        .group_by(inner.c.type)
    ).all()
    found: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    keys: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, b, n, cases, k in per_bucket:
        found[kind][b] = (int(n), int(cases))
        keys[kind][b] = int(k or 0)
    for kind, n, cases, k in totals:
        found[kind]["total"] = (int(n), int(cases))
        keys[kind]["total"] = int(k or 0)
    return {kind: TaskCounts(**buckets, keys=keys[kind]) for kind, buckets in found.items()}


_TRACKS = table(CaseTrackRow)


def track_counts(session: Session, municipality: str, pathway_id: str | None, lo: datetime,
                 hi: datetime) -> TrackCounts:
    """Interventions of the scope started and closed in [lo, hi), and the clients (distinct
    pseudonyms) with one started: three grouped scans of `case_tracks` over its indexes."""
    t = _TRACKS.c
    where: list[Any] = [t.funder == scope_key(municipality)]
    if pathway_id is not None:
        where.append(t.pathway_id == pathway_id)
    started = {(pid, track): (int(n), int(k or 0)) for pid, track, n, k in session.execute(
        select(t.pathway_id, t.track_id, func.count(), func.sum(t.report_key))
        .where(*where, t.started_at >= lo, t.started_at < hi).group_by(t.pathway_id, t.track_id))}
    closed = {(pid, track, result): (int(n), int(k or 0)) for pid, track, result, n, k in session.execute(
        select(t.pathway_id, t.track_id, t.result, func.count(), func.sum(t.report_key))
        .where(*where, t.closed_at >= lo, t.closed_at < hi).group_by(t.pathway_id, t.track_id, t.result))}
    c = _CASES.c
    per_client = (select(c.pseudonym, func.min(func.coalesce(c.report_key, 0)).label("k"))
                  .select_from(_TRACKS.join(_CASES, c.id == t.case_id))
                  .where(*where, t.started_at >= lo, t.started_at < hi).group_by(c.pseudonym).subquery())
    n, k = session.execute(select(func.count(), func.sum(per_client.c.k))).one()
    started_cases = session.execute(select(func.count(distinct(t.case_id))).where(
        *where, t.started_at >= lo, t.started_at < hi)).scalar_one()
    bucket = case((t.result == "achieved", "achieved"), (t.result == "not_achieved", "not_achieved"), else_="stopped")
    closed_where = [*where, t.closed_at >= lo, t.closed_at < hi]
    closed_cases = {str(b): int(m) for b, m in session.execute(
        select(bucket, func.count(distinct(t.case_id))).where(*closed_where).group_by(bucket))}
    closed_cases["total"] = int(session.execute(
        select(func.count(distinct(t.case_id))).where(*closed_where)).scalar_one())
    return TrackCounts(started=started, closed=closed, clients=(int(n or 0), int(k or 0)),
                       started_cases=int(started_cases), closed_cases=closed_cases)


RESULTS: Final = (("achieved", "Behaald"), ("not_achieved", "Niet behaald"), ("stopped", "Gestopt"))


def _result_bucket(result: str | None) -> str:
    return result if result in ("achieved", "not_achieved") else "stopped"


def _no_jit(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Compiling these one-off scans to machine code costs more than running them.
        session.execute(text("SET LOCAL jit = off"))


def _case_part(session: Session, municipality: str, pathway_id: str | None, start: date, end: date) -> Aggregates:
    lo, hi = period_bounds(start, end)
    scope = _scope(municipality, pathway_id)
    started, open_at_end, closed, by_outcome, by_origin, pathways, keys = _case_counts(session, scope, lo, hi)
    return Aggregates(started=started, open_at_end=open_at_end, closed=closed, closed_by_outcome=by_outcome,
                      started_by_origin=by_origin, lead_times=_lead_times(session, scope, lo, hi), pathways=pathways,
                      keys=keys, tracks=track_counts(session, municipality, pathway_id, lo, hi))


def _task_part(session: Session, municipality: str, pathway_id: str | None, start: date, end: date, now: datetime,
               min_cell: int) -> dict[str, TaskCounts]:
    lo, hi = period_bounds(start, end)
    return _task_counts(session, municipality, pathway_id, lo, min(hi, now), min_cell) if lo < now else {}


def _joined(cases: Aggregates, tasks: Mapping[str, TaskCounts]) -> Aggregates:
    return replace(cases, tasks=tasks.get(TaskType.HUMAN.value, TaskCounts()),
                   evaluations=tasks.get(TaskType.EVALUATION.value, TaskCounts()))


def aggregate(session: Session, municipality: str, pathway_id: str | None, start: date, end: date,
              now: datetime, min_cell: int = DEFAULT_MIN_CELL) -> Aggregates:
    """Every number a report needs, straight from SQL, in the session's transaction."""
    _no_jit(session)
    return _joined(_case_part(session, municipality, pathway_id, start, end),
                   _task_part(session, municipality, pathway_id, start, end, now, min_cell))


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


def _aggregate_concurrently(engine: Engine, municipality: str, pathway_id: str | None, start: date, end: date,
                            now: datetime, min_cell: int) -> tuple[Aggregates, list[PathwayInfo]]:
    """`aggregate` on PostgreSQL with the case figures and the task figures counted at the same time,
    on two connections that share one snapshot (pg_export_snapshot), so the report is as
    consistent as from one transaction."""
    repeatable = with_options(engine, isolation_level="REPEATABLE READ")
    with Session(repeatable) as first, first.begin():
        _check_published(first, pathway_id)
        snapshot = str(first.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            raise StorageError(f"PostgreSQL gave an unexpected snapshot id {snapshot!r}")

        def tasks() -> dict[str, TaskCounts]:
            with Session(repeatable) as second, second.begin():
                second.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                _no_jit(second)
                return _task_part(second, municipality, pathway_id, start, end, now, min_cell)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="carepath-report") as pool:
            counted = pool.submit(tasks)
            _no_jit(first)
            cases = _case_part(first, municipality, pathway_id, start, end)
            infos = pathway_infos(first, [pathway_id] if pathway_id is not None else cases.pathways)
            return _joined(cases, counted.result()), infos


# --- pathways ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VersionFacts:
    title: str
    outcomes: tuple[tuple[str, str], ...]
    registers_origin: bool
    has_evaluation: bool
    tracks: tuple[tuple[str, str], ...] = ()


_FACTS: dict[str, _VersionFacts | None] = {}  # by source sha256: each stored version is parsed once per process
_FACTS_LOCK = threading.Lock()


def _facts(session: Session, pathway_id: str, version: int, sha: str) -> _VersionFacts | None:
    with _FACTS_LOCK:
        if sha in _FACTS:
            return _FACTS[sha]
    parse = loader_parser()
    facts = None
    if parse is not None:
        p = PathwayVersionRow
        text, source = session.execute(
            select(p.source, p.source_name).where(p.pathway_id == pathway_id, p.version == version)
        ).one()
        try:
            pathway = parse(text, source)
        except CarepathError:  # a stored version today's loader refuses: its codes are shown without labels
            pathway = None
        if pathway is not None:
            facts = _VersionFacts(pathway.title, tuple((o.code, o.label) for o in pathway.outcomes),
                                  pathway.origin_registration, pathway.evaluation is not None,
                                  tuple((t.id, t.title) for t in pathway.tracks))
    with _FACTS_LOCK:
        _FACTS[sha] = facts
    return facts


def pathway_infos(session: Session, pathway_ids: Iterable[str]) -> list[PathwayInfo]:
    """The pathways `pathway_ids` that are published, with outcome codes and labels over all their
    published versions (labels from the newest version that has the code)."""
    p = PathwayVersionRow
    wanted = sorted(set(pathway_ids))
    if not wanted:
        return []
    query = (select(p.pathway_id, p.version, p.source_sha256).where(p.pathway_id.in_(wanted))
             .order_by(p.pathway_id, p.version.desc()))
    by_id: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pid, version, sha in session.execute(query):
        by_id[pid].append((version, sha))
    infos: list[PathwayInfo] = []
    for pid, versions in by_id.items():
        title: str | None = None
        outcomes: dict[str, str] = {}
        tracks: dict[str, str] = {}
        origin = evaluation = False
        for version, sha in versions:  # newest first
            facts = _facts(session, pid, version, sha)
            if facts is None:
                continue
            title = title or facts.title
            for code, label in facts.outcomes:
                outcomes.setdefault(code, label)
            for track_id, track_title in facts.tracks:
                tracks.setdefault(track_id, track_title)
            origin = origin or facts.registers_origin
            evaluation = evaluation or facts.has_evaluation
        infos.append(PathwayInfo(pid, title or pid, tuple(outcomes.items()), origin, evaluation, tuple(tracks.items())))
    return infos


# --- assembling the tables --------------------------------------------------------------------------

ORIGIN_ROWS: Final = (
    (OriginGroup.NATIVE.value, "Nederlandse achtergrond"),
    (OriginGroup.WESTERN.value, "Westerse migratieachtergrond"),
    (OriginGroup.NON_WESTERN.value, "Niet-westerse migratieachtergrond"),
)
UNKNOWN_OUTCOME = "~unknown"


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1)


def suppressed_note(min_cell: int) -> str:
    """The one note of every suppressed count: which rule suppressed it is not told, since knowing
    that one cell is under the threshold and its neighbour not could give both away."""
    return (f"onderdrukt: berekend uit minder dan {min_cell} zaken, of onderdrukt zodat zo'n cel niet "
            f"uit de totalen te berekenen is")


@dataclass(frozen=True)
class Protection:
    """What protects a report beyond small-cell suppression (docs/reporting.md, "Protection").

    `EXACT` (the default of `build_report`) publishes true counts: for the organisation's own use
    and tests. `PUBLISHED` is what an analyst gets (`integrations.reporting.published`)."""

    perturb: bool = False  # cell-key perturbation of every published count (cellkey.py)
    percentile_min: int = 0  # lead-time percentiles only over at least this many closed cases (and min_cell)
    single_pathway_percentiles: bool = False  # no percentiles over all pathways (the difference with one
    # pathway's would be about the others' few cases)
    whole_days: bool = False  # percentiles rounded to whole days


EXACT: Final = Protection()
PUBLISHED: Final = Protection(perturb=True, percentile_min=50, single_pathway_percentiles=True, whole_days=True)


class _Builder:
    """Figures and equations of one report, then cells once suppression has run."""

    def __init__(self, min_cell: int, perturb: bool = False) -> None:
        self.min_cell = min_cell
        self.perturb = perturb
        self.figures: dict[str, Figure] = {}
        self.keys: dict[str, int] = {}  # figure -> sum of the record keys of what it counts
        self.equations: list[Equation] = []
        self.why: dict[str, Why] = {}

    def count(self, key: str, value: int, cases: int | None = None, *, at_least: int = 0, ck: int = 0) -> str:
        figure = Figure(value, cases, at_least)
        existing = self.figures.setdefault(key, figure)
        if existing != figure:
            raise ValueError(f"figure {key} given twice with different values")
        self.keys.setdefault(key, ck)
        return key

    def value(self, key: str) -> int:
        """The published value of a published figure: true, or perturbed by its cell key."""
        true = self.figures[key].value
        return cellkey.perturb(true, self.keys.get(key, 0)) if self.perturb else true

    def equation(self, total: str, parts: Sequence[str]) -> None:
        self.equations.append(Equation(total, tuple(parts)))

    def solve(self) -> None:
        self.why = protect(self.figures, self.equations, self.min_cell)

    def published(self, key: str) -> bool:
        return key not in self.why

    def cell(self, key: str) -> Cell:
        if self.published(key):
            return Cell(self.value(key))
        return Cell(SUPPRESSED, suppressed_note(self.min_cell))

    def share(self, key: str, base: str) -> Cell:
        if not self.published(key):
            return Cell(SUPPRESSED, "aandeel van een onderdrukt aantal")
        if not self.published(base):
            return Cell(SUPPRESSED, "het totaal waarvan dit een aandeel is, is onderdrukt")
        whole = self.value(base)
        return Cell(min(100.0, _pct(self.value(key), whole)) if whole else 0.0)

    def ratio(self, part: str, whole: str) -> Cell:
        """`part` per `whole` (interventions per client), one decimal, from the published values."""
        if not (self.published(part) and self.published(whole)) or not self.value(whole):
            return Cell(SUPPRESSED, "berekend uit een onderdrukt aantal")
        return Cell(round(self.value(part) / self.value(whole), 1))

    def rows(self, items: Iterable[tuple[str, str, RowKind, str | None]]) -> tuple[Row, ...]:
        """(figure key, label, kind, share base or None) -> rows of (count[, share])."""
        out = []
        for key, label, kind, base in items:
            cells = (self.cell(key),) if base is None else (self.cell(key), self.share(key, base))
            out.append(Row(key, label, cells, kind))
        return tuple(out)


_TASK_TABLES: Final = (
    ("tasks", "Taken op tijd afgerond", ("Op tijd afgerond", "Te laat afgerond", "Niet afgerond, termijn verstreken"),
     "Taken van medewerkers (geen evaluaties, geen verzoeken aan ketenpartners)"),
    ("evaluations", "Evaluaties op tijd gehouden",
     ("Op tijd gehouden", "Te laat gehouden", "Niet gehouden, termijn verstreken"), "Periodieke evaluaties van de zaak"),
)


def assemble(
    agg: Aggregates,
    pathways: Sequence[PathwayInfo],
    *,
    municipality: str,
    pathway_id: str | None,
    start: date,
    end: date,
    min_cell: int = DEFAULT_MIN_CELL,
    as_of: datetime,
    protection: Protection = EXACT,
) -> Report:
    """The report's tables from its aggregates, small cells suppressed (no database needed).

    Tables: cases; closed per pathway (all pathways only); the outcomes of each pathway; lead time;
    tasks; evaluations (when a pathway in scope evaluates); origin (when a pathway in scope
    registers origin)."""
    b = _Builder(min_cell, protection.perturb)
    keys = agg.keys
    by_id = {p.id: p for p in pathways}
    single = pathway_id is not None
    # All pathways: those with cases of the municipality in the period (a pathway it does not
    # commission would only add empty rows, and every empty row costs another cell).
    active = {pathway_id} if pathway_id is not None else {*agg.pathways, *(pid for pid, _ in agg.closed_by_outcome)}
    scope = [by_id.get(pid) or PathwayInfo(pid, pid, ()) for pid in sorted(active)]
    with_origin = any(info.registers_origin for info in scope)
    with_evaluations = any(info.has_evaluation for info in scope)

    # Every figure, and the sums between them, before anything is suppressed.
    started = b.count("cases.started", agg.started, ck=keys.get("started", 0))
    open_end = b.count("cases.open_at_end", agg.open_at_end, ck=keys.get("open", 0))
    closed = b.count("cases.closed", agg.closed, ck=keys.get("closed", 0))
    outcome_rows: dict[str, list[tuple[str, str]]] = {}
    pathway_totals: list[str] = []
    for info in scope:  # the pathway's outcome codes (all versions), then codes it does not know
        total = closed if single else b.count(
            f"closed.{info.id}", sum(n for (pid, _), n in agg.closed_by_outcome.items() if pid == info.id),
            ck=sum(keys.get(("outcome", info.id, code), 0) for (pid, code) in agg.closed_by_outcome if pid == info.id))
        known = {code for code, _ in info.outcomes}
        rows = [(b.count(f"outcomes.{info.id}.{code}", agg.closed_by_outcome.get((info.id, code), 0),
                         ck=keys.get(("outcome", info.id, code), 0)), label)
                for code, label in info.outcomes]
        unknown = sum(n for (pid, code), n in agg.closed_by_outcome.items() if pid == info.id and code not in known)
        if unknown:  # shown only when not empty, which a reader can tell
            rows.append((b.count(f"outcomes.{info.id}.{UNKNOWN_OUTCOME}", unknown, at_least=1,
                                 ck=sum(keys.get(("outcome", pid, code), 0) for (pid, code) in agg.closed_by_outcome
                                        if pid == info.id and code not in known)),
                         "Uitkomst onbekend of vervallen"))
        if rows:
            b.equation(total, [key for key, _ in rows])
        outcome_rows[info.id] = rows
        pathway_totals.append(total)
    if not single and pathway_totals:
        b.equation(closed, pathway_totals)
    groups: list[tuple[str, str]] = []
    registered = not_registered = ""
    if with_origin:
        groups = [(b.count(f"origin.{code}", agg.started_by_origin.get(code, 0), ck=keys.get(("origin", code), 0)),
                   label) for code, label in ORIGIN_ROWS]
        registered = b.count("origin.registered", sum(b.figures[key].value for key, _ in groups),
                             ck=sum(b.keys[key] for key, _ in groups))
        not_registered = b.count("origin.not_registered", agg.started - b.figures[registered].value,
                                 ck=keys.get("started", 0) - b.keys[registered])
        b.equation(registered, [key for key, _ in groups])
        b.equation(started, [registered, not_registered])
    task_keys: dict[str, list[str]] = {}
    for name, counts in (("tasks", agg.tasks), ("evaluations", agg.evaluations)):
        if name == "evaluations" and not with_evaluations:
            continue
        parts = [b.count(f"{name}.{bucket}", *getattr(counts, bucket), ck=counts.keys.get(bucket, 0))
                 for bucket in ("on_time", "late", "not_done")]
        total = b.count(f"{name}.total", *counts.total, ck=counts.keys.get("total", 0))
        b.equation(total, parts)
        task_keys[name] = [*parts, total]
    interventions = _intervention_figures(b, agg.tracks, scope, single)

    b.solve()

    running = as_of < period_bounds(start, end)[1]
    tables: list[Table] = [Table(
        "cases", "Zaken", ("Aantal",), ("count",),
        b.rows([(started, "Gestart in de periode", RowKind.ITEM, None),
                (open_end, "Open aan het eind van de periode", RowKind.ITEM, None),
                (closed, "Afgesloten in de periode", RowKind.ITEM, None)]),
        notes=(
            "Open: gestart voor het eind van de periode en toen nog niet afgesloten; opgeschorte zaken tellen mee.",
            *(["De periode loopt nog: open betekent open op het moment van opstellen."] if running else []),
        ),
    )]
    if not single and scope:
        tables.append(Table(
            "closed_by_pathway", "Afgesloten zaken per pad", ("Aantal", "Aandeel (%)"), ("count", "percent"),
            b.rows([*[(total, info.title, RowKind.ITEM, closed)
                      for info, total in zip(scope, pathway_totals, strict=True)],
                    (closed, "Totaal afgesloten", RowKind.TOTAL, None)]),
            sums=((closed, tuple(pathway_totals)),),
        ))
    for info, total in zip(scope, pathway_totals, strict=True):
        rows = outcome_rows[info.id]
        tables.append(Table(
            f"outcomes.{info.id}", f"Uitkomst van de afgesloten zaken: {info.title}",
            ("Aantal", "Aandeel (%)"), ("count", "percent"),
            b.rows([*[(key, label, RowKind.ITEM, total) for key, label in rows],
                    (total, "Totaal afgesloten", RowKind.TOTAL, None)]),
            sums=((total, tuple(key for key, _ in rows)),) if rows else (),
            notes=("Zaken afgesloten in de periode, naar de uitkomst waarmee ze zijn afgesloten.",),
        ))
    lead = agg.lead_times
    percentile_min = max(min_cell, protection.percentile_min)
    if protection.single_pathway_percentiles and not single:
        note = "alleen per zorgpad"
        lead_cells = (Cell(SUPPRESSED, note), Cell(SUPPRESSED, note))
    elif not b.published(closed) or lead.count < percentile_min or lead.median is None or lead.p90 is None:
        # Also when the number of closed cases is suppressed to protect another cell: a published
        # median would tell it is at least min_cell.
        note = f"alleen over {percentile_min} of meer afgesloten zaken"
        lead_cells = (Cell(SUPPRESSED, note), Cell(SUPPRESSED, note))
    elif protection.whole_days:
        lead_cells = (Cell(float(round(lead.median))), Cell(float(round(lead.p90))))
    else:
        lead_cells = (Cell(round(lead.median, 1)), Cell(round(lead.p90, 1)))
    tables.append(Table(
        "lead_time", "Doorlooptijd van de afgesloten zaken", ("Dagen",), ("days",),
        (Row("lead_time.median", "Mediaan", (lead_cells[0],)),
         Row("lead_time.p90", "90e percentiel", (lead_cells[1],))),
        notes=("Van de start tot de afsluiting, in kalenderdagen, van de zaken afgesloten in de periode "
               "(dezelfde zaken als 'Afgesloten in de periode'). Percentielen met lineaire interpolatie; "
               f"niet berekend over minder dan {percentile_min} zaken"
               + ("; afgerond op hele dagen" if protection.whole_days else "")
               + ("; alleen per zorgpad, niet over alle paden samen" if protection.single_pathway_percentiles else "")
               + ".",),
    ))
    for name, title, labels, what in _TASK_TABLES:
        if name not in task_keys:
            continue
        on_time, late, not_done, total = task_keys[name]
        tables.append(Table(
            name, title, ("Aantal", "Aandeel (%)"), ("count", "percent"),
            b.rows([(on_time, labels[0], RowKind.ITEM, total), (late, labels[1], RowKind.ITEM, total),
                    (not_done, labels[2], RowKind.ITEM, total), (total, "Totaal", RowKind.TOTAL, None)]),
            sums=((total, (on_time, late, not_done)),),
            notes=(f"{what} met een termijn in de periode die al verstreken is; vervallen taken tellen niet mee. "
                   f"Een aantal wordt onderdrukt als de taken van minder dan {min_cell} zaken komen.",),
        ))
    tables.extend(_intervention_tables(b, interventions))
    if with_origin:
        tables.append(Table(
            "origin", "Bereik naar herkomst", ("Aantal", "Aandeel (%)"), ("count", "percent"),
            b.rows([*[(key, label, RowKind.ITEM, registered) for key, label in groups],
                    (registered, "Geregistreerd", RowKind.SUBTOTAL, started),
                    (not_registered, "Niet geregistreerd (bezwaar of niet vastgelegd)", RowKind.ITEM, started),
                    (started, "Totaal gestart in de periode", RowKind.TOTAL, None)]),
            sums=((registered, tuple(key for key, _ in groups)), (started, (registered, not_registered))),
            notes=(
                "Zaken gestart in de periode. Herkomst naar geboorteland van cliënt en ouders, ingedeeld zoals "
                "het CBS en de landelijke AMW-registratie doen; de aandelen van de drie herkomstgroepen zijn van "
                "de geregistreerde zaken, die van geregistreerd en niet geregistreerd van alle gestarte zaken.",
                "Niet geregistreerd: de cliënt maakte bezwaar, of er is geen geboorteland vastgelegd"
                + ("" if single else ", ook bij paden die geen herkomst registreren") + ".",
            ),
        ))
    return Report(
        municipality=municipality, pathway_id=pathway_id,
        pathway_title=scope[0].title if single else None,
        start=start, end=end, min_cell=min_cell, as_of=as_of, tables=tuple(tables),
        notes=(
            f"Periode {start.isoformat()} tot en met {end.isoformat()} (Nederlandse tijd); alleen zaken in "
            + ("opdracht van deze gemeente." if ":" not in municipality or municipality.startswith("municipality:")
               else f"opdracht van deze financier ({municipality})."),
            f"x = onderdrukt: berekend uit minder dan {min_cell} zaken, of onderdrukt zodat zo'n cel niet uit "
            f"de totalen te berekenen is.",
            *([f"Elk gepubliceerd aantal is licht verstoord (hoogstens {cellkey.MAX_NOISE} erbij of eraf, steeds "
               f"hetzelfde voor dezelfde zaken), zodat verschillen tussen rapporten geen losse zaken verraden; "
               f"een totaal kan daardoor iets afwijken van de som van zijn delen."] if protection.perturb else []),
        ),
        perturbed=protection.perturb,
    )


# --- interventions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interventions:
    started: str
    clients: str
    results: list[tuple[str, str]]  # (figure, label) per result bucket
    closed: str
    areas: list[tuple[str, str, str, str]]  # (label, started, closed, achieved) figures per problem area


def _intervention_figures(b: _Builder, tc: TrackCounts, scope: Sequence[PathwayInfo],
                          single: bool) -> _Interventions | None:
    """The intervention figures (tracks: one per problem area a case works on) and their sums;
    None when no pathway in scope has tracks. Areas count at most one intervention per case, so
    an area's count is its number of cases; totals are judged by their distinct cases."""
    if not any(info.tracks for info in scope) and not tc.started and not tc.closed:
        return None
    areas: list[tuple[str, str, str]] = []  # (pathway, track, label)
    for info in scope:
        titles = dict(info.tracks)
        seen = {*titles, *(t for p, t in tc.started if p == info.id), *(t for p, t, _ in tc.closed if p == info.id)}
        for track_id in [*titles, *sorted(seen - set(titles))]:
            title = titles.get(track_id, track_id)
            areas.append((info.id, track_id, title if single else f"{info.title}: {title}"))
    area_figures = []
    for pid, track_id, label in areas:
        n, k = tc.started.get((pid, track_id), (0, 0))
        done = [(v, _result_bucket(r)) for (p, t, r), v in tc.closed.items() if p == pid and t == track_id]
        base = f"interventions.area.{pid}.{track_id}"
        area_figures.append((
            label,
            b.count(f"{base}.started", n, ck=k),
            b.count(f"{base}.closed", sum(v[0] for v, _ in done), ck=sum(v[1] for v, _ in done)),
            b.count(f"{base}.achieved", sum(v[0] for v, r in done if r == "achieved"),
                    ck=sum(v[1] for v, r in done if r == "achieved")),
        ))
    started = b.count("interventions.started", sum(n for n, _ in tc.started.values()), tc.started_cases,
                      ck=sum(k for _, k in tc.started.values()))
    clients = b.count("interventions.clients", *tc.clients[:1], ck=tc.clients[1])
    results = []
    for bucket, label in RESULTS:
        found = [v for (_, _, r), v in tc.closed.items() if _result_bucket(r) == bucket]
        results.append((b.count(f"interventions.{bucket}", sum(n for n, _ in found), tc.closed_cases.get(bucket, 0),
                                ck=sum(k for _, k in found)), label))
    closed = b.count("interventions.closed", sum(n for n, _ in tc.closed.values()), tc.closed_cases.get("total", 0),
                     ck=sum(k for _, k in tc.closed.values()))
    b.equation(closed, [key for key, _ in results])
    if area_figures:
        b.equation(started, [a[1] for a in area_figures])
        b.equation(closed, [a[2] for a in area_figures])
        b.equation(results[0][0], [a[3] for a in area_figures])
    return _Interventions(started, clients, results, closed, area_figures)


def _intervention_tables(b: _Builder, found: _Interventions | None) -> list[Table]:
    if found is None:
        return []
    achieved = found.results[0][0]
    return [
        Table("interventions", "Interventies", ("Aantal",), ("count",), (
            Row(found.started, "Interventies gestart in de periode", (b.cell(found.started),)),
            Row(found.clients, "Cliënten voor wie een interventie startte", (b.cell(found.clients),)),
        ), notes=("Een interventie is het werk aan één probleemgebied (leefgebied) van een zaak; een zaak kan "
                  "aan meerdere probleemgebieden tegelijk werken. Cliënten: verschillende personen "
                  "(een cliënt met twee zaken telt één keer).",)),
        Table("interventions_per_client", "Interventies per cliënt", ("Gemiddeld",), ("ratio",), (
            Row("interventions.per_client", "Gestarte interventies per cliënt",
                (b.ratio(found.started, found.clients),)),
        ), notes=("Berekend uit de gepubliceerde aantallen hierboven.",)),
        Table("intervention_results", "Afgeronde interventies naar resultaat", ("Aantal", "Aandeel (%)"),
              ("count", "percent"),
              b.rows([*[(key, label, RowKind.ITEM, found.closed) for key, label in found.results],
                      (found.closed, "Totaal afgerond in de periode", RowKind.TOTAL, None)]),
              sums=((found.closed, tuple(key for key, _ in found.results)),),
              notes=("Interventies afgesloten in de periode. Behaald: het doel van het probleemgebied is bereikt "
                     "(het aandeel is het deel dat met succes is afgerond). Een aantal wordt onderdrukt als het "
                     "van te weinig zaken komt.",)),
        Table("interventions_by_area", "Interventies per probleemgebied",
              ("Gestart", "Afgerond", "Behaald", "Behaald (%)"), ("count", "count", "count", "percent"),
              (*[Row(s, label, (b.cell(s), b.cell(c), b.cell(a), b.share(a, c))) for label, s, c, a in found.areas],
               Row(found.started, "Totaal", (b.cell(found.started), b.cell(found.closed), b.cell(achieved),
                                             b.share(achieved, found.closed)), RowKind.TOTAL)),
              sums=((found.started, tuple(a[1] for a in found.areas)),) if found.areas else (),
              notes=("Per probleemgebied: gestart en afgerond in de periode, en hoeveel van de afgeronde behaald; "
                     "het aandeel behaald is van de afgeronde.",)),
    ]


# --- the entry point --------------------------------------------------------------------------------


def build_report(
    db_or_session: Engine | Session,
    municipality: str,
    pathway_id: str | None,
    start: date,
    end: date,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    now: datetime | None = None,
    protection: Protection = EXACT,
) -> Report:
    """The outcome report of `municipality` (a CBS code, or any funder key such as
    ``health_insurer:3311``: the cases that funder pays for) for one pathway (or all: None) over
    `start`..`end` (both days included, Dutch time). `now` (default: the system clock) decides which
    task deadlines have passed. Free periods and exact figures: analysts get
    `integrations.reporting.published.published_report` instead."""
    if not municipality or not municipality.strip():
        raise ValidationError("a report needs the municipality it is for")
    if end < start:
        raise ValidationError(f"the period ends ({end}) before it starts ({start})")
    if min_cell < 2:
        raise ValidationError(f"min_cell must be at least 2, not {min_cell}")
    moment = (now or SystemClock().now()).astimezone(UTC)
    if isinstance(db_or_session, Session):
        agg, infos = _aggregate_in(db_or_session, municipality, pathway_id, start, end, moment, min_cell)
    elif db_or_session.dialect.name == "postgresql":
        agg, infos = _aggregate_concurrently(db_or_session, municipality, pathway_id, start, end, moment, min_cell)
    else:
        with read_session(db_or_session) as session:
            agg, infos = _aggregate_in(session, municipality, pathway_id, start, end, moment, min_cell)
    return assemble(agg, infos, municipality=municipality, pathway_id=pathway_id, start=start, end=end,
                    min_cell=min_cell, as_of=moment, protection=protection)


def _check_published(session: Session, pathway_id: str | None) -> None:
    if pathway_id is not None and session.execute(
            select(PathwayVersionRow.version).where(PathwayVersionRow.pathway_id == pathway_id).limit(1)).first() is None:
        raise NotFoundError(f"pathway {pathway_id} is not published")


def _aggregate_in(session: Session, municipality: str, pathway_id: str | None, start: date, end: date,
                  now: datetime, min_cell: int) -> tuple[Aggregates, list[PathwayInfo]]:
    _check_published(session, pathway_id)
    agg = aggregate(session, municipality, pathway_id, start, end, now, min_cell)
    return agg, pathway_infos(session, [pathway_id] if pathway_id is not None else agg.pathways)


# --- export -----------------------------------------------------------------------------------------

SUPPRESSED_MARK: Final = "x"  # as in CBS tables ("geheim")
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_safe(text: str) -> str:
    """`text` made inert for spreadsheets: a leading = + - @ tab CR or LF gets a ' before it (OWASP)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _number(value: Number, decimal: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a report cell holds a number, not {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a report cell holds a finite number, not {value!r}")
        return f"{value:.1f}".replace(".", decimal)
    return str(value)


def _text(cell: Cell, decimal: str) -> str:
    return SUPPRESSED_MARK if cell.value is SUPPRESSED else _number(cell.value, decimal)  # type: ignore[arg-type]


def report_to_csv(report: Report, *, delimiter: str = ";") -> str:
    """The report's tables as CSV text for Excel, to be written as UTF-8 (the text starts with a BOM).

    The default separator is ``;`` with a decimal comma, as Dutch Excel reads it; with
    ``delimiter=","`` numbers get a decimal point. Every text cell is made inert (`csv_safe`).
    """
    if delimiter not in (";", ","):
        raise ValueError(f"the separator is ';' or ',', not {delimiter!r}")
    decimal = "," if delimiter == ";" else "."
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def line(*cells: str) -> None:
        writer.writerow([csv_safe(c) for c in cells])

    line("Uitkomstrapportage", "gemeente" if ":" not in report.municipality else "financier", report.municipality)
    line("Pad", report.pathway_title or "Alle paden", report.pathway_id or "")
    line("Periode", report.start.isoformat(), report.end.isoformat())
    line("Minimale celgrootte", str(report.min_cell))
    line("Opgesteld", report.as_of.astimezone(LOCAL).isoformat(timespec="minutes"))
    for note in report.notes:
        line("Toelichting", note)
    for t in report.tables:
        line()
        line(t.title)
        line("", *t.columns, "Toelichting")
        for row in t.rows:
            notes = list(dict.fromkeys(c.note for c in row.cells if c.note))
            line(row.label, *(_text(c, decimal) for c in row.cells), "; ".join(notes))
        for note in t.notes:
            line("Toelichting", note)
    return out.getvalue()


def report_as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (suppressed cells: value None, suppressed true, note)."""
    def cell(c: Cell) -> dict[str, Any]:
        return {"value": None, "suppressed": True, "note": c.note} if c.suppressed else {
            "value": c.value, "suppressed": False}
    return {
        "municipality": report.municipality, "pathway_id": report.pathway_id, "pathway_title": report.pathway_title,
        "start": report.start.isoformat(), "end": report.end.isoformat(), "min_cell": report.min_cell,
        "as_of": report.as_of.isoformat(), "notes": list(report.notes), "perturbed": report.perturbed,
        "tables": [{
            "key": t.key, "title": t.title, "columns": list(t.columns), "units": list(t.units),
            "notes": list(t.notes), "sums": [{"total": total, "parts": list(parts)} for total, parts in t.sums],
            "rows": [{"key": r.key, "label": r.label, "kind": r.kind.value, "cells": [cell(c) for c in r.cells]}
                     for r in t.rows],
        } for t in report.tables],
    }
