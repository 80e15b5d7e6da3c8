"""Semantic checks of the pathway constructs for privacy, roles, time, partners and registration.

Called by `engine.semantic_check.SemanticChecker.run`; every problem is located
at the element it is about. What is checked:

- `access.teams`, `role_scope` and `shared` roles (shared only means something
  with `role_scope: pathway`);
- calendars per role and step: the calendar a duration counts in (for
  working days and working weeks);
- `may_receive` of partners and `message_templates` (each `{field}` one the
  partner may receive; `{due}` only where there is a due date);
- the `template` param of notify_partner / request_partner;
- `registration` (fields from declared, non-personal case fields or case
  facts; code lists declared and covering every enum value);
- `handover` (mapped fields declared) and `joint_decision` (its decision form).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from engine.definition import CalendarKind, RoleKind, StepKind
from engine.partner_messages import DUE, placeholders
from engine.problem_texts import any_words, one_of, text
from engine.registration import CASE_FACTS
from engine.schema_check import check_embedded_schema
from engine.suggest import did_you_mean
from engine.yaml_source import PathKey

if TYPE_CHECKING:
    from engine.semantic_check import SemanticChecker, _Step


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _roles(ch: SemanticChecker) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for role in _list(ch.data.get("roles")):
        role_id = _text(_dict(role).get("id"))
        if role_id is not None:
            found.setdefault(role_id, _dict(role))
    return found


def _case_fields(ch: SemanticChecker) -> dict[str, Any]:
    return _dict(ch.case_schema.get("properties"))


def calendar_at(ch: SemanticChecker, path: PathKey) -> str | None:
    """The calendar a duration at `path` counts in: its step's, else its role's, else the pathway's."""
    roles = _roles(ch)

    def of_role(role_id: Any) -> str | None:
        return _text(roles.get(role_id, {}).get("calendar")) if isinstance(role_id, str) else None

    for step in ch.steps.values():
        if path[:len(step.path)] == step.path:
            own = _text(step.data.get("calendar"))
            if own is not None:
                return own
            role_id = step.data.get("role") or _dict(step.data.get("params")).get("role")
            if role_id is None and step.flow:
                tracks = [_dict(t) for t in _list(ch.data.get("tracks"))]
                role_id = next((t.get("owner") for t in tracks if t.get("id") == step.flow), None)
            return of_role(role_id) or ch.calendar
    if path[:1] == ("evaluation",):
        return of_role(_dict(ch.data.get("evaluation")).get("role")) or ch.calendar
    return ch.calendar


def run(ch: SemanticChecker) -> None:
    _check_role_scope(ch)
    _check_may_receive(ch)
    _check_templates(ch)
    for step in ch.steps.values():
        _check_step(ch, step)
    _check_registration(ch)


def _check_role_scope(ch: SemanticChecker) -> None:
    if ch.data.get("role_scope") == "pathway":
        return
    for index, role in enumerate(_list(ch.data.get("roles"))):
        if _dict(role).get("shared") is True:
            ch.report(("roles", index, "shared"), text("shared-zonder-role-scope"), text("hint-role-scope"), key=True)


def _check_may_receive(ch: SemanticChecker) -> None:
    fields = _case_fields(ch)
    for index, role in enumerate(_list(ch.data.get("roles"))):
        role = _dict(role)
        if "may_receive" in role and role.get("kind") != RoleKind.PARTNER.value:
            ch.report(("roles", index, "may_receive"), text("may-receive-alleen-partner"), key=True)
        for n, name in enumerate(_list(role.get("may_receive"))):
            if isinstance(name, str) and name not in fields:
                ch.report(("roles", index, "may_receive", n), text("geen-zaakveld", name=name),
                          did_you_mean(name, fields) or text("hint-alleen-zaakvelden"))


def _templates(ch: SemanticChecker) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for template in _list(ch.data.get("message_templates")):
        template_id = _text(_dict(template).get("id"))
        if template_id is not None:
            found.setdefault(template_id, _dict(template))
    return found


