"""Who pays for a case: the funder (*financier*) of a pathway or a single case.

A municipality, a health insurer, a school board or a housing corporation commissions social
work and wants its own aggregates. A funder is named by its kind and its code; together they form
the *funder key* (``municipality:GM0599``, ``health_insurer:3311``) that a case carries and a
funder's analyst account is bound to. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from engine.errors import ValidationError
from engine.messages import Message, msg


class FunderKind(str, Enum):
    MUNICIPALITY = "municipality"  # gemeente: code is the CBS code, GM and four digits
    HEALTH_INSURER = "health_insurer"  # zorgverzekeraar: e.g. the UZOVI number
    SCHOOL_BOARD = "school_board"  # schoolbestuur: e.g. the bestuursnummer
    HOUSING_CORPORATION = "housing_corporation"  # woningcorporatie: e.g. the L-number


_MUNICIPALITY_PREFIX = f"{FunderKind.MUNICIPALITY.value}:"

KIND_LABELS = {
    FunderKind.MUNICIPALITY: "gemeente",
    FunderKind.HEALTH_INSURER: "zorgverzekeraar",
    FunderKind.SCHOOL_BOARD: "schoolbestuur",
    FunderKind.HOUSING_CORPORATION: "woningcorporatie",
}

_CBS = re.compile(r"GM\d{4}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")


@dataclass(frozen=True)
class Funder:
    kind: FunderKind
    code: str
    name: str = ""

    @property
    def key(self) -> str:
        return funder_key(self.kind, self.code)


def check_code(kind: FunderKind, code: str) -> Message | None:
    """What is wrong with `code` for a funder of `kind` (Dutch), or None."""
    if kind is FunderKind.MUNICIPALITY:
        return None if _CBS.fullmatch(code) else msg("funder.municipality_code", code=code)
    return None if _CODE.fullmatch(code) else msg("funder.other_code", code=code)


def funder_key(kind: FunderKind, code: str) -> str:
    problem = check_code(kind, code)
    if problem is not None:
        raise ValidationError(msg("funder.bad", text=f"{kind.value}:{code}", problem=problem))
    return f"{kind.value}:{code}"


def parse_funder_key(text: str) -> tuple[FunderKind, str]:
    """(kind, code) of a funder key such as ``health_insurer:3311``; ValidationError naming the problem."""
    kind_text, sep, code = text.partition(":")
    kinds = [k.value for k in FunderKind]
    if not sep:
        raise ValidationError(msg("funder.form", text=text, kinds=kinds))
    try:
        kind = FunderKind(kind_text)
    except ValueError:
        raise ValidationError(msg("funder.kind", text=text, kind=kind_text, kinds=kinds)) from None
    problem = check_code(kind, code)
    if problem is not None:
        raise ValidationError(msg("funder.bad", text=text, problem=problem))
    return kind, code


def municipality_key(cbs_code: str) -> str:
    """The funder key of a municipality (the funder of a case that names no other)."""
    return _MUNICIPALITY_PREFIX + cbs_code
