"""Forms from a step's JSON Schema: fields to render, submitted text back to JSON, messages per field.

What a pathway writes becomes a form a worker can fill in on a laptop or a
tablet without reading JSON: `title` is the label, `description` the help
text; `oneOf` of `{const, title}` (or `enum`) is a choice (radio buttons up to
six options, else a select); an array of choices is a set of checkboxes; a
boolean is ja/nee; numbers, dates and e-mail addresses get their own inputs.
Fields that `if`/`then`/`else` make required say when. Validation runs the
same JSON Schema the engine uses, and each message lands next to its field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator

from engine.json_validation import validator_for
from web.i18n import translate
from web.input_limits import MAX_TEXT_CHARS

_FORMAT_MESSAGES = {"date": "Vul een datum in.", "date-time": "Vul een datum en tijd in.",
                    "email": "Vul een geldig e-mailadres in.", "idn-email": "Vul een geldig e-mailadres in."}
RADIO_MAX = 6  # more options than this become a select
TEXTAREA_FROM = 200  # strings allowed to be longer than this get a text area


FormData = Any  # a submitted form: `get(name)` and `getlist(name)` (Starlette's FormData, or a test's dict)


@dataclass
class Option:
    value: str  # as sent by the browser
    label: str
    raw: Any  # the JSON value


@dataclass
class Field:
    name: str  # form field name; nested objects use dotted names
    widget: str  # text | textarea | email | date | datetime | number | integer | radio | select |
    #              checkboxes | yesno | lines | json | group | hidden
    label: str
    help: str = ""
    required: bool = False
    condition: str = ""  # when `if`/`then` makes it required
    options: list[Option] = field(default_factory=list)
    value: Any = None  # what to show: a string, or a list of strings for checkboxes
    error: str = ""
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    children: list[Field] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    def checked(self, option: Option) -> bool:
        if isinstance(self.value, list):
            return option.value in self.value
        return bool(self.value == option.value)


def choices(schema: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) pairs of a choice field: `enum`, or `oneOf`/`anyOf` of `const` options."""
    if "enum" in schema:
        return [(v, str(v)) for v in schema["enum"]]
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(isinstance(o, Mapping) and "const" in o for o in options):
            return [(o["const"], str(o.get("title") or o["const"])) for o in options]
    return None


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _options(schema: Mapping[str, Any]) -> list[Option]:
    return [Option(_value_text(v), label, v) for v, label in choices(schema) or []]


def _widget(schema: Mapping[str, Any]) -> str:
    if "const" in schema:
        return "hidden"
    offered = choices(schema)
    if offered is not None:
        return "radio" if len(offered) <= RADIO_MAX else "select"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "boolean":
        return "yesno"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if kind == "array":
        items = schema.get("items") or {}
        if isinstance(items, Mapping) and choices(items) is not None:
            return "checkboxes"
        if isinstance(items, Mapping) and items.get("type", "string") == "string":
            return "lines"
        return "json"
    if kind == "object":
        return "group"
    fmt = schema.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if fmt == "email":
        return "email"
    if int(schema.get("maxLength", 0)) > TEXTAREA_FROM:
        return "textarea"
    return "text"


def _conditions(schema: Mapping[str, Any], lang: str) -> dict[str, str]:
    """Field name -> `Verplicht als ...` for fields `if`/`then`/`else` make required."""
    props: Mapping[str, Any] = schema.get("properties", {})
    hints: dict[str, list[str]] = {}

    def describe(condition: Mapping[str, Any]) -> str | None:
        parts = []
        for name, sub in (condition.get("properties") or {}).items():
            if not isinstance(sub, Mapping) or "const" not in sub:
                return None
            field_schema = props.get(name, {})
            label = str(field_schema.get("title") or name)
            value = sub["const"]
            shown = next((lab for v, lab in choices(field_schema) or [] if v == value), None)
            if shown is None:
                shown = translate("ja", lang) if value is True else translate("nee", lang) if value is False else str(value)
            parts.append(f"«{label}» {translate('is', lang)} «{shown}»")
        return f" {translate('en', lang)} ".join(parts) if parts else None

    def visit(rule: Mapping[str, Any]) -> None:
        condition = rule.get("if")
        if isinstance(condition, Mapping):
            text = describe(condition)
            if text is not None:
                for name in (rule.get("then") or {}).get("required", []):
                    hints.setdefault(name, []).append(translate("Verplicht als {condition}", lang, condition=text))
                for name in (rule.get("else") or {}).get("required", []):
                    hints.setdefault(name, []).append(translate("Verplicht tenzij {condition}", lang, condition=text))
        for sub in rule.get("allOf") or []:
            if isinstance(sub, Mapping):
                visit(sub)

    visit(schema)
    return {name: "; ".join(texts) for name, texts in hints.items()}


