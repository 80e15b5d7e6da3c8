"""The pathway as a drawn diagram: server-side SVG, no script, nothing from another site.

Each flow (the main flow, then each problem area) is a column of steps in the
order the pathway lists them. A step says what it is (task, wait, letter, ...),
who does it, its deadline and reminders/escalations, and its branches with the
condition in words ("als «Resultaat van het bezoek» is «Huurder gesproken»").
The next step in the list is reached by a straight arrow; any other branch by a
numbered line on the right that enters its target, so loops and jumps stay
visible. Styling comes from app.css (classes on the SVG), as the CSP allows.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from engine.definition import Pathway, Step, StepKind
from web.i18n import translate
from web.pathwayview import KIND_WORDS, duration

BOX_W = 420
LINE_H = 17
PAD = 10
GAP = 30
LANE = 14
WRAP = 56
_ICONS = {"human_task": "☐", "wait": "◷", "send_letter": "✉", "send_message": "✉", "notify_partner": "↗",
          "request_partner": "⇄", "tracks": "▤", "end": "■", "close_track": "■", "decision": "◇",
          "export_registration": "⇪"}


# --- conditions in words ---------------------------------------------------------------------------

def _field_words(path: str, pathway: Pathway, step: Step | None, steps: Mapping[str, Step]) -> tuple[str, Any]:
    """(label, schema) of `form.x`, `steps.s.x` or `case.x`."""
    parts = path.split(".")
    schema: Any = {}
    if parts[0] == "form" and len(parts) >= 2 and step is not None:
        schema = (step.form or step.params.get("answer") or {}).get("properties", {}).get(parts[1], {})
        name = parts[1]
    elif parts[0] == "steps" and len(parts) >= 3 and parts[1] in steps:
        source = steps[parts[1]]
        schema = (source.form or source.params.get("answer") or {}).get("properties", {}).get(parts[2], {})
        name = parts[2]
    elif parts[0] == "case" and len(parts) >= 2:
        schema = pathway.case_data.get("properties", {}).get(parts[1], {})
        name = parts[1]
    else:
        return path, {}
    schema = schema if isinstance(schema, Mapping) else {}
    return str(schema.get("title") or name.replace("_", " ")), schema


def _value_words(value: str, schema: Any, lang: str) -> str:
    raw = value.strip().strip("'\"")
    options = list(schema.get("oneOf") or schema.get("anyOf") or [])
    items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
    options += list((items or {}).get("oneOf") or [])
    for option in options:
        if isinstance(option, Mapping) and str(option.get("const")) == raw:
            return str(option.get("title") or raw)
    if raw == "true":
        return translate("ja", lang)
    if raw == "false":
        return translate("nee", lang)
    return raw


_PATH = r"((?:form|steps|case)\.[A-Za-z_][\w.]*)"


def condition_words(source: str, pathway: Pathway, step: Step | None, steps: Mapping[str, Step],
                    lang: str = "nl") -> str:
    """A CEL branch condition in words; what it cannot word stays as written."""
    def clause(text: str) -> str:
        text = text.strip().strip("()").strip()
        patterns: list[tuple[str, Any]] = [
            (rf"^{_PATH}\s*==\s*('[^']*'|\"[^\"]*\"|true|false|\d+)$", lambda m, f, s: f"«{f}» is «{_value_words(m.group(2), s, lang)}»"),
            (rf"^{_PATH}\s*!=\s*('[^']*'|\"[^\"]*\"|true|false|\d+)$", lambda m, f, s: f"«{f}» is niet «{_value_words(m.group(2), s, lang)}»"),
            (rf"^!{_PATH}$", lambda m, f, s: f"«{f}» is nee"),
            (rf"^{_PATH}$", lambda m, f, s: f"«{f}» is ja"),
            (rf"^size\({_PATH}\)\s*==\s*0$", lambda m, f, s: f"bij «{f}» niets gekozen"),
            (rf"^size\({_PATH}\)\s*>\s*0$", lambda m, f, s: f"bij «{f}» iets gekozen"),
            (rf"^('[^']*')\s+in\s+{_PATH}$", None),
            (rf"^{_PATH}\s+in\s+\[(.*)\]$", lambda m, f, s: f"«{f}» is " + " of ".join(
                f"«{_value_words(v, s, lang)}»" for v in m.group(2).split(","))),
            (rf"^{_PATH}\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)$", lambda m, f, s: f"«{f}» {m.group(2)} {m.group(3)}"),
        ]
        for pattern, words in patterns:
            found = re.match(pattern, text)
            if found is None:
                continue
            if words is None:  # 'v' in steps.x.list
                label, schema = _field_words(found.group(2), pathway, step, steps)
                return f"«{_value_words(found.group(1), schema, lang)}» gekozen bij «{label}»"
            label, schema = _field_words(found.group(1), pathway, step, steps)
            return str(words(found, label, schema))
        return text

    ors = [" en ".join(clause(part) for part in alternative.split("&&")) for alternative in source.split("||")]
    return " of ".join(ors)


# --- layout ----------------------------------------------------------------------------------------

@dataclass
class _Node:
    step: Step
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    y: int = 0
    height: int = 0
    branches: list[tuple[str, str]] = field(default_factory=list)  # (target id, label)


def _target_title(step_id: str, steps: Mapping[str, Step], pathway: Pathway, lang: str) -> str:
    target = steps.get(step_id)
    if target is None:
        return step_id
    if target.kind == StepKind.END.value:
        outcome = next((o.label for o in pathway.outcomes if o.code == target.outcome), target.outcome or "")
        return translate("einde: {outcome}", lang, outcome=outcome)
    return target.title or target.id


def _node(step: Step, steps: Mapping[str, Step], pathway: Pathway, roles: Mapping[str, str], lang: str,
          owner: str | None) -> _Node:
    node = _Node(step)
    kind = translate(KIND_WORDS.get(step.kind, step.kind), lang)
    title = _target_title(step.id, steps, pathway, lang) if step.kind == StepKind.END.value else (step.title or step.id)
    node.lines.append(("d-title", f"{_ICONS.get(step.kind, '•')} {kind}: {title}"))
    if step.kind == StepKind.HUMAN_TASK.value:
        role = roles.get(step.role or owner or "", step.role or owner or "")
        node.lines.append(("d-meta", f"{role} · binnen {duration(step.due, lang)}" if step.due else role))
        if step.reminders:
            node.lines.append(("d-timer", "◷ " + ", ".join(
                (f"herinnering {duration(r.before, lang)} vooraf" if r.before else
                 f"herinnering {duration(r.after, lang)} te laat") for r in step.reminders)))
        for rung in step.escalation:
            verb = {"notify": "melden aan", "reassign": "overdragen aan", "raise": "escalatie naar"}.get(
                rung.action.value, rung.action.value)
            node.lines.append(("d-escalation", f"⚠ na {duration(rung.after, lang)}: {verb} {roles.get(rung.to, rung.to)}"))
    elif step.kind == "wait" and step.params.get("for"):
        node.lines.append(("d-timer", f"◷ {duration(step.params['for'], lang)} wachten"))
    elif step.kind == StepKind.TRACKS.value:
        which = ", ".join(step.tracks) if step.tracks else "gekozen bij de intake"
        node.lines.append(("d-meta", f"probleemgebieden: {which} ({'na elkaar' if step.mode.value == 'sequential' else 'tegelijk'})"))
    if step.timeout:
        node.lines.append(("d-timer", f"◷ geen antwoord na {duration(step.timeout, lang)} → "
                                      f"{_target_title(step.on_timeout or '', steps, pathway, lang)}"))
        node.branches.append((step.on_timeout or "", "geen antwoord"))
    if step.max_visits and step.on_max_visits:
        node.lines.append(("d-meta", f"hoogstens {step.max_visits} keer, daarna → "
                                     f"{_target_title(step.on_max_visits, steps, pathway, lang)}"))
        node.branches.append((step.on_max_visits, f"na {step.max_visits} keer"))
    for branch in step.next:
        words = condition_words(branch.when.source, pathway, step, steps, lang) if branch.when else \
            ("anders" if len(step.next) > 1 else "")
        target = _target_title(branch.goto, steps, pathway, lang)
        node.branches.append((branch.goto, words))
        node.lines.append(("d-branch", f"→ {target}" + (f": als {words}" if branch.when else
                                                         (" (anders)" if words else ""))))
    wrapped: list[tuple[str, str]] = []
    for css, text in node.lines:
        for part in textwrap.wrap(text, WRAP) or [""]:
            wrapped.append((css, part))
    node.lines = wrapped
    node.height = PAD * 2 + LINE_H * len(node.lines)
    return node


def _flow_svg(title: str, flow_steps: Sequence[Step], steps: Mapping[str, Step], pathway: Pathway,
              roles: Mapping[str, str], lang: str, owner: str | None = None) -> str:
    nodes = [_node(s, steps, pathway, roles, lang, owner) for s in flow_steps]
    index = {n.step.id: i for i, n in enumerate(nodes)}
    y = 34
    for node in nodes:
        node.y = y
        y += node.height + GAP
    jumps = [(i, index[target], label) for i, n in enumerate(nodes) for target, label in n.branches
             if target in index and index[target] != i + 1]
    width = BOX_W + 40 + LANE * (len(jumps) + 1) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {y}" width="{width}" '
           f'height="{y}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="d-arrowhead"/></marker></defs>',
           f'<text x="4" y="20" class="d-heading">{escape(title)}</text>']
    for i, node in enumerate(nodes):
        css = "d-node d-" + node.step.kind.replace("_", "-")
        out.append(f'<g id="d-{escape(node.step.id)}"><rect x="4" y="{node.y}" width="{BOX_W}" height="{node.height}" '
                   f'rx="6" class="{css}"/>')
        for k, (line_css, text) in enumerate(node.lines):
            out.append(f'<text x="{4 + PAD}" y="{node.y + PAD + LINE_H * (k + 1) - 4}" class="{line_css}">'
                       f'{escape(text)}</text>')
        out.append("</g>")
        if i + 1 < len(nodes) and any(target == nodes[i + 1].step.id for target, _ in node.branches):
            out.append(f'<line x1="{4 + BOX_W // 2}" y1="{node.y + node.height}" x2="{4 + BOX_W // 2}" '
                       f'y2="{nodes[i + 1].y - 2}" class="d-edge" marker-end="url(#arrow)"/>')
    for lane, (start, end, label) in enumerate(jumps):
        x = 4 + BOX_W + 16 + LANE * lane
        y1 = nodes[start].y + 14 + (lane % 3) * 6
        y2 = nodes[end].y + 14 + (lane % 3) * 6
        css = "d-edge d-back" if end < start else "d-edge"
        out.append(f'<path d="M{4 + BOX_W},{y1} H{x} V{y2} H{4 + BOX_W + 2}" class="{css}" fill="none" '
                   f'marker-end="url(#arrow)"><title>{escape(label)}</title></path>')
    out.append("</svg>")
    return "".join(out)


def svg(pathway: Pathway, lang: str = "nl") -> list[tuple[str, Markup]]:
    """(flow title, SVG) for the main flow and each problem area."""
    roles = {r.id: r.title for r in pathway.roles}
    steps: dict[str, Step] = {s.id: s for s in pathway.steps}
    for track in pathway.tracks:
        steps.update({s.id: s for s in track.steps})
    drawn = [(translate("Hoofdroute", lang), Markup(_flow_svg(pathway.title, pathway.steps, steps, pathway, roles,
                                                              lang)))]
    for track in pathway.tracks:
        drawn.append((track.title, Markup(_flow_svg(f"{translate('Probleemgebied', lang)}: {track.title}",
                                                    track.steps, steps, pathway, roles, lang, track.owner))))
    return drawn
