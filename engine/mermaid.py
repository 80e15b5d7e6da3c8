"""A pathway as a Mermaid `flowchart TD`, for reviewing a flow with a team.

Steps are nodes labelled with their titles (shape by kind), branch conditions
are edge labels, tracks are subgraphs and end steps show the outcome. Node
ids are prefixed (`s_`, `t_`) so step ids such as `end` cannot clash with
Mermaid keywords; labels are quoted and escaped so Dutch text, quotes and
CEL operators render as written.
"""

from __future__ import annotations

from engine.definition import Pathway, Step, StepKind, TrackTemplate
from engine.duration_words import describe

_RESULT_WORDS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}
_WORDS = {  # Dutch word: English word (language "en")
    "Einde": "End", "Probleemgebied klaar": "Problem area done", "behaald": "achieved", "niet behaald": "not achieved",
    "gestopt": "stopped", "na {n}x": "after {n}x", "geen antwoord na {d}": "no answer after {d}", "Start": "Start",
}
# The kinds of the other steps, as the pathway page names them (web/pathwayview.py KIND_WORDS): Dutch, English.
_KIND_WORDS = {
    "send_letter": ("Brief", "Letter"), "send_message": ("Bericht", "Message"),
    "notify_partner": ("Partner informeren", "Inform partner"), "request_partner": ("Vraag aan partner", "Partner request"),
    "wait": ("Wachten", "Wait"), "export_registration": ("Registratie", "Registration"),
    "handover": ("Overdracht naar ander zorgpad", "Hand-over to another pathway"),
    "joint_decision": ("Gezamenlijk besluit met partner", "Joint decision with partner"),
}


def _w(text: str, language: str, **values: object) -> str:
    chosen = _WORDS.get(text, text) if language == "en" else text
    return chosen.format(**values) if values else chosen
_ESCAPES = (("#", "#35;"), ("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;"), ("`", "#96;"))


def label(text: str) -> str:
    """`text` as a quoted Mermaid label: one line, entity-escaped."""
    flat = " ".join(text.split())
    for raw, escaped in _ESCAPES:
        flat = flat.replace(raw, escaped)
    return f'"{flat}"'


def _role_title(pathway: Pathway, role_id: str) -> str:
    return next((r.title for r in pathway.roles if r.id == role_id), role_id)


def _node(step: Step, pathway: Pathway, language: str = "nl", owner: str | None = None) -> str:
    title = step.title or step.id
    node_id = f"s_{step.id}"
    if step.kind == StepKind.END.value:
        outcome = next((o.label for o in pathway.outcomes if o.code == step.outcome), step.outcome or "")
        text = _w("Einde", language) + f": {outcome}"
        return f"{node_id}([{label(text)}])"
    if step.kind == StepKind.CLOSE_TRACK.value:
        result = _w(_RESULT_WORDS.get(step.result or "", step.result or ""), language)
        text = _w("Probleemgebied klaar", language) + f": {result}"
        return f"{node_id}([{label(text)}])"
    if step.kind == StepKind.DECISION.value:
        return f"{node_id}{{{label(title)}}}"
    if step.kind == StepKind.TRACKS.value:
        return f"{node_id}[[{label(title)}]]"
    if step.kind == StepKind.HUMAN_TASK.value:
        role = step.role or owner
        details = [_role_title(pathway, role)] if role else []
        if step.due is not None:
            details.append(describe(step.due, language))
        text = f"{title} ({', '.join(details)})" if details else title
        return f"{node_id}[{label(text)}]"
    nl, en = _KIND_WORDS.get(step.kind, (step.kind, step.kind))
    kind = en if language == "en" else nl
    return f"{node_id}[/{label(f'{kind}: {title}')}/]"


def _edges(step: Step, language: str = "nl") -> list[str]:
    lines = []
    for branch in step.next:
        arrow = f" -->|{label(branch.when.source)}| " if branch.when is not None else " --> "
        lines.append(f"  s_{step.id}{arrow}s_{branch.goto}")
    if step.on_max_visits is not None:
        lines.append(f"  s_{step.id} -.->|{label(_w('na {n}x', language, n=step.max_visits))}| s_{step.on_max_visits}")
    if step.on_timeout is not None and step.timeout is not None:
        waited = describe(step.timeout, language)
        lines.append(f"  s_{step.id} -.->|{label(_w('geen antwoord na {d}', language, d=waited))}| s_{step.on_timeout}")
    return lines


def _track(track: TrackTemplate, pathway: Pathway, language: str = "nl") -> list[str]:
    lines = [f"  subgraph t_{track.id}[{label(track.title)}]", "    direction TB"]
    lines += [f"    {_node(step, pathway, language, track.owner)}" for step in track.steps]
    lines.append("  end")
    for step in track.steps:
        lines += _edges(step, language)
    return lines


def to_mermaid(pathway: Pathway, language: str = "nl") -> str:
    """The flowchart text (ends with a newline): role titles and durations in Dutch, or English with "en"."""
    lines = ["flowchart TD", f"  start(({label('Start')}))", f"  start --> s_{pathway.first_step}"]
    lines += [f"  {_node(step, pathway, language)}" for step in pathway.steps]
    for step in pathway.steps:
        lines += _edges(step, language)
    for track in pathway.tracks:
        lines += _track(track, pathway, language)
    for step in pathway.steps:
        if step.kind != StepKind.TRACKS.value:
            continue
        started = step.tracks or tuple(t.id for t in pathway.tracks)
        for track_id in started:
            lines.append(f"  s_{step.id} -.-> t_{track_id}")
    return "\n".join(lines) + "\n"