def build_fields(schema: Mapping[str, Any], values: Mapping[str, Any] | None = None,
                 errors: Mapping[str, str] | None = None, lang: str = "nl", prefix: str = "",
                 skip: Sequence[str] = ()) -> list[Field]:
    """The fields of an object schema, in the pathway's order, filled with `values` (raw form text
    or JSON data) and `errors` (field name -> message)."""
    values = values or {}
    errors = errors or {}
    props: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    conditions = _conditions(schema, lang)
    fields: list[Field] = []
    for name, sub in props.items():
        if name in skip or not isinstance(sub, Mapping):
            continue
        full = f"{prefix}{name}"
        widget = _widget(sub)
        item = Field(
            name=full, widget=widget, label=str(sub.get("title") or name.replace("_", " ").capitalize()),
            help=str(sub.get("description") or ""), required=name in required, condition=conditions.get(name, ""),
            error=errors.get(full, ""), minimum=sub.get("minimum"), maximum=sub.get("maximum"),
            min_length=sub.get("minLength"), max_length=sub.get("maxLength"),
        )
        if widget in ("radio", "select"):
            item.options = _options(sub)
        elif widget == "checkboxes":
            item.options = _options(sub.get("items") or {})
        elif widget == "yesno":
            item.options = [Option("true", translate("Ja", lang), True), Option("false", translate("Nee", lang), False)]
        elif widget == "group":
            nested = values.get(name) if isinstance(values.get(name), Mapping) else {
                k[len(full) + 1:]: v for k, v in values.items() if k.startswith(full + ".")}
            item.children = build_fields(sub, nested, errors, lang, prefix=f"{full}.")
        elif widget == "hidden":
            item.value = _value_text(sub["const"])
        if widget not in ("group", "hidden"):
            item.value = _shown(values.get(full) if full in values else values.get(name), widget)
        fields.append(item)
    return fields


def _shown(value: Any, widget: str) -> Any:
    """A stored JSON value (from a draft or the record) or a raw submitted text, ready to show."""
    if value is None:
        return [] if widget == "checkboxes" else ""
    if widget == "checkboxes":
        return [_value_text(v) for v in value] if isinstance(value, list) else [_value_text(value)]
    if widget == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if widget == "json":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
    if widget == "yesno" and isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return _value_text(value)


def raw_values(schema: Mapping[str, Any], form: FormData, prefix: str = "") -> dict[str, Any]:
    """The submitted text of each field, kept as typed (for drafts and redisplay)."""
    raw: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        full = f"{prefix}{name}"
        widget = _widget(sub)
        if widget == "group":
            raw.update(raw_values(sub, form, prefix=f"{full}."))
        elif widget == "checkboxes":
            picked = [str(v) for v in form.getlist(full)]
            if picked or form.get(f"{full}.present") is not None:
                raw[full] = picked
        else:
            value = form.get(full)
            if value is not None:
                raw[full] = str(value)
    return raw


