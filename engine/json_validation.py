"""The JSON Schema validator for what people and systems send: forms, case data, partner answers.

jsonschema runs `pattern` with Python's backtracking `re`, so a pattern such as `^(a+)+$` in a
pathway made 27 characters of input take 15 seconds. Here `pattern` and `format: regex` run on
RE2 (google-re2), which matches in time linear in the input, and the loader refuses a pattern RE2
cannot compile (back-references, look-around) at the line where it is written. `patternProperties`
is refused by the loader (forms declare their fields), so no user-chosen regex reaches `re`.

Numbers must be finite: NaN and the infinities are not JSON numbers and fail `type`. Formats are
enforced, not only annotated: `date`, `date-time`, `time`, `email`, `idn-email`, `ipv4`, `ipv6`,
`uuid` and `regex`; the loader refuses any other format, which carepath could not check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, cast

import re2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from engine.problem_texts import TEXTS, Text, all_of, any_words, one_of, text
from engine.suggest import did_you_mean

ENFORCED_FORMATS = ("date", "date-time", "time", "email", "idn-email", "ipv4", "ipv6", "uuid", "regex")
EMAIL_MAX = 254  # RFC 5321: the longest address a mail server accepts


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the loader's message, not a line on stderr
    return options


_OPTIONS = _options()


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern: str) -> str:
    """Why RE2 cannot run `pattern` in linear time ("" when it can)."""
    try:
        _compiled(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return ""


def matches(pattern: str, text: str) -> bool:
    """`pattern` found anywhere in `text` (JSON Schema's `pattern` is not anchored), in linear time."""
    return _compiled(pattern).search(text) is not None


def _pattern(validator: Validator, pattern: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string") or not isinstance(pattern, str):
        return
    if pattern_problem(pattern):
        yield ValidationError(f"the pattern {pattern!r} cannot be checked in linear time")
    elif not matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _finite_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return isinstance(instance, int) or math.isfinite(instance)


def _finite_integer(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    return isinstance(instance, float) and math.isfinite(instance) and instance.is_integer()


_FINITE_TYPES = Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"number": _finite_number, "integer": _finite_integer})


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=[f for f in ENFORCED_FORMATS if f not in ("email", "idn-email", "regex")])

    @checker.checks("email")
    @checker.checks("idn-email")
    def _email(instance: object) -> bool:
        """One @, a local part and a domain with a dot, no spaces, at most 254 characters."""
        if not isinstance(instance, str):
            return True
        if len(instance) > EMAIL_MAX:
            return False
        return matches(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", instance)

    @checker.checks("regex")
    def _regex(instance: object) -> bool:
        return not isinstance(instance, str) or not pattern_problem(instance)

    return checker


FORMAT_CHECKER = _format_checker()

CarepathValidator = cast(type[Draft202012Validator], extend(
    Draft202012Validator, validators={"pattern": _pattern}, type_checker=_FINITE_TYPES))  # type: ignore[no-untyped-call]


def validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A 2020-12 validator for `schema` with RE2 patterns, finite numbers and enforced formats."""
    return CarepathValidator(dict(schema), format_checker=FORMAT_CHECKER)


# ---------------------------------------------------------------- errors in words


_TYPE_WORDS = {t: f"deel-type-{t}" for t in ("string", "array", "object", "integer", "number", "boolean", "null")}


def describe(value: Any) -> Text | str:
    """A value as a coordinator would recognise it in a message."""
    if value is None:
        return text("deel-waarde-leeg")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return text("deel-waarde-getal", number=value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return text("deel-waarde-tekst", value=shown)
    if isinstance(value, list):
        return text("deel-waarde-lijst")
    return text("deel-waarde-mapping")


def _suggest_id(value: str, hyphen: bool) -> Text | None:
    sep = "-" if hyphen else "_"
    slug = re.sub(r"[^a-z0-9]+", sep, value.lower()).strip(sep)
    slug = re.sub(r"^[^a-z]+", "", slug)
    return text("hint-bedoel-je", word=slug) if slug and slug != value else None


def keyword_message(validator: str, expected: Any, instance: Any, schema: Mapping[str, Any],
             several: bool = False) -> tuple[Text, Text | None]:
    """(message, hint) for one failed JSON Schema keyword, as catalogue texts (engine/problem_texts.py).

    `several`: a `oneOf` that more than one of its forms matched.
    """
    examples = schema.get("examples")
    example_hint = (text("hint-bijvoorbeeld", example=str(examples[0]))
                    if isinstance(examples, list) and examples else None)
    if validator == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        words = any_words([text(_TYPE_WORDS[str(t)]) if str(t) in _TYPE_WORDS else str(t) for t in wanted])
        hint = example_hint
        if "string" in wanted and isinstance(instance, (int, float, bool)) and not hint:
            hint = text("hint-aanhalingstekens")
        return text("verkeerd-type", expected=words, value=describe(instance)), hint
    if validator == "enum":
        options = [str(o) for o in expected]
        suggestion = did_you_mean(str(instance), options) if isinstance(instance, str) else None
        return text("waarde-niet-toegestaan", value=describe(instance), options=one_of(options)), suggestion
    if validator == "const":
        return text("moet-gelijk-zijn", expected=str(expected), value=describe(instance)), None
    if validator == "pattern" and isinstance(instance, str):
        if expected.startswith("^[a-z][a-z0-9-]"):
            return text("ongeldige-zorgpad-id", value=instance), _suggest_id(instance, hyphen=True)
        if expected.startswith("^[a-z][a-z0-9_]"):
            return text("ongeldige-id", value=instance), _suggest_id(instance, hyphen=False)
        return text("verkeerde-vorm", value=instance), example_hint
    if validator == "format":
        name = f"deel-formaat-{expected}"
        shown: Text | str = text(name) if name in TEXTS else str(expected)
        return text("ongeldig-formaat", value=describe(instance), format=shown), text("hint-datum")
    counts = {"minItems": "lijst-te-kort", "maxItems": "lijst-te-lang", "minLength": "tekst-te-kort",
              "maxLength": "tekst-te-lang", "minProperties": "te-weinig-velden", "maxProperties": "te-veel-velden"}
    limits = {"minimum": "te-klein", "exclusiveMinimum": "niet-groter-dan", "maximum": "te-groot",
              "exclusiveMaximum": "niet-kleiner-dan"}
    if validator == "minItems" and expected == 1:
        return text("lijst-leeg"), None
    if validator == "minLength" and expected == 1:
        return text("tekst-leeg"), None
    if validator in ("minProperties", "maxProperties"):
        names = list(schema.get("properties", {}))
        if schema.get("minProperties") == schema.get("maxProperties") == 1 and names:
            return text("precies-een-van", options=one_of(names)), None
    if validator in counts:
        return text(counts[validator], count=expected), None
    if validator in limits:
        return text(limits[validator], limit=expected), None
    if validator == "uniqueItems":
        return text("lijst-dubbel"), text("hint-herhaling-weg")
    if validator in ("oneOf", "anyOf"):
        return text("past-bij-meer-vormen" if several else "past-bij-geen-vorm"), None
    return text("ongeldig-hier"), None


def error_problem(error: ValidationError) -> tuple[str, Text, Text | None]:
    """(element path, message, hint) of one jsonschema error, for data a person sent (a form, case data).

    The path is dotted (`address.city`, `children[0].age`); an unknown key is named with a
    did-you-mean, a missing required key by name. Render with `Text.render(language)`.
    """
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    instance: Any = error.instance
    expected: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required" and isinstance(instance, dict):
        missing = [k for k in expected if k not in instance and error.message.startswith(repr(k))]
        missing = missing or [k for k in expected if k not in instance]
        return path, text("veld-ontbreekt", key=str(missing[0]) if missing else "?"), None
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [str(k) for k in instance if k not in allowed]
        hint = did_you_mean(extra[0], allowed) if len(extra) == 1 else None
        return path, text("onbekende-velden", keys=all_of(extra)), hint
    if error.validator is None:
        return path, text("niet-toegestaan-hier"), None
    message, hint = keyword_message(str(error.validator), expected, instance, schema,
                                    error.validator == "oneOf" and not error.context)
    return path, message, hint


def error_text(error: ValidationError, language: str = "nl") -> str:
    """One jsonschema error as a line a person reads: `path: message (hint)`, Dutch unless `language` is "en"."""
    path, message, hint = error_problem(error)
    shown = message.render(language) + (f" ({hint.render(language)})" if hint is not None else "")
    return f"{path}: {shown}" if path else shown
