"""Early signals in the web app: upload a DDAS file, see the result per signal, download the delivery.

Who may upload: a coordinator, a worker with the pathway role `intake_officer` (the team's intake
officer), both only when one of their teams takes signals (a route, docs/early-signalling.md), and a
supplier's system account: an account with the pathway role `signal_supplier` whose organisation is
the `codeGegevensleverancier` of every file it sends, using its own API token. (Token scopes come
separately; until then this role check is the gate.) Who may download the DDAS delivery: the
municipality's analyst for their own municipality, and a coordinator for the municipalities their
teams serve. Uploads are spooled to a temporary file (at most `$CAREPATH_SIGNAL_UPLOAD_MAX_MB`,
default 200) and imported off the event loop; every import and export is written to the audit log
with counts only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from integrations.db.accounts import AccountRole
from integrations.exchange.ddas import codes
from integrations.exchange.ddas.export import export_pages
from integrations.exchange.ddas.importer import ImportReport, Route, SignalImporter, load_routes
from integrations.exchange.ddas.opener import CaseOpener
from integrations.service import CaseService
from web.api import CHANGE, COMMON, Caller
from web.portal import Hidden, Invalid, Refused
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, render

router = APIRouter()

INTAKE_ROLE = "intake_officer"
SUPPLIER_ROLE = "signal_supplier"
UPLOAD_MAX_ENV = "CAREPATH_SIGNAL_UPLOAD_MAX_MB"


def _upload_limit() -> int:
    return int(os.environ.get(UPLOAD_MAX_ENV, "200")) * 1024 * 1024


def is_supplier(p: Principal) -> bool:
    return SUPPLIER_ROLE in p.pathway_roles


def may_upload(p: Principal, routes: Mapping[str, Route]) -> bool:
    if is_supplier(p):
        return True
    if p.role is AccountRole.COORDINATOR or (p.role is AccountRole.WORKER and INTAKE_ROLE in p.pathway_roles):
        return any(route.team in p.teams for route in routes.values())
    return False


def export_municipalities(p: Principal, routes: Mapping[str, Route]) -> list[str]:
    if p.role is AccountRole.ANALYST:
        return [p.municipality] if p.municipality else []
    if p.role is AccountRole.COORDINATOR:
        return sorted(code for code, route in routes.items() if route.team in p.teams)
    return []


def _may_upload_or_refuse(request: Request, p: Principal) -> None:
    if not may_upload(p, load_routes(portal_of(request).service)):
        raise Refused("vroegsignalen importeren is niet voor jouw rol of team")


async def _spool(chunks: AsyncIterator[bytes]) -> Path:
    """The upload in a temporary file (deleted by the caller), refused past the size limit."""
    limit = _upload_limit()
    handle = tempfile.NamedTemporaryFile(prefix="ddas-", suffix=".json", delete=False)  # noqa: SIM115
    size = 0
    try:
        with handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise Invalid(f"het bestand is groter dan {limit // (1024 * 1024)} MB", {"file": "te groot"})
                handle.write(chunk)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Path(handle.name)


def _import(service: CaseService, path: Path, name: str, p: Principal) -> ImportReport:
    routes = load_routes(service)
    if not may_upload(p, routes):
        raise Refused("vroegsignalen importeren is niet voor jouw rol of team")
    importer = SignalImporter(service, routes, keep_outcomes=True)
    checked = importer.check(path)
    if checked.ok and is_supplier(p):
        code = str(checked.envelope.get("codeGegevensleverancier", ""))
        if code.strip().casefold() != p.organisation.strip().casefold():
            raise Refused(f"dit account levert namens {p.organisation}, het bestand namens {code}")
    report = importer.import_file(path, name=name, checked=checked)
    if not report.errors:
        report.opened = CaseOpener(service, routes).run().opened
    service.record_access(who=p.actor, role=p.role.value, organisation=p.organisation, action="import",
                          what=f"vroegsignalen {name[:100]}: " + ", ".join(f"{k}={v}" for k, v in report.counts.items()))
    return report


async def _run(request: Request, chunks: AsyncIterator[bytes], name: str, p: Principal) -> ImportReport:
    service = portal_of(request).service
    path = await _spool(chunks)
    try:
        return await run_in_threadpool(_import, service, path, name, p)
    finally:
        path.unlink(missing_ok=True)


# --- API ----------------------------------------------------------------------------------------------


@router.post("/api/signals", tags=["signals"], summary="Import a DDAS v1.2 file of early signals", responses=CHANGE)
async def api_import(request: Request, principal: Caller) -> JSONResponse:
    """The request body is the DDAS file (`application/json`). 200 with the result per signal; 422 with
    every error (nothing imported) when the file does not meet the DDAS schema."""
    _may_upload_or_refuse(request, principal)  # before reading a byte of the body
    report = await _run(request, request.stream(), request.headers.get("x-filename", "upload.json"), principal)
    return JSONResponse(report.to_json(), status_code=422 if report.errors else 200)


def _period(first: str, last: str) -> tuple[date, date]:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise Invalid("een datum schrijf je als JJJJ-MM-DD", {"from": "JJJJ-MM-DD", "to": "JJJJ-MM-DD"}) from None
    if end < start:
        raise Invalid("de periode eindigt voor ze begint", {"to": "na de begindatum"})
    return start, end


def _export(request: Request, p: Principal, municipality: str, first: str, last: str, page: int) -> dict[str, Any]:
    service = portal_of(request).service
    municipality = codes.ddas_municipality(municipality or (p.municipality or ""))
    if municipality not in export_municipalities(p, load_routes(service)):
        raise Hidden(f"levering {municipality}")
    start, end = _period(first, last)
    for found in export_pages(service, municipality, start, end):
        if found.number == page:
            service.record_access(who=p.actor, role=p.role.value, organisation=p.organisation, action="export",
                                  what=f"DDAS-levering {municipality} {start}..{end} deel {page}: "
                                       f"{found.signals} signalen")
            return found.document
    raise Hidden(f"deel {page}")


@router.get("/api/signals/export", tags=["signals"], summary="The DDAS delivery of a municipality and period",
            responses=COMMON)
def api_export(request: Request, principal: Caller, municipality: Annotated[str, Query(max_length=6)] = "",
               start: Annotated[str, Query(alias="from", max_length=10)] = "",
               end: Annotated[str, Query(alias="to", max_length=10)] = "",
               page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> JSONResponse:
    """Page `page` (50,000 signals each) of the delivery, valid against the DDAS v1.2 schema."""
    return JSONResponse(_export(request, principal, municipality, start, end, page))


# --- pages --------------------------------------------------------------------------------------------


def _page(request: Request, p: Principal, **context: Any) -> Response:
    routes = load_routes(portal_of(request).service)
    if not may_upload(p, routes) and not export_municipalities(p, routes):
        raise Refused("vroegsignalen zijn niet voor jouw rol")
    return render(request, "signals.html", {
        "may_upload": may_upload(p, routes), "municipalities": export_municipalities(p, routes),
        "report": None, "labels": {}, **context}, principal=p, title="Vroegsignalen",
        status_code=422 if context.get("report") is not None and context["report"].errors else 200)


@router.get("/signalen", include_in_schema=False)
def signals_page(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    return _page(request, principal)


@router.post("/signalen", include_in_schema=False)
async def signals_upload(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    _may_upload_or_refuse(request, principal)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("kies een bestand", {"file": "kies een bestand"})

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(1 << 20):
            yield chunk

    report = await _run(request, chunks(), upload.filename, principal)
    return _page(request, principal, report=report)


@router.get("/signalen/levering.json", include_in_schema=False)
def signals_download(request: Request, principal: Annotated[Principal, Depends(page_principal)],
                     municipality: Annotated[str, Query(max_length=6)] = "",
                     start: Annotated[str, Query(alias="from", max_length=10)] = "",
                     end: Annotated[str, Query(alias="to", max_length=10)] = "",
                     page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    document = _export(request, principal, municipality, start, end, page)
    name = f"ddas-{codes.ddas_municipality(municipality or principal.municipality or '')}-{start}-{end}-{page}.json"
    return JSONResponse(document, headers={"Content-Disposition": f'attachment; filename="{name}"'})
