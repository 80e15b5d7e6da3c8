"""The municipality's outcome dashboard: per pathway and period, tables and charts, CSV download."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from integrations.db.accounts import AccountRole
from web import reports
from web.i18n import translate
from web.pages.work import pathway_titles
from web.portal import Invalid
from web.principal import Principal
from web.timefmt import local
from web.ui import page_principal, portal_of, render

router = APIRouter(include_in_schema=False)
FIRST_REPORT_DAY, LAST_REPORT_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _within_range(name: str, day: date) -> date:
    """`day` when reports can be made for it; 0001-01-01 and 9999-12-31 used to overflow (a 500)."""
    if not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
        message = translate("Kies een datum tussen {first} en {last}.", "nl", first="1-1-2000", last="31-12-2099")
        raise Invalid(message, {name: message})
    return day


def period(request: Request, start: str, end: str) -> tuple[date, date]:
    """The chosen period; default the last twelve months up to today (Dutch time)."""
    today = local(portal_of(request).now()).date()
    try:
        last = _within_range("end", date.fromisoformat(end) if end else today)
        first = _within_range("start", date.fromisoformat(start) if start else
                              (last.replace(day=1) - timedelta(days=335)).replace(day=1))
    except ValueError:
        raise Invalid("a date is written as YYYY-MM-DD", {"start": "YYYY-MM-DD"}) from None
    if last < first:
        raise Invalid("the period ends before it starts", {"end": "after the start"})
    if (last - first).days > 366 * 10:
        raise Invalid("a period is at most ten years", {"start": "at most ten years"})
    return first, last


@router.get("/reports")
def dashboard(request: Request, principal: Annotated[Principal, Depends(page_principal)],
              pathway: Annotated[str, Query(max_length=64)] = "", start: Annotated[str, Query(max_length=10)] = "",
              end: Annotated[str, Query(max_length=10)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.ANALYST)
    lang = principal.language
    titles = pathway_titles(request)
    if pathway and pathway not in titles:
        pathway = ""
    try:
        first, last = period(request, start, end)
    except Invalid as exc:
        return render(request, "reports.html", {"report": None, "error": str(exc), "pathways": titles,
                                                "filters": {"pathway": pathway, "start": start, "end": end}},
                      principal=principal, status_code=422, title=translate("Uitkomsten", lang))
    report = portal.report(principal, pathway or None, first, last)
    charts = {t.key: reports.bar_chart(t, f"chart-{i}", lang) for i, t in enumerate(report.tables)
              if reports.chartable(t)}
    return render(request, "reports.html", {
        "report": report, "charts": charts, "pathways": titles, "error": "",
        "filters": {"pathway": pathway, "start": first.isoformat(), "end": last.isoformat()},
        "municipality": portal.settings.municipalities.get(principal.municipality or "", principal.municipality),
        "cell": lambda c, unit: reports.cell_text(c, unit, lang),
    }, principal=principal, title=translate("Uitkomsten", lang))


@router.get("/reports/outcomes.csv")
def csv_download(request: Request, principal: Annotated[Principal, Depends(page_principal)],
                 pathway: Annotated[str, Query(max_length=64)] = "", start: Annotated[str, Query(max_length=10)] = "",
                 end: Annotated[str, Query(max_length=10)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.ANALYST)
    first, last = period(request, start, end)
    report = portal.report(principal, pathway or None, first, last)
    name = f"uitkomsten-{principal.municipality}-{pathway or 'alle-paden'}-{first}-{last}.csv"
    return Response(reports.to_csv(report).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
