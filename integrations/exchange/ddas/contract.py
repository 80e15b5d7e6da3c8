"""The contract: the shared DDAS v1.2 JSON Schema, applied with format checking, errors in Dutch.

The schema is not copied into carepath: it is read where the standard is kept, by default
`../shared/standards/ddas-v1.2/uitwisselmodel.schema.json` next to the repository (how CI lays it
out), or the file `$CAREPATH_DDAS_SCHEMA` names. When it is absent every import and export stops
with an error that says where it was looked for.

Signals are validated one at a time against the schema's own signal definition (the envelope and
each delivery's header separately), so a file of 100,000 signals never has to be in memory whole.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from engine.errors import ValidationError

SCHEMA_ENV = "CAREPATH_DDAS_SCHEMA"
SCHEMA_RELATIVE = Path("..") / "shared" / "standards" / "ddas-v1.2" / "uitwisselmodel.schema.json"
REPOSITORY_ROOT = Path(__file__).resolve().parents[3]


class ContractMissing(ValidationError):
    """The DDAS schema file is not where carepath looks for it."""


def schema_path() -> Path:
    """`$CAREPATH_DDAS_SCHEMA`, else ../shared/standards/ddas-v1.2/ beside the repository root."""
    configured = os.environ.get(SCHEMA_ENV)
    return Path(configured) if configured else (REPOSITORY_ROOT / SCHEMA_RELATIVE).resolve()


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ContractMissing(
            f"het DDAS-schema (uitwisselmodel v1.2) ontbreekt: {path} bestaat niet. Zet de standaard in "
            f"../shared/standards/ddas-v1.2/ naast de repository of wijs het bestand aan met ${SCHEMA_ENV}."
        ) from exc
    try:
        schema: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractMissing(f"het DDAS-schema {path} is geen geldige JSON: {exc}") from exc
    Draft202012Validator.check_schema(schema)
    return schema


def load_schema() -> dict[str, Any]:
    """The DDAS schema as a (cached, do not change) dict."""
    return _load(str(schema_path()))


@dataclass(frozen=True)
class ContractError:
    """One thing wrong in a delivery: where (`plaats`), which field (`veld`), what (`fout`), in Dutch."""

    plaats: str  # e.g. "levering 1, signaal 13 (ID S-13)" or "bestand"
    veld: str  # e.g. "client.burgerservicenummer"; "" for the object itself
    fout: str
    levering: int | None = None  # 0-based index, for machines
    signaal: int | None = None  # 0-based index within the delivery, for machines

    def __str__(self) -> str:
        where = f"{self.plaats}, veld {self.veld}" if self.veld else self.plaats
        return f"{where}: {self.fout}"

    def to_json(self) -> dict[str, Any]:
        return {"plaats": self.plaats, "veld": self.veld, "fout": self.fout, "levering": self.levering,
                "signaal": self.signaal}


_TYPES_NL = {"string": "tekst", "integer": "geheel getal", "number": "getal", "boolean": "true of false",
             "object": "object", "array": "lijst", "null": "null"}
_FORMATS_NL = {"date": "datum (JJJJ-MM-DD)", "date-time": "datum en tijd (ISO 8601 met tijdzone)",
               "email": "e-mailadres", "time": "tijd"}


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _client_message(instance: Any) -> str:
    if not isinstance(instance, Mapping):
        return "client moet een object zijn"
    if "burgerservicenummer" in instance:
        bsn = instance["burgerservicenummer"]
        extra = sorted(set(instance) - {"burgerservicenummer"})
        if isinstance(bsn, str) and len(bsn) != 9:
            return f"burgerservicenummer moet precies 9 tekens zijn, niet {len(bsn)}"
        if extra:
            return ("met een burgerservicenummer horen er geen andere cliëntvelden bij: "
                    + ", ".join(extra) + " (geef óf alleen een BSN óf postcode en huisnummer)")
        return "client klopt niet: geef óf een burgerservicenummer óf postcode en huisnummer"
    missing = [f for f in ("postcode", "huisnummer") if f not in instance]
    if missing:
        return "zonder burgerservicenummer zijn postcode en huisnummer verplicht; ontbreekt: " + ", ".join(missing)
    return "client klopt niet: geef óf een burgerservicenummer óf postcode en huisnummer"


def dutch(error: SchemaError) -> tuple[str, str]:
    """(field path, Dutch message) for one jsonschema error."""
    field = _path(error.absolute_path)
    kind, value = str(error.validator), cast(Any, error.validator_value)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(value)
        return _path([*error.absolute_path, missing]), "verplicht veld ontbreekt"
    if kind == "additionalProperties":
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        extra = sorted(set(error.instance) - set(schema.get("properties", {}))) if isinstance(
            error.instance, Mapping) else []
        if len(extra) == 1:
            return _path([*error.absolute_path, extra[0]]), "onbekend veld (niet in het DDAS-schema)"
        return field, "onbekende velden: " + ", ".join(extra)
    if kind == "type":
        return field, f"verwacht {_TYPES_NL.get(str(value), value)}, gevonden {_short(error.instance)}"
    if kind == "enum":
        return field, f"{_short(error.instance)} is geen toegestane waarde; toegestaan: " + ", ".join(str(v) for v in value)
    if kind == "format":
        return field, f"{_short(error.instance)} is geen geldige {_FORMATS_NL.get(str(value), value)}"
    if kind == "oneOf" and field.endswith("client"):
        return field, _client_message(error.instance)
    if kind in ("minLength", "maxLength"):
        return field, f"lengte moet {'minstens' if kind == 'minLength' else 'hoogstens'} {value} tekens zijn"
    if kind == "minItems":
        return field, f"moet minstens {value} element(en) bevatten"
    if kind == "uniqueItems":
        return field, "bevat dubbele elementen"
    return field, f"voldoet niet aan de regel '{kind}' van het DDAS-schema"


class _Checker:
    """A fast yes/no (jsonschema-rs) and, only for what fails, jsonschema's errors in Dutch."""

    def __init__(self, schema: dict[str, Any], checker: FormatChecker) -> None:
        self._fast = jsonschema_rs.validator_for(schema, validate_formats=True)
        self._detail = Draft202012Validator(schema, format_checker=checker)

    def errors(self, instance: Any) -> list[tuple[str, str]]:
        if self._fast.is_valid(instance):
            return []
        found = [dutch(e) for e in sorted(self._detail.iter_errors(instance),
                                          key=lambda e: list(map(str, e.absolute_path)))]
        if found:
            return found
        # The two libraries differ on a format (e-mail is stricter here): say what the fast one found.
        return [(_path(e.instance_path), f"voldoet niet aan het DDAS-schema: {e.message}")
                for e in self._fast.iter_errors(instance)]


