"""A pathway as a Mermaid `flowchart TD`, for reviewing a flow with a team.

Steps are nodes labelled with their titles (shape by kind), branch conditions
are edge labels, tracks are subgraphs and end steps show the outcome. Node
ids are prefixed (`s_`, `t_`) so step ids such as `end` cannot clash with
Mermaid keywords; labels are quoted and escaped so Dutch text, quotes and
CEL operators render as written.
"""

from __future__ import annotations

from engine.definition import Pathway, Step, StepKind, TrackTemplate

_RESULT_WORDS = {"achieved": "behaald", "not_achieved": "niet behaald", "stopped": "gestopt"}
_ESCAPES = (("#", "#35;"), ("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;"), ("`", "#96;"))


def label(text: str) -> str:
    """`text` as a quoted Mermaid label: one line, entity-escaped."""
    flat = " ".join(text.split())
    for raw, escaped in _ESCAPES:
        flat = flat.replace(raw, escaped)
    return f'"{flat}"'


def _node(step: Step, pathway: Pathway) -> str:
    title = step.title or step.id
    node_id = f"s_{step.id}"
    if step.kind == StepKind.END.value:
        outcome = next((o.label for o in pathway.outcomes if o.code == step.outcome), step.outcome or "")
        return f"{node_id}([{label(f'Einde: {outcome}')}])"
    if step.kind == StepKind.CLOSE_TRACK.value:
        result = _RESULT_WORDS.get(step.result or "", step.result or "")
        return f"{node_id}([{label(f'Track klaar: {result}')}])"
    if step.kind == StepKind.DECISION.value:
        return f"{node_id}{{{label(title)}}}"
    if step.kind == StepKind.TRACKS.value:
        return f"{node_id}[[{label(title)}]]"
    if step.kind == StepKind.HUMAN_TASK.value:
        return f"{node_id}[{label(f'{title} ({step.role})' if step.role else title)}]"
    return f"{node_id}[/{label(f'{step.kind}: {title}')}/]"


def _edges(step: Step) -> list[str]:
    lines = []
    for branch in step.next:
        arrow = f" -->|{label(branch.when.source)}| " if branch.when is not None else " --> "
        lines.append(f"  s_{step.id}{arrow}s_{branch.goto}")
    if step.on_max_visits is not None:
        lines.append(f"  s_{step.id} -.->|{label(f'na {step.max_visits}x')}| s_{step.on_max_visits}")
    if step.on_timeout is not None:
        lines.append(f"  s_{step.id} -.->|{label(f'geen antwoord na {step.timeout}')}| s_{step.on_timeout}")
    return lines


def _track(track: TrackTemplate, pathway: Pathway) -> list[str]:
    lines = [f"  subgraph t_{track.id}[{label(track.title)}]", "    direction TB"]
    lines += [f"    {_node(step, pathway)}" for step in track.steps]
    lines.append("  end")
    for step in track.steps:
        lines += _edges(step)
    return lines


def to_mermaid(pathway: Pathway) -> str:
    """The flowchart text (ends with a newline)."""
    lines = ["flowchart TD", f"  start(({label('Start')}))", f"  start --> s_{pathway.first_step}"]
    lines += [f"  {_node(step, pathway)}" for step in pathway.steps]
    for step in pathway.steps:
        lines += _edges(step)
    for track in pathway.tracks:
        lines += _track(track, pathway)
    for step in pathway.steps:
        if step.kind != StepKind.TRACKS.value:
            continue
        started = step.tracks or tuple(t.id for t in pathway.tracks)
        for track_id in started:
            lines.append(f"  s_{step.id} -.-> t_{track_id}")
    return "\n".join(lines) + "\n"