def parse(schema: Mapping[str, Any], raw: Mapping[str, Any], lang: str = "nl",
          prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """Raw field texts -> (JSON data for the engine, field errors found while reading them).
    Empty optional fields are left out (the engine reads them as absent)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        full = f"{prefix}{name}"
        widget = _widget(sub)
        if widget == "group":
            nested, nested_errors = parse(sub, raw, lang, prefix=f"{full}.")
            errors.update(nested_errors)
            if nested:
                data[name] = nested
            continue
        if widget == "hidden":
            data[name] = sub["const"]
            continue
        value = raw.get(full)
        if widget == "checkboxes":
            if value is None:
                continue
            picked = value if isinstance(value, list) else [value]
            by_text = {o.value: o.raw for o in _options(sub.get("items") or {})}
            unknown = [v for v in picked if v not in by_text]
            if unknown:
                errors[full] = translate("Kies uit de mogelijkheden.", lang)
            chosen = [by_text[v] for v in by_text if v in picked]
            # Nothing ticked is an answer (e.g. "no consent to share"), unless the list may not be empty:
            # then it is left out, and "required" says what is missing when it is.
            if chosen or int(sub.get("minItems", 0)) == 0:
                data[name] = chosen
            continue
        text = (value if isinstance(value, str) else "" if value is None else str(value)).strip()
        if text == "":
            continue
        if len(text) > MAX_TEXT_CHARS:
            errors[full] = translate("Hoogstens {n} tekens.", lang, n=MAX_TEXT_CHARS)
            continue
        try:
            data[name] = _read(widget, sub, text, lang)
        except ValueError as exc:
            errors[full] = str(exc)
    return data, errors


def _read(widget: str, schema: Mapping[str, Any], text: str, lang: str) -> Any:
    if widget in ("radio", "select"):
        for option in _options(schema):
            if option.value == text:
                return option.raw
        raise ValueError(translate("Kies uit de mogelijkheden.", lang))
    if widget == "yesno":
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(translate("Kies ja of nee.", lang))
    if widget in ("number", "integer"):
        cleaned = text.replace(" ", "").replace("€", "")
        if "," in cleaned:  # Dutch: 1.234,56
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            number = float(cleaned)
        except ValueError:
            raise ValueError(translate("Vul een getal in.", lang)) from None
        if not math.isfinite(number):  # float() reads "nan" and "inf"; neither is a number here
            raise ValueError(translate("Vul een getal in.", lang))
        if widget == "integer":
            if not number.is_integer():
                raise ValueError(translate("Vul een heel getal in.", lang))
            return int(number)
        return int(number) if number.is_integer() and "." not in cleaned else number
    if widget == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(translate("Vul een datum in.", lang)) from None
    if widget == "datetime":
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(translate("Vul een datum en tijd in.", lang)) from None
    if widget == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if widget == "json":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(translate("Dit is geen geldige JSON.", lang)) from None
    if widget == "email" and ("@" not in text or text.startswith("@") or text.endswith("@")):
        raise ValueError(translate("Vul een geldig e-mailadres in.", lang))
    return text


def _message(error: Any, lang: str) -> str:
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        return translate("Vul dit veld in.", lang)
    if kind == "minLength":
        return translate("Vul dit veld in.", lang) if value == 1 else translate("Minstens {n} tekens.", lang, n=value)
    if kind == "maxLength":
        return translate("Hoogstens {n} tekens.", lang, n=value)
    if kind in ("minimum", "exclusiveMinimum"):
        return translate("Minstens {n}.", lang, n=value)
    if kind in ("maximum", "exclusiveMaximum"):
        return translate("Hoogstens {n}.", lang, n=value)
    if kind == "minItems":
        return translate("Kies er minstens {n}.", lang, n=value)
    if kind == "maxItems":
        return translate("Kies er hoogstens {n}.", lang, n=value)
    if kind == "uniqueItems":
        return translate("Elke keuze één keer.", lang)
    if kind in ("enum", "const", "oneOf", "anyOf"):
        return translate("Kies uit de mogelijkheden.", lang)
    if kind == "type" and isinstance(error.instance, float) and not math.isfinite(error.instance):
        return translate("Vul een getal in.", lang)
    if kind == "type":
        return translate("Deze waarde past niet bij het veld.", lang)
    if kind == "pattern":
        return translate("Het formaat klopt niet.", lang)
    if kind == "format":
        return translate(_FORMAT_MESSAGES.get(str(value), "Het formaat klopt niet."), lang)
    if kind == "additionalProperties":
        return translate("Het formulier bevat een onbekend veld.", lang)
    return str(error.message)


def validate(schema: Mapping[str, Any], data: Mapping[str, Any], lang: str = "nl",
             validator: Draft202012Validator | None = None) -> tuple[dict[str, str], list[str]]:
    """Errors of `data` against the schema: ({field: message}, [messages about the whole form])."""
    checker = validator or validator_for(schema)
    fields: dict[str, str] = {}
    general: list[str] = []
    for error in sorted(checker.iter_errors(dict(data)), key=lambda e: [str(p) for p in e.absolute_path]):
        path = [str(p) for p in error.absolute_path if isinstance(p, str)]
        if error.validator == "required" and _condition_unanswered(checker.schema, error):
            continue  # "required if X is Y" while X is still empty: X's own message says what to do first
        if error.validator == "required":
            instance = error.instance if isinstance(error.instance, Mapping) else {}
            for name in error.validator_value:
                if name not in instance:
                    fields.setdefault(".".join([*path, name]), _message(error, lang))
            continue
        if error.validator in ("allOf", "if", "then", "else"):
            continue
        if path:
            fields.setdefault(".".join(path), _message(error, lang))
        else:
            general.append(_message(error, lang))
    return fields, general


def _condition_unanswered(schema: Any, error: Any) -> bool:
    """Whether a `required` error comes from an `if`/`then` whose condition names a field not filled in.

    JSON Schema's `if: {properties: {x: {const: ...}}}` holds when `x` is absent, so an empty form
    would be told to fill in every field that is only needed for one answer of `x`. A worker reads
    "required if x is ..." as "once x is ...": such a field is not flagged until `x` has an answer."""
    path = list(error.schema_path)
    if "then" not in path:
        return False
    at = len(path) - 1 - path[::-1].index("then")
    rule: Any = schema
    for step in path[:at]:
        try:
            rule = rule[step]
        except (KeyError, IndexError, TypeError):
            return False
    condition = rule.get("if") if isinstance(rule, Mapping) else None
    if not isinstance(condition, Mapping):
        return False
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    named = list((condition.get("properties") or {}).keys())
    return any(name not in instance for name in named)
