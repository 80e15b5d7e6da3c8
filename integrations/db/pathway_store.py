"""Published pathway versions: stored once, compiled once per process.

A case runs on the pathway version it started with for as long as it lasts,
so every version ever used stays in `pathway_versions` with its source text.
Publishing the same id and version again is a no-op when the content is the
same (same fingerprint) and refused when it differs: a changed pathway needs
a new version number. `PathwayCatalog.lookup` is the engine's `lookup`: it
compiles a version the first time it is asked for and keeps it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from engine.definition import Pathway
from engine.errors import ConflictError, NotFoundError
from engine.messages import msg
from integrations.db.engine_factory import read_session
from integrations.db.errors import StorageError
from integrations.db.models import PathwayVersionRow

if TYPE_CHECKING:
    from engine.compiled import CompiledPathway

ParsePathway = Callable[[str, str], Pathway]  # (source text, source name) -> checked pathway


def loader_parser() -> ParsePathway | None:
    """The pathway loader with the shipped task kinds, or None while the loader is not installed."""
    from importlib.util import find_spec

    if find_spec("engine.loader") is None or find_spec("tasks.registry") is None:
        return None

    def parse(text: str, source: str) -> Pathway:
        # Imported at the first parse: a command whose pathways are all published never loads the
        # YAML and JSON Schema machinery.
        from engine.loader import load_pathway  # type: ignore[import-not-found,unused-ignore]
        from tasks.registry import default_kinds

        result: Pathway = load_pathway(text, source, default_kinds())
        return result

    return parse


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_of(pathway: Pathway, text: str) -> str:
    """The loader's canonical fingerprint; the source text's hash for a pathway built in code."""
    return pathway.fingerprint or text_sha256(text)


@dataclass(frozen=True)
class Published:
    pathway_id: str
    version: int
    new: bool  # False: this exact version was already published


class PathwayCatalog:
    """Every published pathway version, compiled on first use (thread-safe)."""

    def __init__(self, db: Engine, parse: ParsePathway | None = None) -> None:
        self._db = db
        self._parse = parse
        self._compiled: dict[tuple[str, int], CompiledPathway] = {}
        self._lock = threading.Lock()

    @property
    def can_parse(self) -> bool:
        return self._parse is not None

    def parse(self, text: str, source: str) -> Pathway:
        if self._parse is None:
            raise StorageError(f"cannot read pathway {source}: the pathway loader (engine.loader) is not available")
        return self._parse(text, source)

    # --- publishing -------------------------------------------------------------------------------
    def already_published(self, session: Session, text: str) -> tuple[str, int] | None:
        """The (id, version) stored with exactly this source text, if any (no parsing needed)."""
        row = session.execute(
            select(PathwayVersionRow.pathway_id, PathwayVersionRow.version)
            .where(PathwayVersionRow.source_sha256 == text_sha256(text))
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def publish(self, session: Session, pathway: Pathway, text: str, source: str, now: datetime) -> Published:
        """Store `pathway` (already checked) with its source text, in the caller's transaction."""
        fingerprint = fingerprint_of(pathway, text)
        existing = session.get(PathwayVersionRow, (pathway.id, pathway.version))
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise ConflictError(
                    f"pathway {pathway.key} is already published with other content (from {existing.source_name}, "
                    f"{existing.published_at.date().isoformat()}); give {source} a new version number"
                )
            self._remember(pathway)
            return Published(pathway.id, pathway.version, new=False)
        session.execute(
            insert(PathwayVersionRow).values(
                pathway_id=pathway.id, version=pathway.version, fingerprint=fingerprint,
                source_sha256=text_sha256(text), source_name=source, source=text, published_at=now,
            )
        )
        self._remember(pathway)
        return Published(pathway.id, pathway.version, new=True)

    def publish_next(self, session: Session, pathway: Pathway, text: str, source: str,
                     now: datetime) -> tuple[Published, str]:
        """Store `pathway` as the next version of its id, whatever version its text names, in the
        caller's transaction: (what was published, the stored text). The same text as the newest
        version publishes nothing (`new` False). Callers serialise publications of one id
        (`ownership.owner_of(..., for_update=True)`)."""
        from integrations.db import ownership

        newest = ownership.latest(session, pathway.id)
        if newest is not None and newest.source_sha256 == text_sha256(ownership.with_version(text, newest.version)):
            return Published(pathway.id, newest.version, new=False), newest.source
        version = 1 if newest is None else newest.version + 1
        stored = ownership.with_version(text, version)
        assigned = pathway if stored == text else self.parse(stored, source)
        if (assigned.id, assigned.version) != (pathway.id, version):
            raise ConflictError(f"pathway {pathway.id}: the text reads as {assigned.key} after numbering it "
                                f"{version}; put 'version:' on a line of its own")
        return self.publish(session, assigned, stored, source, now), stored

    def _remember(self, pathway: Pathway) -> None:
        with self._lock:
            if (pathway.id, pathway.version) not in self._compiled:
                from engine.compiled import compile_pathway  # on first use: CLI reads need none

                self._compiled[(pathway.id, pathway.version)] = compile_pathway(pathway)

    def forget(self, pathway_id: str, version: int) -> None:
        """Drop a withdrawn version from the cache (`integrations.pathway_publishing.unpublish`)."""
        with self._lock:
            self._compiled.pop((pathway_id, version), None)

    # --- lookup -----------------------------------------------------------------------------------
    def lookup(self, pathway_id: str, version: int) -> CompiledPathway:
        """The compiled pathway version (the engine's `PathwayLookup`)."""
        compiled = self._compiled.get((pathway_id, version))
        if compiled is not None:
            return compiled
        with read_session(self._db) as session:
            row = session.get(PathwayVersionRow, (pathway_id, version))
            if row is None:
                raise NotFoundError(msg("store.not_published", pathway=pathway_id, version=version))
            text, source = row.source, row.source_name
        pathway = self.parse(text, source)
        if (pathway.id, pathway.version) != (pathway_id, version):
            raise StorageError(
                f"stored source of pathway {pathway_id}@{version} reads as {pathway.key}; the database is inconsistent"
            )
        self._remember(pathway)
        return self._compiled[(pathway_id, version)]

    def latest_version(self, session: Session, pathway_id: str) -> int:
        version = session.execute(
            select(func.max(PathwayVersionRow.version)).where(PathwayVersionRow.pathway_id == pathway_id)
        ).scalar_one_or_none()
        if version is None:
            known = ", ".join(pid for (pid,) in session.execute(select(PathwayVersionRow.pathway_id).distinct()))
            raise NotFoundError(msg("store.pathway_not_published", pathway=pathway_id, known=known or "-"))
        return int(version)

    def published(self, session: Session) -> list[tuple[str, int, datetime]]:
        rows = session.execute(
            select(PathwayVersionRow.pathway_id, PathwayVersionRow.version, PathwayVersionRow.published_at)
            .order_by(PathwayVersionRow.pathway_id, PathwayVersionRow.version)
        )
        return [(p, v, at) for p, v, at in rows]
