"""Pathways: the list, a readable view with the Mermaid diagram source, the editor (check, simulate,
publish) with problems shown at their line, and migrating running cases after a dry run."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from engine.definition import Pathway
from engine.errors import ConflictError, Problem
from engine.mermaid import to_mermaid
from engine.schema_check import SCHEMA_FILE
from integrations.db import caselists
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session
from web import diagram, migrationview, pathwaydiff, pathwayview, simcompare
from web.i18n import translate
from web.pathway_work import PathwayWorkLimit, in_language, pathway_work_of
from web.portal import CASE_ROLES, Conflict, Hidden, Invalid, Portal, Refused
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)
MAX_SOURCE_BYTES = 1_000_000


@router.get("/pathways")
def pathway_list(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, *CASE_ROLES)
    versions: dict[str, list[tuple[int, Any]]] = {}
    for pathway_id, version, at in portal.published():
        versions.setdefault(pathway_id, []).append((version, at))
    with read_session(portal.db) as session:
        counts = caselists.cases_per_version(session, principal.teams)
    rows = []
    for pathway_id, found in sorted(versions.items()):
        latest = max(v for v, _ in found)
        p = portal.service.catalog.lookup(pathway_id, latest).pathway
        running_old = sum(counts.get((pathway_id, v), {}).get("open", 0) + counts.get((pathway_id, v), {}).get(
            "suspended", 0) for v, _ in found if v < latest)
        rows.append({
            "id": pathway_id, "title": p.title, "owner": p.owner, "latest": latest,
            "published_at": max(at for v, at in found if v == latest), "versions": sorted(v for v, _ in found),
            "open": sum(counts.get((pathway_id, v), {}).get("open", 0) for v, _ in found),
            "closed": sum(counts.get((pathway_id, v), {}).get("closed", 0) for v, _ in found),
            "running_old": running_old,
        })
    return render(request, "pathways.html", {"rows": rows}, principal=principal,
                  title=translate("Zorgpaden", principal.language))


@router.get("/pathways/editor")
def editor(request: Request, principal: Annotated[Principal, Depends(page_principal)],
           from_: Annotated[str, Query(alias="from", max_length=64)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    text, name = "", "nieuw-zorgpad.yaml"
    if from_:
        try:
            cp, text = portal.pathway(principal, from_)
        except Hidden:
            text = ""
        else:
            name = f"{cp.pathway.id}.yaml"
            text = _bump_version(text, cp.pathway.version)
            copy_as = _copy_id(portal, principal, cp.pathway.id)
            if copy_as:  # another organisation's pathway: an edit is a copy under an id of one's own
                from integrations.db.ownership import with_id

                text, name = with_id(text, copy_as), f"{copy_as}.yaml"
                return _editor_page(request, principal, text, name, message=translate(
                    "Dit zorgpad is van een andere organisatie. Je bewerkt een kopie met een eigen id: {id}.",
                    principal.language, id=copy_as))
    return _editor_page(request, principal, text, name)


@router.get("/pathways/editor/schema.json")
def editor_schema(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    """The pathway JSON Schema (schemas/pathway.schema.json) for the editor's completion and hover help."""
    portal_of(request).require(principal, AccountRole.COORDINATOR)
    return Response(SCHEMA_FILE.read_bytes(), media_type="application/schema+json")


def _copy_id(portal: Portal, principal: Principal, pathway_id: str) -> str | None:
    """None when the principal's organisation owns the pathway, else the id for their copy."""
    import re

    from integrations.db import ownership

    with read_session(portal.db) as session:
        owner = ownership.owner_of(session, pathway_id)
    if owner is not None and owner.organisation == principal.organisation:
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", principal.organisation.lower()).strip("-")[:20] or "kopie"
    return f"{pathway_id}-{slug}"[:64].rstrip("-")


