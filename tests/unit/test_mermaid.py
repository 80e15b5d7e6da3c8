"""The Mermaid flowchart of a pathway."""

from __future__ import annotations

from pathlib import Path

from engine.loader import load_pathway
from engine.mermaid import label, to_mermaid
from tasks.registry import default_kinds

RICH = Path(__file__).parent / "fixtures" / "rich.yaml"


def test_labels_are_quoted_and_escaped() -> None:
    assert label('Zeg "ja" | a < b & c > d #1 `x`') == (
        '"Zeg #quot;ja#quot; #124; a #lt; b #amp; c #gt; d #35;1 #96;x#96;"')
    assert label("Coördinatie\n  na   intake") == '"Coördinatie na intake"'


def test_flowchart_of_the_rich_fixture() -> None:
    chart = to_mermaid(load_pathway(RICH.read_bytes(), "rich.yaml", default_kinds()))
    lines = chart.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  s_doorstep_visit["Huisbezoek aan de voordeur (Outreachend maatschappelijk werker, 5 werkdagen)"]' in lines
    assert '  s_doorstep_visit -->|"!form.client_reached"| s_doorstep_visit' in lines
    assert '  s_doorstep_visit -.->|"na 3x"| s_close_other' in lines
    assert '  s_done_kept(["Einde: Huurder blijft huren"])' in lines
    assert '  s_work_on_problems -->|"tracks.debts.result == #quot;achieved#quot;"| s_export' in lines
    assert '  subgraph t_debts["Schulden"]' in lines
    assert '    s_debts_done(["Probleemgebied klaar: behaald"])' in lines
    assert any(line.startswith('  s_letter[/"Brief: ') for line in lines), "step kinds are named in Dutch"
    english = to_mermaid(load_pathway(RICH.read_bytes(), "rich.yaml", default_kinds()), "en").splitlines()
    assert any(line.startswith('  s_letter[/"Letter: ') for line in english)
    assert '    s_debts_done(["Problem area done: achieved"])' in english
    assert "  s_work_on_problems -.-> t_housing" in lines
    assert chart.count("subgraph") == chart.count("\n  end\n") == 2


def test_labels_name_role_titles_and_durations_in_dutch_or_english() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "crisis-chain.yaml"
    pathway = load_pathway(example.read_bytes(), "crisis-chain.yaml", default_kinds())
    dutch = to_mermaid(pathway).splitlines()
    assert '  s_safety_plan["Veiligheidsplan maken (Casemanager huiselijk geweld, 4 werkweken)"]' in dutch
    assert '  s_safety_check -.->|"geen antwoord na 8 uur"| s_safety_decision' in dutch
    assert '  s_done(["Einde: Veiligheid hersteld"])' in dutch
    english = to_mermaid(pathway, "en").splitlines()
    assert '  s_safety_plan["Veiligheidsplan maken (Casemanager huiselijk geweld, 4 working weeks)"]' in english
    assert '  s_safety_decision -.->|"no answer after 3 working days"| s_coordinator_decides' in english
    assert '  s_done(["End: Veiligheid hersteld"])' in english
