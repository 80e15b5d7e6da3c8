"""The `carepath` command speaks Dutch, English with `CAREPATH_LANGUAGE=en` (issue #10).

Every command's description, every argument's help and argparse's own texts (usage, headings, -h,
errors) come in both languages; a help text that is the same in both was not translated.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from integrations.cli import build_parser, main
from integrations.cli.language import day, translate_argparse, when


def _parsers(parser: argparse.ArgumentParser, name: str = "carepath") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def _texts(monkeypatch: pytest.MonkeyPatch, language: str) -> dict[str, str | None]:
    monkeypatch.setenv("CAREPATH_LANGUAGE", language)
    texts: dict[str, str | None] = {}
    for name, parser in _parsers(build_parser()):
        texts[f"{name}: description"] = parser.description
        texts[f"{name}: usage"] = parser.format_help().split("\n")[0]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    texts[f"{name} {choice.dest}: help"] = choice.help
            else:
                texts[f"{name} {'/'.join(action.option_strings) or action.dest}: help"] = action.help
    return texts


def test_every_command_and_argument_has_help_in_dutch_and_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    dutch, english = _texts(monkeypatch, "nl"), _texts(monkeypatch, "en")
    assert dutch.keys() == english.keys() and len(dutch) > 150
    missing = sorted(k for k, v in dutch.items() if not v)
    assert missing == []
    same = sorted(k for k in dutch if dutch[k] == english[k])
    assert same == []
    usages = [k for k in dutch if k.endswith(": usage")]
    assert len(usages) > 30
    assert all(str(dutch[k]).startswith("gebruik: ") and str(english[k]).startswith("usage: ") for k in usages)


def test_help_and_usage_errors_are_dutch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CAREPATH_LANGUAGE", raising=False)
    with pytest.raises(SystemExit) as shown:
        main(["validate", "--help"])
    out = capsys.readouterr().out
    assert shown.value.code == 0
    assert out.startswith("gebruik: carepath validate") and "positionele argumenten:" in out and "opties:" in out
    assert "-h, --help" in out and "toon deze hulp en stop" in out and "zorgpadbestand of map" in out

    for argv, message in (
        (["validate"], "carepath validate: fout: de volgende argumenten zijn verplicht: PAD"),
        (["nonsense"], "carepath: fout: argument OPDRACHT: ongeldige keuze: 'nonsense' (kies uit 'validate', "),
        (["validate", "x.yaml", "--bogus"], "carepath: fout: onbekende argumenten: --bogus"),
        (["audit", "export", "--from", "gisteren", "--to", "2026-12-04"],
         "carepath audit export: fout: argument --from: ongeldige waarde (datum): 'gisteren'"),
        (["tick", "--batch-size"], "carepath tick: fout: argument --batch-size: verwacht één waarde"),
        (["audit", "export", "--from", "2026-12-01", "--to", "2026-12-04", "--format", "xml"],
         "fout: argument --format: ongeldige keuze: 'xml' (kies uit 'jsonl', 'csv')"),
    ):
        with pytest.raises(SystemExit) as refused:
            main(argv)
        err = capsys.readouterr().err
        assert refused.value.code == 2, argv
        assert err.startswith("gebruik: carepath") and message in err, err


def test_english_by_the_setting(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CAREPATH_LANGUAGE", "en")
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: carepath validate") and "positional arguments:" in out and "options:" in out
    assert "show this help message and exit" in out
    with pytest.raises(SystemExit) as refused:
        main(["validate"])
    assert refused.value.code == 2
    assert "carepath validate: error: the following arguments are required: PATH" in capsys.readouterr().err


def test_translating_argparse_messages() -> None:
    assert translate_argparse("argument --x: invalid choice: 'a' (choose from 'b', 'c')") == \
        "argument --x: ongeldige keuze: 'a' (kies uit 'b', 'c')"
    assert translate_argparse("expected 2 arguments") == "verwacht 2 waarden"
    assert translate_argparse("something argparse never says") == "something argparse never says"


def test_moments_are_shown_on_the_dutch_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREPATH_LANGUAGE", raising=False)
    assert when(datetime(2026, 12, 4, 13, 5, tzinfo=UTC)) == "4 december 2026 14:05"  # CET, winter
    assert when(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "2 juli 2026 00:30"  # CEST: the next day
    assert day(date(2026, 3, 9)) == "9 maart 2026" and when(None) == "-"
    monkeypatch.setenv("CAREPATH_LANGUAGE", "en")
    assert when(datetime(2026, 12, 4, 13, 5, tzinfo=UTC)) == "4 December 2026 14:05"


def test_the_dutch_help_keeps_to_the_glossary(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.test_glossary import avoided_words

    words = avoided_words()
    found = sorted((word, key) for key, text in _texts(monkeypatch, "nl").items() for word in words
                   if text and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE))
    assert found == []