def _bump_version(text: str, version: int) -> str:
    """The source with `version:` raised by one: an edit is a new version."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("version:") and line.split(":", 1)[1].strip() == str(version):
            lines[i] = f"version: {version + 1}\n"
            break
    return "".join(lines)


def _editor_page(request: Request, principal: Principal, text: str, name: str, *, problems: list[Problem] | None = None,
                 checked: Pathway | None = None, simulation: dict[str, Any] | None = None,
                 message: str = "", status: int = 200, diff: Any = None, comparison: Any = None) -> Response:
    # CodeMirror (web/editor/) adds <style> elements: this response's CSP allows those with this nonce only
    nonce = secrets.token_hex(16)
    request.state.csp_style_nonce = nonce
    return render(request, "pathway_editor.html", {
        "text": text, "name": name, "problems": [in_language(p, principal.language) for p in problems or []],
        "style_nonce": nonce,
        "checked": checked, "simulation": simulation, "message": message,
        "diff": diff, "comparison": comparison,
        "knob_words": simcompare.WORDS, "knobs": comparison.knobs if comparison else simcompare.Knobs(),
    }, principal=principal, status_code=status, title=translate("Zorgpad bewerken", principal.language))


@router.post("/pathways/editor")
async def editor_action(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    lang = principal.language
    form = await request.form()
    action = str(form.get("action") or "check")
    text = str(form.get("source") or "")
    name = str(form.get("name") or "zorgpad.yaml")[:200] or "zorgpad.yaml"
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(MAX_SOURCE_BYTES + 1)
        if len(content) > MAX_SOURCE_BYTES:
            return _editor_page(request, principal, text, name, message=translate(
                "Het bestand is groter dan 1 MB.", lang), status=413)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            return _editor_page(request, principal, text, name, message=translate(
                "Het bestand is geen UTF-8-tekst.", lang), status=422)
        name = upload.filename.rsplit("/", 1)[-1][:200]
    text = text.replace("\r\n", "\n")
    # Parsing, checking and simulating run in a worker process (web.pathway_work): never on this event loop.
    work = pathway_work_of(request)
    try:
        if action == "simulate":
            settings = portal.settings
            checked = await run_in_threadpool(
                work.simulate, text, name, start=portal.now().replace(microsecond=0),
                cases=settings.simulation_cases, days=settings.simulation_days)
        else:
            checked = await run_in_threadpool(work.check, text, name)
    except PathwayWorkLimit as exc:
        return await run_in_threadpool(partial(_editor_page, request, principal, text, name, message=str(exc),
                                               status=exc.status))
    if checked.pathway is None:
        more = checked.total_problems - len(checked.problems)
        return await run_in_threadpool(partial(
            _editor_page, request, principal, text, name, problems=list(checked.problems), status=422,
            message=translate("En nog {n} problemen; los eerst deze op.", lang, n=more) if more > 0 else ""))
    pathway = checked.pathway
    if action == "simulate":
        return _editor_page(request, principal, text, name, checked=pathway, simulation=checked.simulation)
    if action == "compare":  # side by side with the published version (web/simcompare.py)
        knobs, knob_errors = simcompare.knobs_from(form)
        try:
            current = portal.pathway(principal, pathway.id)[0]
        except Hidden:
            current = None
        if knob_errors or current is None:
            return _editor_page(request, principal, text, name, checked=pathway, status=422, message=" ".join(
                knob_errors.values()) or translate("Er is nog geen gepubliceerde versie om mee te vergelijken.", lang))
        return _editor_page(request, principal, text, name, checked=pathway,
                            comparison=await run_in_threadpool(simcompare.compare, current, pathway, knobs, portal.now()))
    confirmed = action == "publish-confirmed"  # the coordinator saw the difference (web/pathwaydiff.py)
    action = "publish" if confirmed else action
    if action != "publish":
        return _editor_page(request, principal, text, name, checked=pathway, message=translate(
            "Het zorgpad is in orde: {key}, {n} stappen.", lang, key=pathway.key, n=len(pathway.steps)))
    try:
        portal.check_may_publish(principal, pathway.id)  # before the difference: whose pathway it is
    except Refused as exc:
        return _editor_page(request, principal, text, name, checked=pathway, message=str(exc), status=403)
    difference = pathwaydiff.review(portal, principal, pathway)
    if difference is not None and (difference.identical or not confirmed):
        return _editor_page(request, principal, text, name, checked=pathway, diff=difference,
                            status=409 if difference.identical else 200)
    try:
        published = portal.publish(principal, pathway, text, name)
    except (ConflictError, Conflict, Invalid) as exc:
        return _editor_page(request, principal, text, name, checked=pathway, message=str(exc), status=409)
    except Refused as exc:  # another organisation's pathway: say whose, and how to copy it
        return _editor_page(request, principal, text, name, checked=pathway, message=str(exc), status=403)
    version = published.version  # carepath's number, not the one in the text
    if not published.new:
        return redirect(f"/pathways/{pathway.id}?version={version}",
                        translate("Deze versie was al gepubliceerd.", lang), "warn")
    with read_session(portal.db) as session:
        running = caselists.running_cases(session, pathway.id, version, principal.teams, limit=1)
    message = translate("{key} is gepubliceerd. Nieuwe zaken starten op deze versie.", lang,
                        key=f"{pathway.id}@{version}")
    if running:
        return redirect(f"/pathways/{pathway.id}/migrate?to={version}",
                        message + " " + translate("Lopende zaken blijven op hun versie tot je ze overzet.", lang))
    return redirect(f"/pathways/{pathway.id}?version={version}", message)


@router.get("/pathways/{pathway_id}")
def pathway_page(request: Request, pathway_id: str, principal: Annotated[Principal, Depends(page_principal)],
                 version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> Response:
    portal = portal_of(request)
    cp, source = portal.pathway(principal, pathway_id, version)
    versions = sorted(v for pid, v, _ in portal.published() if pid == pathway_id)
    view = pathwayview.build(cp.pathway, principal.language)
    return render(request, "pathway.html", {
        "pathway": cp.pathway, "view": view, "source": source, "mermaid": to_mermaid(cp.pathway),
        "diagrams": diagram.svg(cp.pathway, principal.language),
        "versions": versions, "latest": max(versions),
    }, principal=principal, title=cp.pathway.title)


@router.get("/pathways/{pathway_id}/migrate")
def migrate_plan(request: Request, pathway_id: str, principal: Annotated[Principal, Depends(page_principal)],
                 to: Annotated[int, Query(ge=1, le=1_000_000)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    cp, _source = portal.pathway(principal, pathway_id, to)
    step_map = migrationview.step_map_from(request.query_params)
    plans = portal.plan_migrations(principal, pathway_id, to, step_map=step_map)
    return render(request, "migrate.html", _migration_context(portal, cp, plans, step_map, None, lang=principal.language),
                  principal=principal, title=translate("Zaken overzetten", principal.language))


def _migration_context(portal: Portal, cp: Any, plans: list[Any], step_map: dict[str, str],
                       results: dict[str, Any] | None, errors: dict[str, str] | None = None,
                       lang: str = "nl") -> dict[str, Any]:
    """The dry run in the person's language, with the steps that need a mapping (web/migrationview.py)."""
    titles: dict[str, str] = {}
    for version in {plan.from_version for plan in plans}:
        old = portal.service.catalog.lookup(cp.pathway.id, version)
        titles.update({sid: step.title or sid for sid, step in old.steps.items()})
    return {"pathway": cp.pathway, "plans": plans, "results": results,
            "dutch": migrationview.reader(plans, lang),
            "mappings": migrationview.needed(plans, titles, cp, step_map), "step_map": step_map,
            "errors": errors or {}}


