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
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, cast

import re2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

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
