"""Safe YAML reading with a position for every element.

Pathway files come from coordinators, and later from a web upload, so the
reader trusts nothing: input must be UTF-8 text under a size limit, explicit
tags (`!!python/object`, `!foo`) are refused, aliases may not expand beyond a
budget (a "billion laughs" file stops after a few thousand nodes), nesting is
limited, and duplicate keys are errors. Scalars follow the YAML 1.2 core
schema (`no`, `yes` and `on` stay text); dates become ISO strings, so the
result is plain JSON-like data.

ruamel.yaml only tokenises and parses here; composing and constructing are
done by this module from the event stream. That is what makes every limit
above checkable while reading, and it records a 1-based (line, column) for
every value and every mapping key, keyed by path such as
`("steps", 3, "escalation", 1, "after")`.
"""

from __future__ import annotations

import datetime
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from engine.errors import Problem
from engine.problem_texts import Text
from engine.problem_texts import text as _text

try:  # optional accelerator; see `_events`
    from yaml import YAMLError as _LibYamlError
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

DEFAULT_MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add on top of what the file spells out

PathKey = tuple[str | int, ...]
Position = tuple[int, int]


def format_path(path: PathKey) -> str:
    """`("steps", 3, "escalation", 1, "after")` as `steps[3].escalation[1].after`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass
class SourceDocument:
    """Plain data read from a file, with the position of each value and key."""

    source: str
    data: Any
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Position:
        """Where `path` is written; for a missing element, where its nearest parent is.

        With `key=True` a mapping entry is located at its key (`titel:`)
        rather than at its value.
        """
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while True:
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(self, path: PathKey, message: Text, hint: Text | None = None, *, key: bool = False) -> Problem:
        line, column = self.locate(path, key=key)
        return Problem.of(self.source, line, column, format_path(path), message, hint)


class YamlReadError(Exception):
    """Reading stopped: the file cannot be turned into data (problems say why)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "")
        self.problems = problems


# ---------------------------------------------------------------- decoding