class Contract:
    """Validators for the envelope, a delivery header, a signal and a case, all with format checking."""

    def __init__(self, schema: Mapping[str, Any] | None = None) -> None:
        self.schema = dict(schema) if schema is not None else load_schema()
        defs = self.schema["$defs"]
        levering = self.schema["properties"]["leveringen"]["items"]
        checker = FormatChecker()

        def part(sub: Mapping[str, Any]) -> _Checker:
            return _Checker({**copy.deepcopy(dict(sub)), "$defs": defs}, checker)

        envelope = copy.deepcopy(self.schema)
        envelope["properties"]["leveringen"].pop("uniqueItems", None)  # checked on whole deliveries by the reader
        header = envelope["properties"]["leveringen"]["items"]
        header["properties"] = {k: v for k, v in header["properties"].items()
                                if k not in ("vroegsignalen", "vroegsignaalzaken")}
        self._envelope = _Checker(envelope, checker)
        self._signal = part(levering["properties"]["vroegsignalen"]["items"])
        self._zaak = part(levering["properties"]["vroegsignaalzaken"]["items"])
        self._whole = _Checker(self.schema, checker)

    @staticmethod
    def _errors(validator: _Checker, instance: Any) -> Iterator[tuple[str, str]]:
        yield from validator.errors(instance)

    def envelope_errors(self, envelope: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Errors in the top level and the delivery headers (the signals and cases left out)."""
        return list(self._errors(self._envelope, envelope))

    def signal_errors(self, signal: Any) -> list[tuple[str, str]]:
        return list(self._errors(self._signal, signal))

    def zaak_errors(self, zaak: Any) -> list[tuple[str, str]]:
        return list(self._errors(self._zaak, zaak))

    def document_errors(self, document: Any) -> list[tuple[str, str]]:
        """The whole document at once (for exports and tests; an import streams instead)."""
        return list(self._errors(self._whole, document))


@lru_cache(maxsize=1)
def default_contract() -> Contract:
    return Contract()