@router.post("/pathways/{pathway_id}/migrate")
async def migrate(request: Request, pathway_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.COORDINATOR)
    form = await request.form()
    try:
        to = int(str(form.get("to") or "0"))
    except ValueError:
        to = 0
    if not 1 <= to <= 1_000_000:  # as the GET's `to`; a 64-bit overflow reached the database
        to = 0
    cp, _source = portal.pathway(principal, pathway_id, to or None)
    chosen = [str(v) for v in form.getlist("case")][:5000]
    reason = str(form.get("reason") or "").strip()[:500] or None
    step_map = migrationview.step_map_from(form)
    lang = principal.language
    if not reason:  # a migration changes running cases: the reason goes into each timeline and the log
        plans = portal.plan_migrations(principal, pathway_id, cp.pathway.version, step_map=step_map)
        return render(request, "migrate.html", _migration_context(
            portal, cp, plans, step_map, None, {"reason": translate("Geef een reden op.", lang)}, lang),
            principal=principal, status_code=422, title=translate("Zaken overzetten", lang))
    done, refused = portal.migrate(principal, pathway_id, cp.pathway.version, chosen, reason, step_map)
    kind = "ok" if not refused else "warn"
    message = translate("{n} zaken overgezet naar versie {v}.", lang, n=len(done), v=cp.pathway.version)
    if refused:
        message += " " + translate("{n} niet: zie de lijst.", lang, n=len(refused))
    plans = portal.plan_migrations(principal, pathway_id, cp.pathway.version, step_map=step_map)
    context = _migration_context(portal, cp, plans, step_map, {"done": done, "refused": refused}, lang=lang)
    context["flash_now"] = {"message": message, "kind": kind}
    response = render(request, "migrate.html", context, principal=principal, title=translate("Zaken overzetten", lang))
    return response
