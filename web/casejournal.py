"""The case journal in the web app: who may read and write it, and the audit entry of each change.

Reading the journal is part of reading the case page (its audit entry covers
it); writing or changing an entry is a change of the case, audited without the
text. Entries of a closed case are personal data shown only when the case page
shows personal data (with a logged reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.state import CaseState, CaseStatus
from integrations.db import client_export, journal
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session
from integrations.db.journal import JournalEntry, JournalError
from web.caseview import TimelineItem
from web.i18n import translate
from web.portal import CASE_ROLES, Hidden, Invalid, Portal
from web.principal import Principal
from web.timefmt import AMSTERDAM


@dataclass
class JournalPanel:
    entries: list[JournalEntry]
    total: int
    query: str
    kind: str
    editable: set[int] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)  # (value, label) for "about which task or track"
    link_labels: dict[str, str] = field(default_factory=dict)
    may_write: bool = False
    shown: bool = True  # False: a closed case whose personal data is hidden
    names: dict[str, str] = field(default_factory=dict)  # author -> display name


def links_of(state: CaseState, track_titles: dict[str, str]) -> list[tuple[str, str]]:
    """What an entry may be about: the case's open and recent tasks (by name) and its tracks."""
    tasks = sorted(state.tasks.values(), key=lambda t: (t.status.value != "open", -t.created_at.timestamp()))
    found = [(f"task:{t.id}", t.title) for t in tasks[:40]]
    found += [(f"track:{tid}", track_titles.get(tid, tid)) for tid in state.tracks]
    return found


def panel(portal: Portal, p: Principal, state: CaseState, track_titles: dict[str, str], *, query: str = "",
          kind: str = "", shown: bool = True) -> JournalPanel:
    """The journal of a case the caller was just shown (access already checked by the case page)."""
    with read_session(portal.db) as session:
        total = journal.count(session, state.id)
        entries = journal.entries(session, state.id, query=query or None, kind=kind or None) if shown else []
    now = portal.now()
    window = portal.settings.journal_edit_window
    links = links_of(state, track_titles)
    labels = dict(links)
    return JournalPanel(
        entries=entries, total=total, query=query, kind=kind,
        editable={e.id for e in entries if e.editable_by(p.actor, now, window)}, links=links, link_labels=labels,
        may_write=p.role in CASE_ROLES and state.status is not CaseStatus.CLOSED, shown=shown,
        names=portal.names(e.author for e in entries))


def timeline_items(portal: Portal, state: CaseState, lang: str, track_titles: dict[str, str], *,
                   shown: bool) -> list[TimelineItem]:
    """Journal entries as timeline items (text hidden when the case's personal data is)."""
    with read_session(portal.db) as session:
        entries = journal.entries(session, state.id, limit=500)
    names = portal.names(e.author for e in entries)
    labels = dict(links_of(state, track_titles))
    items = []
    for e in entries:
        about = labels.get(f"task:{e.task_id}") if e.task_id else labels.get(f"track:{e.track_id}", "")
        title = translate(e.kind_label, lang) + (f" · {about}" if about else "")
        text = e.text if shown else translate("(verborgen)", lang)
        items.append(TimelineItem(e.happened_at, "journal", title, names.get(e.author, e.author),
                                  text if len(text) <= 400 else text[:400] + "…"))
    return items


def parse_moment(raw: str, now: datetime) -> datetime:
    """A datetime-local value (Amsterdam wall clock) as UTC; empty is now."""
    raw = raw.strip()
    if not raw:
        return now
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise JournalError("Vul een datum en tijd in, zoals 4-12-2026 10:30.", "happened_at") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=AMSTERDAM)
    return local.astimezone(now.tzinfo)


def _link(state: CaseState, raw: str) -> tuple[str | None, str | None]:
    if not raw:
        return None, None
    what, _, ref = raw.partition(":")
    if what == "task" and ref in state.tasks:
        return ref, None
    if what == "track" and ref in state.tracks:
        return None, ref
    raise JournalError("Kies een taak of probleemgebied van deze zaak.", "link")


def write(portal: Portal, p: Principal, case_id: str, *, kind: str, text: str, happened_at: str, link: str,
          corrects: str = "") -> JournalEntry:
    """A new entry by the caller (a worker or coordinator of the case's team; the case not closed)."""
    portal.require(p, *CASE_ROLES)
    now = portal.now()
    with portal._reading(p) as (session, record):
        state = portal._visible_in(session, p, case_id)
        if state.status is CaseStatus.CLOSED:
            raise Invalid(translate("De zaak is gesloten; er kan niets meer in het journaal bij.", p.language))
        try:
            task_id, track_id = _link(state, link)
            corrected = int(corrects) if corrects.strip().isdigit() else None
            entry = journal.add(session, case_id=case_id, kind=kind, text=text, author=p.actor, now=now,
                                happened_at=parse_moment(happened_at, now), task_id=task_id, track_id=track_id,
                                corrects=corrected)
        except JournalError as exc:
            raise Invalid(str(exc), {exc.field: str(exc)}) from None
        record("change", f"journal entry {entry.id} written ({kind})"
               + (f", correcting entry {corrected}" if corrected else ""), case_id)
    return entry


def change(portal: Portal, p: Principal, case_id: str, entry_id: int, *, kind: str, text: str) -> JournalEntry:
    """The author changes their entry within the edit window; after that only a correction helps."""
    portal.require(p, *CASE_ROLES)
    with portal._reading(p) as (session, record):
        portal._visible_in(session, p, case_id)
        try:
            entry = journal.edit(session, entry_id, case_id=case_id, author=p.actor, text=text, kind=kind,
                                 now=portal.now(), window=portal.settings.journal_edit_window)
        except JournalError as exc:
            raise Invalid(str(exc), {exc.field: str(exc)}) from None
        record("change", f"journal entry {entry_id} changed by its author", case_id)
    return entry


def export(portal: Portal, p: Principal, case_id: str, why: str) -> dict[str, Any]:
    """The client's data export, for a coordinator, with a reason that goes into the audit log."""
    portal.require(p, AccountRole.COORDINATOR)
    if not why.strip():
        raise Invalid(translate("Geef een reden op.", p.language), {"why": translate("Geef een reden op.", p.language)})
    with portal._reading(p) as (session, record):
        portal._visible_in(session, p, case_id)
        try:
            found = client_export.client_data(session, case_id, now=portal.now())
        except Exception as exc:  # the case vanished between the check and the read
            raise Hidden(case_id) from exc
        record("export", "client data export: personal data, case data, journal, tasks", case_id, why.strip())
    return found