def decode(raw: str | bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of a pathway file; `YamlReadError` for anything but UTF-8 text within the limit."""

    def fail(message: Text, hint: Text | None = None, line: int = 0, column: int = 0) -> YamlReadError:
        return YamlReadError([Problem.of(source, line, column, "", message, hint)])

    if isinstance(raw, str):
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line, column = _text_position(raw, exc.start)
            raise fail(_text("bestand-ongeldig-teken", line=line, column=column), line=line, column=column) from None
        if size > max_bytes:
            raise fail(_text("bestand-te-groot", size=size, limit=max_bytes), _text("hint-pad-splitsen"))
        text = raw
    else:
        if len(raw) > max_bytes:
            raise fail(_text("bestand-te-groot", size=len(raw), limit=max_bytes), _text("hint-pad-splitsen"))
        text = _decode_utf8(raw, fail)
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _UNPRINTABLE.search(text)
    if bad is not None:
        line, column = _text_position(text, bad.start())
        raise fail(_text("bestand-stuurteken", char=f"{ord(bad.group()):04X}", line=line, column=column),
                   line=line, column=column)
    return text


_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _decode_utf8(raw: bytes, fail: Any) -> str:
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if raw.startswith(bom):
            raise fail(_text("bestand-andere-codering", encoding=name), _text("hint-opslaan-utf8-menu"), 1, 1)
    zeros = raw.count(b"\x00")
    if zeros and zeros * 3 >= len(raw):
        raise fail(_text("bestand-vol-nulbytes"), _text("hint-opslaan-utf8"), 1, 1)
    if zeros:
        offset = raw.index(b"\x00")
        raise fail(_text("bestand-nulbyte", offset=offset),
                   None, raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        byte = raw[offset]
        code = "bestand-geen-utf8-latin1" if byte >= 0xA0 else "bestand-geen-utf8"
        raise fail(_text(code, byte=f"{byte:02X}", offset=offset, line=line, column=column),
                   _text("hint-opslaan-utf8-menu"), line, column) from None


def _text_position(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


# ---------------------------------------------------------------- parsing


def _mark(event: Any) -> Position:
    return event.start_mark.line + 1, event.start_mark.column + 1


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "hint-yaml-dubbele-punt"),
    ("found character '\\t'", "hint-yaml-tab"),
    ("could not find expected ':'", "hint-yaml-sleutel-waarde"),
    ("did not find expected key", "hint-yaml-inspringen"),
    ("did not find expected '-' indicator", "hint-yaml-lijst"),
    ("found undefined alias", "hint-alias-anker"),
    ("while scanning a quoted scalar", "hint-yaml-aanhalingsteken"),
)


# ruamel.yaml's own words for what went wrong, as catalogue parts; other phrases are shown as they are
_YAML_PHRASES = {
    "while scanning for the next token": "deel-yaml-volgend-element",
    "while scanning a simple key": "deel-yaml-sleutel",
    "while parsing a block mapping": "deel-yaml-mapping",
    "while parsing a block collection": "deel-yaml-lijst",
    "while parsing a flow mapping": "deel-yaml-mapping-accolades",
    "while parsing a flow sequence": "deel-yaml-lijst-haken",
    "while scanning a quoted scalar": "deel-yaml-aanhalingstekens",
    "mapping values are not allowed here": "deel-yaml-geen-mapping-waarde",
    "found character '\\t' that cannot start any token": "deel-yaml-tab",
    "could not find expected ':'": "deel-yaml-geen-dubbele-punt",
    "did not find expected key": "deel-yaml-geen-sleutel",
    "did not find expected '-' indicator": "deel-yaml-geen-streepje",
    "found unexpected end of stream": "deel-yaml-einde",
}


def _yaml_phrase(phrase: str) -> Text | str:
    code = _YAML_PHRASES.get(phrase)
    return _text(code) if code is not None else phrase


def _syntax_problem(source: str, exc: YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    what: str | Text
    if isinstance(exc, MarkedYAMLError):
        parts = [_yaml_phrase(str(part)) for part in (exc.context, exc.problem) if part]
        what = (_text("deel-twee-delen", first=parts[0], second=parts[1]) if len(parts) == 2
                else parts[0] if parts else _text("deel-ongeldige-yaml"))
    else:
        what = str(exc).splitlines()[0] if str(exc) else _text("deel-ongeldige-yaml")
    shown = str(exc)
    hint = next((_text(h) for needle, h in _SYNTAX_HINTS if needle in shown), None)
    return Problem.of(source, line, column, "", _text("yaml-syntaxfout", detail=what), hint)


def _events(text: str) -> Iterable[Any]:
    """The parse events of `text`.

    libyaml (through PyYAML's C parser, which cel-python already depends on)
    produces the same events as ruamel.yaml's pure-Python parser about 15 times
    faster. Only events are taken from it: tags, aliases and scalars are all
    judged by this module. When libyaml is missing, or refuses the text, ruamel
    parses it, so syntax errors always read the same.
    """
    if _CParser is not None:
        parser = _CParser(text)
        try:
            fast: list[Any] = []
            while parser.check_event():
                fast.append(parser.get_event())
            return fast
        except (_LibYamlError, ValueError):  # refused: ruamel below gives the canonical message
            pass
        finally:
            parser.dispose()
    slow: Iterable[Any] = YAML(typ="safe", pure=True).parse(text)
    return slow


# ---------------------------------------------------------------- constructing

_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(\.[0-9]*)?"
    r"(?:[ \t]*(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
_NON_TEXT_START = frozenset("0123456789+-.~nNtTfF")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


MAX_WHOLE_NUMBER = 2**63 - 1  # what a database's bigint holds; more digits than this are no count of anything


def _whole_number(text: str) -> tuple[Any, Text | None]:
    """A decimal, octal (0o) or hexadecimal (0x) integer within 64 bits; a problem beyond that
    (Python refuses to read more than 4,300 decimal digits at all)."""
    digits = text.lstrip("+-")
    base = 16 if digits.startswith("0x") else 8 if digits.startswith("0o") else 10
    if len(digits) > 24:
        return text, _text("getal-te-lang", start=text[:20], length=len(digits))
    value = int(digits[2:] if base != 10 else digits, base)
    if value > MAX_WHOLE_NUMBER:
        return text, _text("getal-boven-grens", number=text, limit=MAX_WHOLE_NUMBER)
    return (-value if text.startswith("-") else value), None


def _resolve_plain(text: str) -> tuple[Any, Text | None]:
    """YAML 1.2 core schema for an unquoted scalar: (value, problem message or None)."""
    if text and text[0] not in _NON_TEXT_START:
        return text, None  # most scalars are words: nothing else can start that way
    if text in _NULLS:
        return None, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    if _INT.fullmatch(text) or _OCT.fullmatch(text) or _HEX.fullmatch(text):
        return _whole_number(text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if number in (float("inf"), float("-inf")):
            return text, _text("getal-te-groot", number=text)
        return number, None
    if _SPECIAL_FLOAT.fullmatch(text):
        return text, _text("getal-oneindig", number=text)
    if _DATE.fullmatch(text) or _DATETIME.fullmatch(text):
        return _iso(text), None
    return text, None


def _iso(text: str) -> str:
    """A YAML date or timestamp as an ISO 8601 string (the text itself when it is no real date)."""
    match = _DATE.fullmatch(text)
    try:
        if match is not None:
            year, month, day = (int(g) for g in match.groups())
            return datetime.date(year, month, day).isoformat()
        match = _DATETIME.fullmatch(text)
        assert match is not None
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        fraction, zone = match.group(7), match.group(8)
        micro = int((fraction[1:] + "000000")[:6]) if fraction and len(fraction) > 1 else 0
        tz: datetime.tzinfo | None = None
        if zone == "Z":
            tz = datetime.UTC
        elif zone:
            sign = -1 if zone[0] == "-" else 1
            hours, _, minutes = zone[1:].partition(":")
            if not minutes and len(hours) > 2:
                hours, minutes = hours[:-2], hours[-2:]
            tz = datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes or 0)))
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).isoformat()
    except ValueError:
        return text


_NO_KEY = object()


@dataclass(slots=True)
class _Frame:
    """An open sequence or mapping while events stream in."""

    container: Any  # list, dict, or None for a part that is being skipped
    path: PathKey
    key: Any = _NO_KEY  # mapping: the key waiting for its value
    skip_value: bool = False  # mapping: the pending key was refused, drop its value


@dataclass(slots=True)
class _Recording:
    """The events of an anchored collection, replayed for every alias to it."""

    name: str
    depth: int
    events: list[tuple[Any, list[Any] | None]] = field(default_factory=list)


class _Reader:
    """Builds plain data straight from parse events, in one pass.

    Every limit is checked as events arrive: tags, nesting depth, duplicate and
    complex keys, and the alias budget (an alias replays the anchored events and
    each replayed event counts, so a billion-laughs file stops after
    `MAX_ALIAS_NODES` events instead of expanding).
    """

    def __init__(self, doc: SourceDocument, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.stack: list[_Frame] = []
        self.anchors: dict[str, list[tuple[Any, list[Any] | None]]] = {}
        self.recording: list[_Recording] = []
        self.replayed = 0
        self.root: Any = None
        self.has_root = False
        self.documents = 0

    def problem(self, event: Any, path: PathKey, message: Text, hint: Text | None = None) -> None:
        line, column = _mark(event)
        self.problems.append(Problem.of(self.doc.source, line, column, format_path(path), message, hint))

    def feed(self, event: Any) -> bool:
        """Take one event from the file; False when reading should stop (a second document)."""
        name = type(event).__name__  # ruamel and PyYAML events share class names, not classes
        if name == "DocumentStartEvent":
            self.documents += 1
            if self.documents > 1:
                self.problem(event, (), _text("yaml-meer-documenten"), _text("hint-een-document"))
                return False
            return True
        if name in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
            return True
        resolved = None
        if name == "AliasEvent":
            anchor = str(event.anchor)
            if any(r.name == anchor for r in self.recording):
                self.problem(event, self._here(), _text("alias-naar-zichzelf", anchor=anchor),
                             _text("hint-alias-afgerond"))
            elif anchor not in self.anchors:
                self.problem(event, self._here(), _text("alias-onbekend", anchor=anchor), _text("hint-alias-anker"))
            else:
                resolved = self.anchors[anchor]
        for recording in self.recording:
            recording.events.append((event, resolved))
        if name == "AliasEvent":
            if resolved is None:
                self._place(event, None, scalar_text="")
            else:
                self._replay(resolved)
            return True
        self._check_tag(event)
        own_anchor = getattr(event, "anchor", None)
        if name == "ScalarEvent":
            self._scalar(event)
            if own_anchor is not None:
                self.anchors[str(own_anchor)] = [(event, None)]
        elif name in ("SequenceStartEvent", "MappingStartEvent"):
            self._start(event, name)
            if own_anchor is not None:
                self.recording.append(_Recording(str(own_anchor), len(self.stack), [(event, None)]))
        else:  # SequenceEndEvent / MappingEndEvent
            depth = len(self.stack)
            self.stack.pop()
            while self.recording and self.recording[-1].depth == depth:
                done = self.recording.pop()
                self.anchors[done.name] = done.events
        return True

    def _replay(self, events: list[tuple[Any, list[Any] | None]]) -> None:
        for event, resolved in events:
            self.replayed += 1
            if self.replayed > MAX_ALIAS_NODES:
                raise YamlReadError([Problem.of(
                    self.doc.source, *_mark(event), format_path(self._here()),
                    _text("alias-te-groot", limit=MAX_ALIAS_NODES), _text("hint-alias-uitschrijven"))])
            name = type(event).__name__
            if name == "AliasEvent":
                if resolved is not None:
                    self._replay(resolved)
            elif name == "ScalarEvent":
                self._scalar(event)
            elif name in ("SequenceStartEvent", "MappingStartEvent"):
                self._start(event, name)
            else:
                self.stack.pop()

    def _check_tag(self, event: Any) -> None:
        tag = getattr(event, "tag", None)
        if tag is None:
            return
        if str(tag) in ("", "!"):
            self.problem(event, (), _text("tag-leeg"), _text("hint-tag-weg"))
            return
        shown = str(tag).replace("tag:yaml.org,2002:", "!!")
        self.problem(event, (), _text("tag-niet-toegestaan", tag=shown), _text("hint-gewone-gegevens"))

    def _here(self) -> PathKey:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        if isinstance(top.container, dict) and isinstance(top.key, str):
            return (*top.path, top.key)
        return top.path

    def _scalar(self, event: Any) -> None:
        text = event.value
        if _SURROGATES.search(text):
            self.problem(event, self._here(), _text("ongeldige-escape"), _text("hint-teken-zelf"))
            text = _SURROGATES.sub("\ufffd", text)
        plain = not event.style and event.tag is None
        if plain:
            value, trouble = _resolve_plain(text)
            if trouble is not None:
                self.problem(event, self._here(), trouble)
        else:
            value = text
        self._place(event, value, scalar_text=text, plain=plain)

    def _start(self, event: Any, name: str) -> None:
        if len(self.stack) >= MAX_DEPTH:
            line, column = _mark(event)
            raise YamlReadError([Problem.of(self.doc.source, line, column, "", _text("bestand-te-diep", depth=MAX_DEPTH))])
        container: Any = [] if name == "SequenceStartEvent" else {}
        path = self._place(event, container, scalar_text=None)
        self.stack.append(_Frame(container if path is not None else None, path or ()))

    def _place(self, event: Any, value: Any, *, scalar_text: str | None, plain: bool = True) -> PathKey | None:
        """Put `value` where the open collection expects it; its path, or None when it is dropped."""
        if not self.stack:
            self.root, self.has_root = value, True
            self.doc.values.setdefault((), _mark(event))
            return ()
        top = self.stack[-1]
        if top.container is None:
            return None  # inside a refused key or a duplicate's value
        if isinstance(top.container, list):
            path: PathKey = (*top.path, len(top.container))
            top.container.append(value)
            self.doc.values.setdefault(path, _mark(event))
            return path
        if top.key is _NO_KEY:
            self._take_key(top, event, scalar_text, plain)
            return None
        key, skip = top.key, top.skip_value
        top.key, top.skip_value = _NO_KEY, False
        if skip:
            return None
        path = (*top.path, key)
        top.container[key] = value
        self.doc.values.setdefault(path, _mark(event))
        return path

    def _take_key(self, top: _Frame, event: Any, text: str | None, plain: bool) -> None:
        if text is None:
            self.problem(event, top.path, _text("sleutel-geen-tekst"))
            top.key, top.skip_value = "", True
            return
        top.key = text
        if plain and text == "<<":
            self.problem(event, top.path, _text("merge-sleutel"), _text("hint-sleutels-uitschrijven"))
            top.skip_value = True
        elif text in top.container:
            first = self.doc.keys.get((*top.path, text), (0, 0))[0]
            self.problem(event, (*top.path, text), _text("sleutel-dubbel", key=text, first=first),
                         _text("hint-een-weg-of-hernoemen"))
            top.skip_value = True
        else:
            self.doc.keys.setdefault((*top.path, text), _mark(event))


def read_yaml(raw: str | bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[SourceDocument, list[Problem]]:
    """Read one YAML document into plain data with positions.

    Returns the document and the problems that did not stop reading (tags,
    duplicate keys); raises `YamlReadError` when no data can be produced.
    """
    text = decode(raw, source, max_bytes)
    problems: list[Problem] = []
    doc = SourceDocument(source, None)
    reader = _Reader(doc, problems)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for event in _events(text):
                if not reader.feed(event):
                    break
    except YAMLError as exc:
        raise YamlReadError([_syntax_problem(source, exc)]) from None
    except RecursionError:
        raise YamlReadError([Problem.of(source, 0, 0, "", _text("bestand-te-diep", depth=MAX_DEPTH))]) from None
    if not reader.has_root:
        raise YamlReadError([Problem.of(source, 1, 1, "", _text("bestand-leeg"), _text("hint-begin-met-id"))])
    doc.data = reader.root
    return doc, problems
