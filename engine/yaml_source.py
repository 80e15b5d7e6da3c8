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
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml import events as ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from engine.errors import Problem

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

    def problem(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> Problem:
        line, column = self.locate(path, key=key)
        return Problem(self.source, line, column, format_path(path), message, hint)


class YamlReadError(Exception):
    """Reading stopped: the file cannot be turned into data (problems say why)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "unreadable YAML")
        self.problems = problems


# ---------------------------------------------------------------- decoding


def decode(raw: str | bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of a pathway file; `YamlReadError` for anything but UTF-8 text within the limit."""

    def fail(message: str, hint: str = "", line: int = 0, column: int = 0) -> YamlReadError:
        return YamlReadError([Problem(source, line, column, "", message, hint)])

    if isinstance(raw, str):
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line, column = _text_position(raw, exc.start)
            raise fail(f"the text contains an invalid character at line {line}, column {column}",
                       line=line, column=column) from None
        if size > max_bytes:
            raise fail(f"the file is {size} bytes; the limit is {max_bytes} bytes",
                       "split the pathway or remove unused parts")
        text = raw
    else:
        if len(raw) > max_bytes:
            raise fail(f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes",
                       "split the pathway or remove unused parts")
        text = _decode_utf8(raw, fail)
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _UNPRINTABLE.search(text)
    if bad is not None:
        line, column = _text_position(text, bad.start())
        raise fail(f"the file contains a control character (U+{ord(bad.group()):04X}) at line {line}, "
                   f"column {column}; it does not look like a text file", line=line, column=column)
    return text


_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _decode_utf8(raw: bytes, fail: Any) -> str:
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if raw.startswith(bom):
            raise fail(f"the file is saved as {name}; carepath reads UTF-8 only",
                       "save the file as UTF-8: in most editors via Save as > Encoding", 1, 1)
    zeros = raw.count(b"\x00")
    if zeros and zeros * 3 >= len(raw):
        raise fail("the file looks like UTF-16 or binary data (it is full of zero bytes); carepath reads "
                   "UTF-8 text only", "save the file as UTF-8", 1, 1)
    if zeros:
        offset = raw.index(b"\x00")
        raise fail(f"the file contains a zero byte at offset {offset}: it is binary data, not a text file",
                   "", raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        byte = raw[offset]
        latin = " (it looks like Latin-1/Windows-1252, e.g. an accented letter)" if byte >= 0xA0 else ""
        raise fail(f"the file is not valid UTF-8: byte 0x{byte:02X} at offset {offset} "
                   f"(line {line}, column {column}){latin}",
                   "save the file as UTF-8: in most editors via Save as > Encoding", line, column) from None


def _text_position(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


# ---------------------------------------------------------------- composing


@dataclass(eq=False)
class _Node:
    line: int
    column: int


@dataclass(eq=False)
class _Scalar(_Node):
    value: str
    plain: bool


@dataclass(eq=False)
class _Sequence(_Node):
    items: list[_Node] = field(default_factory=list)


@dataclass(eq=False)
class _Mapping(_Node):
    pairs: list[tuple[_Node, _Node]] = field(default_factory=list)
    pending_key: _Node | None = None


def _mark(event: Any) -> Position:
    return event.start_mark.line + 1, event.start_mark.column + 1


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "text that contains ': ' needs quotes around it"),
    ("found character '\\t'", "indent with spaces; tabs are not allowed in YAML"),
    ("could not find expected ':'", "each line of a mapping needs `key: value`; check the indentation"),
    ("did not find expected key", "check the indentation of this line and the one before"),
    ("did not find expected '-' indicator", "items of a list all start with `- ` at the same indentation"),
    ("found undefined alias", "an alias `*name` needs an anchor `&name` earlier in the file"),
    ("while scanning a quoted scalar", "a quoted text needs its closing quote"),
)


def _syntax_problem(source: str, exc: YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    if isinstance(exc, MarkedYAMLError):
        what = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
    else:
        what = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
    text = str(exc)
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in text), "")
    return Problem(source, line, column, "", f"YAML syntax error: {what}", hint)