def _check_templates(ch: SemanticChecker) -> None:
    roles = _roles(ch)
    seen: set[str] = set()
    for index, template in enumerate(_list(ch.data.get("message_templates"))):
        template = _dict(template)
        template_id = _text(template.get("id"))
        if template_id is not None:
            if template_id in seen:
                ch.report(("message_templates", index, "id"), text("sjabloon-id-dubbel", template=template_id),
                          text("hint-id-uniek"))
            seen.add(template_id)
        partner = _text(template.get("partner"))
        if partner is None:
            continue
        role = roles.get(partner)
        if role is None:
            ch.report(("message_templates", index, "partner"), text("onbekende-rol", role=partner),
                      did_you_mean(partner, roles) or text("hint-gedeclareerde-rollen", options=one_of(roles)))
            continue
        if role.get("kind") != RoleKind.PARTNER.value:
            ch.report(("message_templates", index, "partner"),
                      text("sjabloon-niet-voor-partner", role=partner, kind=str(role.get("kind"))))
            continue
        allowed = [f for f in _list(role.get("may_receive")) if isinstance(f, str)]
        body = _text(template.get("text")) or ""
        for _offset, name in placeholders(body):
            if name == DUE:
                continue
            if name not in allowed:
                ch.report(("message_templates", index, "text"),
                          text("sjabloon-veld-niet-toegestaan", name=name, partner=partner),
                          text("hint-mag-ontvangen-lijst", options=one_of(allowed), name=name, partner=partner)
                          if allowed else text("hint-mag-ontvangen", name=name, partner=partner))


def _check_step(ch: SemanticChecker, step: _Step) -> None:
    params = _dict(step.data.get("params"))
    if step.kind in ("notify_partner", "request_partner"):
        _check_template_param(ch, step, params)
    elif step.kind == "handover":
        _check_handover(ch, step, params)
    elif step.kind == "joint_decision":
        decision = params.get("decision")
        if isinstance(decision, dict):
            ch.problems.extend(check_embedded_schema(ch.doc, (*step.path, "params", "decision"), decision,
                                                     "deel-wat-besluit"))
            if "name" in _dict(decision.get("properties")):
                ch.report((*step.path, "params", "decision", "properties", "name"),
                          text("besluit-naam-ingebouwd"), text("hint-besluit-naam"), key=True)
    if step.kind in (StepKind.END.value, StepKind.CLOSE_TRACK.value) and "calendar" in step.data:
        return  # reported by the structural check


def _check_template_param(ch: SemanticChecker, step: _Step, params: dict[str, Any]) -> None:
    text_key = "message" if step.kind == "notify_partner" else "question"
    has = [k for k in (text_key, "template") if k in params]
    if not has and isinstance(step.data.get("params"), dict):
        ch.report((*step.path, "params", text_key), text("param-ontbreekt", key=text_key, step=step.id))
    elif len(has) == 2:
        ch.report((*step.path, "params", "template"), text("tekst-of-sjabloon", kind=step.kind, key=text_key),
                  text("hint-tekst-of-sjabloon", key=text_key), key=True)
    template_id = _text(params.get("template"))
    if template_id is None:
        return
    templates = _templates(ch)
    template = templates.get(template_id)
    if template is None:
        ch.report((*step.path, "params", "template"), text("onbekend-sjabloon", template=template_id),
                  did_you_mean(template_id, templates) or
                  (text("hint-gedeclareerde-sjablonen", options=one_of(templates)) if templates
                   else text("hint-sjabloon-declareren")))
        return
    partner = _text(params.get("partner"))
    if partner is not None and template.get("partner") != partner:
        ch.report((*step.path, "params", "template"),
                  text("sjabloon-andere-partner", template=template_id, written=str(template.get("partner")),
                       partner=partner),
                  text("hint-sjabloon-partner"))
    if step.kind == "notify_partner" and any(name == DUE for _, name in placeholders(_text(template.get("text")) or "")):
        ch.report((*step.path, "params", "template"),
                  text("sjabloon-due-zonder-termijn", template=template_id), text("hint-sjabloon-due"))


