"""The analyst's outcome dashboard: per pathway and fixed period, tables and charts, CSV download.

Only whole months, quarters and years that have ended can be chosen (web/reports.py,
integrations/reporting/published.py): free dates let a reader difference single cases out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from engine.errors import ValidationError
from integrations.db.accounts import AccountRole
from integrations.reporting import periods
from web import reports
from web.i18n import translate
from web.pages.work import pathway_titles
from web.portal import Invalid
from web.principal import Principal
from web.ui import page_principal, portal_of, render

router = APIRouter(include_in_schema=False)


def chosen_period(request: Request, period: str, start: str, end: str) -> periods.Period:
    """The period asked for (see `reports.period_from`); Invalid naming the field otherwise."""
    try:
        return reports.period_from(period, start, end, portal_of(request).now())
    except ValidationError as exc:
        raise Invalid(str(exc), {"period": str(exc)}) from None


@router.get("/reports")
def dashboard(request: Request, principal: Annotated[Principal, Depends(page_principal)],
              pathway: Annotated[str, Query(max_length=64)] = "", period: Annotated[str, Query(max_length=10)] = "",
              start: Annotated[str, Query(max_length=10)] = "",
              end: Annotated[str, Query(max_length=10)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.ANALYST)
    lang = principal.language
    titles = pathway_titles(request)
    if pathway and pathway not in titles:
        pathway = ""
    options = periods.choices(portal.now())
    try:
        chosen = chosen_period(request, period, start, end)
        report = portal.report(principal, pathway or None, chosen)
    except Invalid as exc:
        return render(request, "reports.html", {"report": None, "error": str(exc), "pathways": titles,
                                                "periods": options,
                                                "filters": {"pathway": pathway, "period": period}},
                      principal=principal, status_code=422, title=translate("Uitkomsten", lang))
    charts = {t.key: reports.bar_chart(t, f"chart-{i}", lang) for i, t in enumerate(report.tables)
              if reports.chartable(t)}
    return render(request, "reports.html", {
        "report": report, "charts": charts, "pathways": titles, "error": "", "periods": options,
        "period": chosen,
        "filters": {"pathway": pathway, "period": chosen.code},
        "municipality": reports.scope_title(principal, portal.settings.municipalities),
        "cell": lambda c, unit: reports.cell_text(c, unit, lang),
    }, principal=principal, title=translate("Uitkomsten", lang))


@router.get("/reports/outcomes.csv")
def csv_download(request: Request, principal: Annotated[Principal, Depends(page_principal)],
                 pathway: Annotated[str, Query(max_length=64)] = "", period: Annotated[str, Query(max_length=10)] = "",
                 start: Annotated[str, Query(max_length=10)] = "",
                 end: Annotated[str, Query(max_length=10)] = "") -> Response:
    portal = portal_of(request)
    portal.require(principal, AccountRole.ANALYST)
    chosen = chosen_period(request, period, start, end)
    report = portal.report(principal, pathway or None, chosen)
    who = reports.scope_of(principal).replace(":", "-")
    name = f"uitkomsten-{who}-{pathway or 'alle-paden'}-{chosen.code}.csv"
    return Response(reports.to_csv(report).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
