"""One task: its form (generated from the step's JSON Schema), drafts, claiming, completing, reassigning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.datastructures import FormData

from engine.compiled import evaluation_form_schema
from engine.state import TaskStatus, TaskType, TrackStatus
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session
from web import consequences, forms, timefmt
from web.i18n import translate
from web.portal import Conflict, Invalid, Portal, TaskBundle
from web.principal import Principal
from web.ui import form_principal, is_htmx, page_principal, portal_of, redirect, render, safe_next

router = APIRouter(include_in_schema=False)

EVAL_BUILTIN = ("track_reviews", "close_tracks", "add_tracks", "focus")
RESULTS = (("achieved", "Behaald"), ("not_achieved", "Niet behaald"), ("stopped", "Gestopt"))


# --- evaluation form: the built-in track review, plus the pathway's own fields --------------------


def evaluation_raw(form: FormData, bundle: TaskBundle) -> dict[str, Any]:
    schema = bundle.schema
    own = {"type": "object", "properties": {k: v for k, v in schema["properties"].items() if k not in EVAL_BUILTIN}}
    raw = forms.raw_values(own, form)
    for track in bundle.state.tracks:
        for key in (f"review.{track}", f"close.{track}"):
            if form.get(key) is not None:
                raw[key] = str(form.get(key))
    raw["add_tracks"] = [str(v) for v in form.getlist("add_tracks")]
    if form.get("focus") is not None:
        raw["focus"] = str(form.get("focus"))
    return raw


def evaluation_data(raw: Mapping[str, Any], bundle: TaskBundle, lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    schema = bundle.schema
    own = {"type": "object", "properties": {k: v for k, v in schema["properties"].items() if k not in EVAL_BUILTIN},
           "required": schema.get("required", [])}
    data, errors = forms.parse(own, raw, lang)
    reviews, closing = [], []
    for track_id, track in bundle.state.tracks.items():
        if track.status is not TrackStatus.ACTIVE:
            continue
        text = str(raw.get(f"review.{track_id}") or "").strip()
        if text:
            if len(text) > 2000:
                errors[f"review.{track_id}"] = translate("Hoogstens {n} tekens.", lang, n=2000)
            reviews.append({"track": track_id, "progress": text})
        result = str(raw.get(f"close.{track_id}") or "")
        if result:
            if result not in dict(RESULTS):
                errors[f"close.{track_id}"] = translate("Kies uit de mogelijkheden.", lang)
            else:
                closing.append({"track": track_id, "result": result})
    if reviews:
        data["track_reviews"] = reviews
    if closing:
        data["close_tracks"] = closing
    addable = {t.id for t in bundle.cp.pathway.tracks if t.id not in bundle.state.tracks}
    added = [t for t in raw.get("add_tracks") or [] if t]
    if added:
        if not set(added) <= addable:
            errors["add_tracks"] = translate("Kies uit de mogelijkheden.", lang)
        data["add_tracks"] = [t for t in added if t in addable]
    focus = str(raw.get("focus") or "")
    if focus:
        data["focus"] = focus
    own_errors, _general = forms.validate(own, {k: v for k, v in data.items() if k not in EVAL_BUILTIN}, lang)
    for key, message in own_errors.items():
        errors.setdefault(key, message)
    return data, errors


def _own_schema(bundle: TaskBundle) -> dict[str, Any]:
    schema = bundle.schema
    return {"type": "object", "properties": {k: v for k, v in schema["properties"].items() if k not in EVAL_BUILTIN},
            "required": schema.get("required", []), "allOf": schema.get("allOf", [])}


# --- rendering ------------------------------------------------------------------------------------


def _task_context(portal: Portal, bundle: TaskBundle, lang: str, raw: Mapping[str, Any] | None,
                  errors: Mapping[str, str] | None, general: list[str] | None = None,
                  conflict: Conflict | None = None) -> dict[str, Any]:
    task, state, cp = bundle.task, bundle.state, bundle.cp
    values: Mapping[str, Any] = raw if raw is not None else (bundle.draft.data if bundle.draft else {})
    is_evaluation = task.type is TaskType.EVALUATION
    schema = _own_schema(bundle) if is_evaluation else bundle.schema
    fields = forms.build_fields(schema, values, errors or {}, lang)
    roles = {r.id: r.title for r in cp.pathway.roles}
    tracks = []
    if is_evaluation:
        for track_id in state.track_order + [k for k in state.tracks if k not in state.track_order]:
            track = state.tracks.get(track_id)
            if track is None:
                continue
            template = cp.tracks.get(track_id)
            tracks.append({
                "id": track_id, "title": template.title if template else track_id,
                "goal": template.goal if template else "", "status": track.status.value,
                "review": values.get(f"review.{track_id}", ""), "close": values.get(f"close.{track_id}", ""),
                "last": track.progress[-1]["progress"] if track.progress else "",
                "review_error": (errors or {}).get(f"review.{track_id}", ""),
            })
    addable = [(t.id, t.title) for t in cp.pathway.tracks if t.id not in state.tracks] \
        if is_evaluation and state.tracks_step else []
    completed_answers = []
    if task.status is TaskStatus.COMPLETED and task.data:
        from web.caseview import form_answers

        completed_answers = form_answers(evaluation_form_schema(cp.pathway) if is_evaluation else bundle.schema,
                                         task.data, lang)
    case_items = []
    props = cp.pathway.case_data.get("properties", {})
    from web.caseview import display_value

    for key, sub in props.items():
        if key in state.data:
            case_items.append((str(sub.get("title") or key), display_value(sub, state.data[key], lang),
                               key in cp.pathway.personal_data))
    return {
        "bundle": bundle, "task": task, "state": state, "pathway": cp.pathway, "fields": fields,
        "errors": errors or {}, "general": general or [], "tracks": tracks, "addable": addable,
        "focus": values.get("focus", ""), "added": values.get("add_tracks", []), "results": RESULTS,
        "role_title": roles.get(task.role, task.role), "conflict": conflict, "answers": completed_answers,
        "case_items": case_items, "is_evaluation": is_evaluation,
        "instructions": (bundle.step.instructions if bundle.step else
                         (cp.pathway.evaluation.instructions if cp.pathway.evaluation and is_evaluation else "")),
        "draft_saved": timefmt.fmt_datetime(bundle.draft.saved_at, lang) if bundle.draft else "",
    }


def _render_task(request: Request, principal: Principal, bundle: TaskBundle, raw: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None, general: list[str] | None = None,
                 conflict: Conflict | None = None, status: int = 200, confirm: list[str] | None = None) -> HTMLResponse:
    portal = portal_of(request)
    context = _task_context(portal, bundle, principal.language, raw, errors, general, conflict)
    context["confirm"] = confirm or []
    if principal.role is AccountRole.COORDINATOR and bundle.task.status is TaskStatus.OPEN:
        from integrations.db import accounts

        with read_session(portal.db) as session:
            context["colleagues"] = [a for a in accounts.list_accounts(session, teams=[bundle.state.team or ""])
                                     if a.active and a.role in (AccountRole.WORKER, AccountRole.COORDINATOR)]
        context["case_roles"] = [(r.id, r.title) for r in bundle.cp.pathway.roles
                                 if r.kind.value in ("worker", "coordinator", "manager")]
    return render(request, "task.html", context, principal=principal, status_code=status, title=bundle.task.title)


@router.get("/tasks/{task_id}")
def task_page(request: Request, task_id: str, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    bundle = portal_of(request).task_page(principal, task_id)
    return _render_task(request, principal, bundle)


def _read_submission(form: FormData, bundle: TaskBundle, lang: str) -> tuple[dict[str, Any], dict[str, Any],
                                                                               dict[str, str], list[str]]:
    """(raw texts, data, field errors, general errors) of a submitted task form."""
    if bundle.task.type is TaskType.EVALUATION:
        raw = evaluation_raw(form, bundle)
        data, errors = evaluation_data(raw, bundle, lang)
        return raw, data, errors, []
    raw = forms.raw_values(bundle.schema, form)
    data, errors = forms.parse(bundle.schema, raw, lang)
    field_errors, general = forms.validate(bundle.schema, data, lang)
    for key, message in field_errors.items():
        errors.setdefault(key, message)
    return raw, data, errors, general


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    lang = principal.language
    form = await request.form()
    bundle = portal.task_page(principal, task_id, audit=False)
    portal.require_task_role(principal, bundle.task, bundle.state)  # role and assignee before the form is read or checked
    if bundle.task.status is not TaskStatus.OPEN or (bundle.task.assignee not in (None, principal.actor)):
        portal.audit(principal, "view", f"task {task_id}: completed or taken by a colleague first", bundle.state.id)
        conflict = _conflict_of(portal, principal, bundle)
        kept = evaluation_raw(form, bundle) if bundle.task.type is TaskType.EVALUATION else \
            forms.raw_values(bundle.schema, form)  # what was typed stays on screen; nothing is validated
        return _render_task(request, principal, bundle, kept, {}, [], conflict, status=409)
    raw, data, errors, general = _read_submission(form, bundle, lang)
    if errors or general:
        portal.audit(principal, "view", f"task {task_id} ({bundle.task.step_id}): form returned with errors",
                     bundle.state.id)
        return _render_task(request, principal, bundle, raw, errors, general, status=422)
    if form.get("bevestigd") != "ja":
        ending = consequences.preview(portal.service.engine, bundle.cp, bundle.state, task_id, data,
                                      actor=principal.actor, now=portal.now(), lang=lang)
        if ending:
            portal.audit(principal, "view", f"task {task_id} ({bundle.task.step_id}): asked to confirm an answer "
                                            "that ends the case or a problem area", bundle.state.id)
            return _render_task(request, principal, bundle, raw, {}, [], confirm=ending.sentences(lang))
    try:
        result = portal.complete(principal, task_id, data)
    except Conflict as exc:
        portal.audit(principal, "view", f"task {task_id}: completed or taken by a colleague first", bundle.state.id)
        fresh = portal.task_page(principal, task_id, audit=False)
        return _render_task(request, principal, fresh, raw, {}, [], exc, status=409)
    except Invalid as exc:
        portal.audit(principal, "view", f"task {task_id} ({bundle.task.step_id}): form returned with errors",
                     bundle.state.id)
        return _render_task(request, principal, bundle, raw, exc.fields, [str(exc)], status=422)
    next_tasks = [t for t in result.opened_tasks]
    message = translate("Taak afgerond: {title}.", lang, title=bundle.task.title)
    if next_tasks:
        message += " " + translate("Er staat een nieuwe taak klaar.", lang)
    return redirect(f"/cases/{bundle.state.id}", message)


def _conflict_of(portal: Portal, principal: Principal, bundle: TaskBundle) -> Conflict:
    task = bundle.task
    by = task.completed_by if task.status is TaskStatus.COMPLETED else task.assignee
    name = bundle.names.get(by or "", by) if by else None
    return Conflict(f"task {task.id} is {task.status.value}", task, name)


@router.post("/tasks/{task_id}/draft")
async def save_draft(request: Request, task_id: str,
                     principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    bundle = portal.task_page(principal, task_id, audit=False)
    if bundle.task.type is TaskType.EVALUATION:
        raw = evaluation_raw(form, bundle)
    else:
        raw = forms.raw_values(bundle.schema, form)
    saved = portal.save_draft(principal, task_id, raw)
    text = translate("Concept opgeslagen om {time}.", principal.language,
                     time=timefmt.local(saved).strftime("%H:%M"))
    if is_htmx(request):
        return PlainTextResponse(text)
    return redirect(f"/tasks/{task_id}", text)


@router.post("/tasks/{task_id}/claim")
async def claim(request: Request, task_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), f"/tasks/{task_id}")
    try:
        portal.claim(principal, task_id)
    except Conflict as exc:
        who = exc.by or translate("een collega", principal.language)
        return redirect(back, translate("Deze taak is al opgepakt door {who}.", principal.language, who=who), "error")
    return redirect(back, translate("Taak opgepakt: hij staat nu op jouw naam.", principal.language))


@router.post("/tasks/{task_id}/release")
async def release(request: Request, task_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    try:
        portal.release(principal, task_id)
    except Conflict as exc:
        return redirect(f"/tasks/{task_id}", str(exc), "error")
    return redirect("/work", translate("Taak teruggezet in de wachtrij.", principal.language))


@router.post("/tasks/{task_id}/reassign")
async def reassign(request: Request, task_id: str, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    worker = str(form.get("worker") or "") or None
    role = str(form.get("role") or "") or None
    reason = str(form.get("reason") or "").strip() or None
    carry = form.get("carry_case") == "true"
    back = safe_next(str(form.get("next") or ""), f"/tasks/{task_id}")
    try:
        portal.reassign(principal, task_id, worker=worker, role=role, reason=reason, carry_case=carry)
    except (Conflict, Invalid) as exc:
        return redirect(back, str(exc), "error")
    return redirect(back, translate("Taak overgedragen.", principal.language))