def _check_handover(ch: SemanticChecker, step: _Step, params: dict[str, Any]) -> None:
    fields = _case_fields(ch)
    for target, source in _dict(params.get("map")).items():
        if isinstance(source, str) and source not in fields:
            ch.report((*step.path, "params", "map", target), text("geen-zaakveld", name=source),
                      did_you_mean(source, fields) or text("hint-map-zaakvelden"))
    if params.get("pathway") == ch.data.get("id"):
        ch.report((*step.path, "params", "pathway"), text("overdracht-zelfde-zorgpad"))
    if "timeout" in step.data and params.get("wait") is not True:
        ch.report((*step.path, "timeout"), text("timeout-zonder-wait"), text("hint-timeout-wait"), key=True)


def _registration_fields(ch: SemanticChecker) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, item in enumerate(_list(_dict(ch.data.get("registration")).get("fields"))):
        yield index, _dict(item)


def _check_registration(ch: SemanticChecker) -> None:
    registration = _dict(ch.data.get("registration"))
    if not registration:
        _check_export_model(ch, None)
        return
    fields = _case_fields(ch)
    personal = {p for p in _list(ch.data.get("personal_data")) if isinstance(p, str)}
    code_lists = _dict(registration.get("code_lists"))
    names: set[str] = set()
    for index, item in _registration_fields(ch):
        path: PathKey = ("registration", "fields", index)
        name = _text(item.get("name"))
        if name is not None:
            if name in names:
                ch.report((*path, "name"), text("exportveld-dubbel", name=name))
            names.add(name)
        source = _text(item.get("from"))
        if source is not None:
            if source in personal:
                ch.report((*path, "from"), text("persoonsgegeven-in-export", name=source),
                          text("hint-niet-identificerend"))
            elif source not in fields and source not in CASE_FACTS:
                ch.report((*path, "from"), text("geen-veld-of-feit", name=source),
                          did_you_mean(source, [*fields, *CASE_FACTS])
                          or text("hint-zaakfeiten", options=one_of(list(CASE_FACTS))))
        code_list = _text(item.get("code_list"))
        if code_list is None:
            continue
        if code_list not in code_lists:
            ch.report((*path, "code_list"), text("onbekende-codelijst", list=code_list),
                      did_you_mean(code_list, code_lists) or text("hint-codelijst-declareren"))
            continue
        schema = _dict(fields.get(source)) if source else {}
        values = _list(schema.get("enum")) or _list(_dict(schema.get("items")).get("enum"))
        missing = [v for v in values if str(v) not in _dict(code_lists[code_list])]
        if missing:
            ch.report((*path, "code_list"),
                      text("codelijst-mist-codes", list=code_list, values=one_of([str(v) for v in missing]),
                           field=str(source)),
                      text("hint-elke-waarde-code"))
    _check_export_model(ch, _text(registration.get("model")))


def _check_export_model(ch: SemanticChecker, declared: str | None) -> None:
    for step in ch.steps.values():
        if step.kind != "export_registration":
            continue
        model = _text(_dict(step.data.get("params")).get("model"))
        if model is not None and model != "amw" and model != declared:
            ch.report((*step.path, "params", "model"), text("onbekend-registratiemodel", model=model),
                      text("hint-registratiemodel", options=any_words(["amw", declared] if declared else ["amw"])))


def working_calendar_problem(ch: SemanticChecker, path: PathKey) -> str | None:
    """Where a working-day duration cannot count, as a catalogue code ('this pathway runs', ...) on 24x7, else None."""
    calendar = calendar_at(ch, path)
    if calendar != CalendarKind.ALWAYS.value:
        return None
    if calendar == ch.calendar and not any(path[:len(s.path)] == s.path and "calendar" in s.data
                                           for s in ch.steps.values()):
        return "deel-dit-zorgpad-loopt" if calendar == ch.calendar else "deel-de-rol-loopt"
    return "deel-deze-stap-loopt"


def recorded_form(kind: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The fields a hand-over or joint decision step records (for `form.` and `steps.<id>.`), else None."""
    if kind == "handover":
        return {"type": "object", "properties": {"child_case": {"type": "string"}, "outcome": {"type": "string"}}}
    if kind == "joint_decision":
        decision = _dict(params.get("decision"))
        return {"type": "object", "properties": {
            **_dict(decision.get("properties")),
            "agreed": {"type": "boolean"}, "worker": {"type": "string"}, "partner": {"type": "string"},
            "partner_name": {"type": "string"}, "partner_decision": {"type": "object"},
        }}
    return None
