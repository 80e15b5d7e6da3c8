"""Publishing and withdrawing pathway versions from the command line, with the web app's checks.

`check` reads a file like the web editor does (schema and semantic checks, every
problem with its line and column), compares it with the newest published version
(`engine.pathway_diff`), refuses a version number that is taken with other
content, and makes the same migration dry run the web app shows after
publishing. `unpublish` withdraws a version no case uses (one published by
mistake); a version with cases stays, since those cases run on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from engine.definition import Pathway
from engine.errors import ConflictError, NotFoundError
from engine.pathway_diff import diff
from integrations.db import caselists
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import CaseRow, PathwayVersionRow
from integrations.db.pathway_store import Published, fingerprint_of
from integrations.service import CaseService


@dataclass
class PublishPlan:
    """What publishing a file would do."""

    pathway: Pathway
    previous: int | None  # the newest published version of the same id
    changes: list[str]
    already_published: bool  # this exact version is there already
    running: int = 0  # running cases on older versions
    movable: int = 0  # of which the dry run can move
    blockers: list[str] = field(default_factory=list)  # why the others cannot move (first few)


def plan(service: CaseService, text: str, source: str) -> PublishPlan:
    """Check `text` and say what publishing it would change (raises PathwayError or ConflictError)."""
    pathway = service.catalog.parse(text, source)
    with read_session(service.db) as session:
        versions = [v for pid, v, _ in service.catalog.published(session) if pid == pathway.id]
        existing = session.get(PathwayVersionRow, (pathway.id, pathway.version))
        if existing is not None and existing.fingerprint != fingerprint_of(pathway, text):
            raise ConflictError(
                f"zorgpad {pathway.key} is al gepubliceerd met andere inhoud (uit {existing.source_name}, "
                f"{existing.published_at.date().isoformat()}); geef {source} een nieuw versienummer")
    older = [v for v in versions if v != pathway.version]
    previous = max(older) if older else None
    base = service.catalog.lookup(pathway.id, previous).pathway if previous is not None else None
    return PublishPlan(pathway, previous, diff(base, pathway), already_published=existing is not None)


def handover_warnings(service: CaseService, pathway: Pathway) -> list[str]:
    """What a hand-over step of `pathway` would run into with the pathways published now: a target
    that is not published, an unknown trigger, mapped fields the target does not have, or required
    fields of the target that nothing fills in."""
    found: list[str] = []
    steps = list(pathway.steps) + [s for t in pathway.tracks for s in t.steps]
    for step in (s for s in steps if s.kind == "handover"):
        target_id = str(step.params.get("pathway"))
        try:
            with read_session(service.db) as session:
                version = service.catalog.latest_version(session, target_id)
            target = service.catalog.lookup(target_id, version).pathway
        except NotFoundError:
            found.append(f"stap {step.id}: zorgpad {target_id} is (nog) niet gepubliceerd; de overdracht lukt pas "
                         "als het er is")
            continue
        trigger = str(step.params.get("trigger"))
        if trigger not in {t.type for t in target.triggers}:
            found.append(f"stap {step.id}: {target.key} heeft geen aanleiding {trigger!r} "
                         f"(wel: {', '.join(t.type for t in target.triggers)})")
        fields = dict(target.case_data.get("properties", {}))
        mapped = set(dict(step.params.get("map") or {}))
        for name in sorted(mapped - set(fields)):
            found.append(f"stap {step.id}: {target.key} kent geen zaakgegeven {name!r}")
        for name in sorted(set(target.case_data.get("required", [])) - mapped):
            found.append(f"stap {step.id}: {target.key} vraagt {name!r}, maar `map` vult het niet")
    return found


def dry_run(service: CaseService, result: PublishPlan, *, sample: int = 2000) -> PublishPlan:
    """The web app's migration dry run for the running cases on older versions (after publishing)."""
    pathway = result.pathway
    with read_session(service.db) as session:
        running = caselists.running_cases(session, pathway.id, pathway.version, None, sample)
    result.running = len(running)
    for case_id, _version, _team in running:
        try:
            migration = service.engine.plan_migration(service.case(case_id), pathway.version)
        except NotFoundError:
            continue
        if migration.possible:
            result.movable += 1
        elif len(result.blockers) < 5:
            result.blockers.append(f"{case_id}: {'; '.join(migration.blockers)}")
    return result


def publish(service: CaseService, text: str, source: str) -> Published:
    return service.publish(service.catalog.parse(text, source), text, source)


def unpublish(service: CaseService, pathway_id: str, version: int) -> None:
    """Withdraw a version that no case uses (raises NotFoundError or ConflictError saying why not)."""
    with write_session(service.db) as session:
        row = session.get(PathwayVersionRow, (pathway_id, version))
        if row is None:
            raise NotFoundError(f"zorgpad {pathway_id}@{version} is niet gepubliceerd")
        used = session.execute(select(func.count()).select_from(CaseRow).where(
            CaseRow.pathway_id == pathway_id, CaseRow.pathway_version == version)).scalar_one()
        if used:
            raise ConflictError(
                f"zorgpad {pathway_id}@{version} wordt gebruikt door {used} zaken; die lopen erop door. "
                "Publiceer een nieuwe versie en zet de lopende zaken over")
        session.execute(delete(PathwayVersionRow).where(PathwayVersionRow.pathway_id == pathway_id,
                                                        PathwayVersionRow.version == version))
    service.catalog.forget(pathway_id, version)