def _compose(text: str, source: str, problems: list[Problem]) -> tuple[_Node | None, int]:
    """Build the node graph from ruamel's events; aliases point at the anchored node."""
    yaml = YAML(typ="safe", pure=True)
    anchors: dict[str, _Node] = {}
    open_anchors: set[str] = set()
    stack: list[tuple[_Node, str | None]] = []
    root: _Node | None = None
    documents = 0
    count = 0

    def attach(node: _Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        parent = stack[-1][0]
        if isinstance(parent, _Sequence):
            parent.items.append(node)
        elif isinstance(parent, _Mapping):
            if parent.pending_key is None:
                parent.pending_key = node
            else:
                parent.pairs.append((parent.pending_key, node))
                parent.pending_key = None

    def check_tag(event: Any) -> None:
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in ("", "!"):
            line, column = _mark(event)
            shown = str(tag).replace("tag:yaml.org,2002:", "!!")
            problems.append(Problem(source, line, column, "", f"the tag `{shown}` is not allowed",
                                    "pathway files are plain data: remove the tag, and quote the value if it is text"))
        elif tag is not None:
            line, column = _mark(event)
            problems.append(Problem(source, line, column, "", "the tag `!` is not allowed", "remove the `!`"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for event in yaml.parse(text):
            if isinstance(event, ev.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    line, column = _mark(event)
                    problems.append(Problem(source, line, column, "", "the file holds more than one YAML document",
                                            "put one pathway in each file; remove the `---` line"))
                    break
            elif isinstance(event, ev.AliasEvent):
                line, column = _mark(event)
                name = str(event.anchor)
                if name in open_anchors:
                    problems.append(Problem(source, line, column, "", f"the alias `*{name}` refers to itself",
                                            "an alias may only repeat a finished part of the file"))
                    attach(_Scalar(line, column, "", plain=True))
                elif name not in anchors:
                    problems.append(Problem(source, line, column, "", f"the alias `*{name}` is not defined",
                                            "an alias `*name` needs an anchor `&name` earlier in the file"))
                    attach(_Scalar(line, column, "", plain=True))
                else:
                    attach(anchors[name])
            elif isinstance(event, ev.ScalarEvent):
                check_tag(event)
                line, column = _mark(event)
                node: _Node = _Scalar(line, column, event.value, plain=event.style is None and event.tag is None)
                count += 1
                if event.anchor is not None:
                    anchors[str(event.anchor)] = node
                attach(node)
            elif isinstance(event, (ev.SequenceStartEvent, ev.MappingStartEvent)):
                check_tag(event)
                line, column = _mark(event)
                node = (_Sequence(line, column) if isinstance(event, ev.SequenceStartEvent)
                        else _Mapping(line, column))
                count += 1
                if len(stack) >= MAX_DEPTH:
                    raise YamlReadError([Problem(source, line, column, "",
                                                 f"the file is nested more than {MAX_DEPTH} levels deep")])
                anchor = None if event.anchor is None else str(event.anchor)
                if anchor is not None:
                    anchors[anchor] = node
                    open_anchors.add(anchor)
                attach(node)
                stack.append((node, anchor))
            elif isinstance(event, (ev.SequenceEndEvent, ev.MappingEndEvent)):
                _, anchor = stack.pop()
                if anchor is not None:
                    open_anchors.discard(anchor)
    return root, count


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
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


def _resolve_plain(text: str) -> tuple[Any, str | None]:
    """YAML 1.2 core schema for an unquoted scalar: (value, problem message or None)."""
    if text in _NULLS:
        return None, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    if _INT.fullmatch(text):
        return int(text), None
    if _OCT.fullmatch(text):
        return int(text[2:], 8), None
    if _HEX.fullmatch(text):
        return int(text[2:], 16), None
    if _FLOAT.fullmatch(text):
        number = float(text)
        if number in (float("inf"), float("-inf")):
            return text, f"the number `{text}` is too large"
        return number, None
    if _SPECIAL_FLOAT.fullmatch(text):
        return text, f"`{text}` (infinity / not-a-number) cannot be stored; write a number, or quote it as text"
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


class _Builder:
    """Turns the node graph into plain data, recording positions and enforcing the alias budget."""

    def __init__(self, doc: SourceDocument, problems: list[Problem], budget: int) -> None:
        self.doc = doc
        self.problems = problems
        self.budget = budget
        self.built = 0

    def build(self, node: _Node, path: PathKey) -> Any:
        self.built += 1
        if self.built > self.budget:
            raise YamlReadError([Problem(
                self.doc.source, node.line, node.column, format_path(path),
                f"aliases (`*name`) expand to more than {MAX_ALIAS_NODES} extra elements",
                "write the repeated part out, or use `defaults` for shared reminders and escalation")])
        self.doc.values.setdefault(path, (node.line, node.column))
        if isinstance(node, _Scalar):
            if not node.plain:
                return node.value
            value, problem = _resolve_plain(node.value)
            if problem is not None:
                self.problems.append(Problem(self.doc.source, node.line, node.column, format_path(path), problem))
            return value
        if isinstance(node, _Sequence):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.items)]
        assert isinstance(node, _Mapping)
        result: dict[str, Any] = {}
        first_seen: dict[str, _Node] = {}
        for key_node, value_node in node.pairs:
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in first_seen:
                first = first_seen[key]
                self.problems.append(Problem(
                    self.doc.source, key_node.line, key_node.column, format_path((*path, key)),
                    f"the key `{key}` appears twice in this mapping (first at line {first.line})",
                    "remove or rename one of them"))
                continue
            first_seen[key] = key_node
            self.doc.keys.setdefault((*path, key), (key_node.line, key_node.column))
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, node: _Node, path: PathKey) -> str | None:
        if not isinstance(node, _Scalar):
            self.problems.append(Problem(self.doc.source, node.line, node.column, format_path(path),
                                         "a key must be plain text, not a list or mapping"))
            return None
        if node.plain and node.value == "<<":
            self.problems.append(Problem(self.doc.source, node.line, node.column, format_path(path),
                                         "merge keys (`<<`) are not supported",
                                         "write the keys out, or use `defaults` for shared reminders and escalation"))
            return None
        return node.value


def read_yaml(raw: str | bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[SourceDocument, list[Problem]]:
    """Read one YAML document into plain data with positions.

    Returns the document and the problems that did not stop reading (tags,
    duplicate keys); raises `YamlReadError` when no data can be produced.
    """
    text = decode(raw, source, max_bytes)
    problems: list[Problem] = []
    try:
        root, count = _compose(text, source, problems)
    except YAMLError as exc:
        raise YamlReadError([_syntax_problem(source, exc)]) from None
    except RecursionError:
        raise YamlReadError([Problem(source, 0, 0, "", f"the file is nested more than {MAX_DEPTH} levels deep")]) from None
    if root is None:
        raise YamlReadError([Problem(source, 1, 1, "", "the file is empty",
                                     "a pathway starts with `id:`, `version:` and `title:`")])
    doc = SourceDocument(source, None)
    doc.data = _Builder(doc, problems, count + MAX_ALIAS_NODES).build(root, ())
    return doc, problems
