"""Finding a client: by name, date of birth, postcode + house number and (where the pathway keeps it) BSN.

Pathways name their personal fields differently (`tenant_name`, `pupil_name`,
`family_name`; `address` as free text), so `client_fields` reads which field is
which from the pathway's case data. A search looks only at the cases of the
searcher's teams, needs a reason, and writes one audit entry with that reason
and what was searched on (never the search terms: they are personal data).
Closed cases are searched only when asked for; the reason covers showing them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from engine.compiled import CompiledPathway
from engine.definition import Pathway
from integrations.db.models import CasePersonalDataRow, CaseRow
from web.timefmt import fmt_date

_POSTCODE = re.compile(r"\b(\d{4})\s?([A-Za-z]{2})\b")


@dataclass(frozen=True)
class ClientFields:
    """Which personal field of a pathway holds what (None: the pathway does not keep it)."""

    name: str | None
    birth_date: str | None
    address: str | None
    bsn: str | None


_FIELDS_OF: dict[int, tuple[Pathway, ClientFields]] = {}  # id(pathway) -> (that pathway, its fields)


def client_fields(pathway: Pathway) -> ClientFields:
    """The pathway's client fields, worked out once per pathway version (every work list asks)."""
    known = _FIELDS_OF.get(id(pathway))
    if known is not None and known[0] is pathway:
        return known[1]
    fields = _client_fields(pathway)
    _FIELDS_OF[id(pathway)] = (pathway, fields)
    return fields


def _client_fields(pathway: Pathway) -> ClientFields:
    props: Mapping[str, Any] = pathway.case_data.get("properties", {})
    personal = [k for k in pathway.personal_data if k in props]

    def first(test: Any) -> str | None:
        return next((k for k in personal if test(k, props.get(k) or {})), None)

    return ClientFields(
        name=first(lambda k, s: k == "name" or k.endswith("_name") or str(s.get("title", "")).lower() == "naam"),
        birth_date=first(lambda k, s: "birth" in k or "geboorte" in k or str(s.get("title", "")).lower() == "geboortedatum"),
        address=first(lambda k, s: "address" in k or "adres" in k),
        bsn=first(lambda k, s: k.lower() in ("bsn", "burgerservicenummer", "client_bsn")),
    )


def normal(text: str) -> str:
    """Lower case, accents off, one space: `Yılmaz` and `yilmaz` match, so do `José` and `jose`."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@dataclass(frozen=True)
class Criteria:
    name: str = ""
    birth_date: date | None = None
    postcode: str = ""  # "9981AB"
    house_number: str = ""  # "12" or "12a"
    bsn: str = ""

    def empty(self) -> bool:
        return not (self.name or self.birth_date or self.postcode or self.bsn)

    def described(self) -> str:
        """What was searched on, for the audit log: the kinds of criteria, never their values."""
        parts = [word for word, given in (("name", self.name), ("date of birth", self.birth_date),
                                          ("postcode", self.postcode), ("house number", self.house_number),
                                          ("BSN", self.bsn)) if given]
        return ", ".join(parts)


def parse_criteria(form: Mapping[str, str]) -> tuple[Criteria, dict[str, str]]:
    """Criteria from the search form, and Dutch messages for fields that cannot be used."""
    errors: dict[str, str] = {}
    name = " ".join(form.get("naam", "").split())[:200]
    birth: date | None = None
    raw_birth = form.get("geboortedatum", "").strip()
    if raw_birth:
        birth = _parse_date(raw_birth)
        if birth is None:
            errors["geboortedatum"] = "Vul de geboortedatum in als dag-maand-jaar, bijvoorbeeld 12-05-1984."
    postcode = form.get("postcode", "").replace(" ", "").upper()
    if postcode and not re.fullmatch(r"\d{4}[A-Z]{2}", postcode):
        errors["postcode"] = "Een postcode is vier cijfers en twee letters, bijvoorbeeld 9981 AB."
    house = form.get("huisnummer", "").strip().lower().replace(" ", "")
    if house and not re.fullmatch(r"\d{1,5}[a-z]?(-?\w{1,4})?", house):
        errors["huisnummer"] = "Een huisnummer begint met cijfers, bijvoorbeeld 12 of 12a."
    if house and not postcode:
        errors["postcode"] = "Zoek op postcode én huisnummer: vul ook de postcode in."
    bsn = re.sub(r"\D", "", form.get("bsn", ""))
    if form.get("bsn", "").strip() and not _valid_bsn(bsn):
        errors["bsn"] = "Dit is geen geldig BSN: negen cijfers die de elfproef doorstaan."
    found = Criteria(name, birth, postcode, house, bsn)
    if found.empty() and not errors:
        errors["naam"] = "Vul een naam, geboortedatum, postcode of BSN in."
    if name and len(normal(name).replace(" ", "")) < 2:
        errors["naam"] = "Vul minstens twee letters van de naam in."
    return found, errors


def _parse_date(raw: str) -> date | None:
    for pattern in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, pattern).date()  # noqa: DTZ007 - a calendar date, no moment
        except ValueError:
            continue
    return None


def _valid_bsn(digits: str) -> bool:
    """The eleven test (elfproef) of a burgerservicenummer."""
    if len(digits) != 9 or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0


def _address_matches(address: str, postcode: str, house: str) -> bool:
    compact = address.upper().replace(" ", "")
    if postcode not in compact:
        return False
    if not house:
        return True
    # the house number as a word of its own (so 1 does not match 12): "Dorpsstraat 12a" or "12-2"
    return re.search(rf"(?<![\w]){re.escape(house)}(?![\d])", address.lower()) is not None


def matches(criteria: Criteria, data: Mapping[str, Any], fields: ClientFields) -> bool:
    if criteria.name:
        if fields.name is None or not isinstance(data.get(fields.name), str):
            return False
        have = normal(data[fields.name])
        if not all(word in have for word in normal(criteria.name).split()):
            return False
    if criteria.birth_date and (
            fields.birth_date is None or str(data.get(fields.birth_date) or "") != criteria.birth_date.isoformat()):
        return False
    if criteria.postcode:
        if fields.address is None or not isinstance(data.get(fields.address), str):
            return False
        if not _address_matches(data[fields.address], criteria.postcode, criteria.house_number):
            return False
    return not criteria.bsn or (
        fields.bsn is not None and re.sub(r"\D", "", str(data.get(fields.bsn) or "")) == criteria.bsn)


@dataclass(frozen=True)
class Found:
    case_id: str
    pathway_id: str
    status: str
    team: str | None
    opened_at: datetime
    name: str
    facts: str  # date of birth, address: what tells two people of the same name apart


def _prefilter(criteria: Criteria) -> list[str]:
    """Digit strings every matching row's stored JSON text contains (a cheap SQL narrowing)."""
    pieces = []
    if criteria.birth_date:
        pieces.append(criteria.birth_date.isoformat())
    if criteria.postcode:
        pieces.append(criteria.postcode[:4])
    if criteria.bsn:
        pieces.append(criteria.bsn[:3])
    # Not the name: stored JSON may escape accents (`Jos\u00e9`), and `jose` must find José.
    return pieces


def search(session: Session, teams: Sequence[str], criteria: Criteria, lookup: Any, *,
           include_closed: bool, limit: int = 50) -> tuple[list[Found], bool]:
    """Cases of `teams` whose client matches (newest first), and whether there were more than `limit`.

    `lookup(pathway_id, version)` gives the compiled pathway a case runs on."""
    if not teams or criteria.empty():
        return [], False
    stmt = (select(CaseRow.id, CaseRow.pathway_id, CaseRow.pathway_version, CaseRow.status, CaseRow.team,
                   CaseRow.opened_at, CasePersonalDataRow.data)
            .join(CasePersonalDataRow, CasePersonalDataRow.case_id == CaseRow.id)
            .where(CaseRow.team.in_(list(teams))))
    if not include_closed:
        stmt = stmt.where(CaseRow.status != "closed")
    text = func.lower(cast(CasePersonalDataRow.data, String))
    for piece in _prefilter(criteria):
        stmt = stmt.where(text.contains(piece, autoescape=True))
    stmt = stmt.order_by(CaseRow.opened_at.desc(), CaseRow.id)
    found: list[Found] = []
    fields_of: dict[tuple[str, int], ClientFields] = {}
    for case_id, pathway_id, version, status, team, opened_at, data in session.execute(stmt):
        key = (pathway_id, version)
        if key not in fields_of:
            fields_of[key] = client_fields(_pathway(lookup, pathway_id, version))
        fields = fields_of[key]
        if not matches(criteria, data or {}, fields):
            continue
        if len(found) == limit:
            return found, True
        found.append(Found(case_id, pathway_id, status, team, opened_at, name_of(data or {}, fields),
                           facts_of(data or {}, fields)))
    return found, False


def _pathway(lookup: Any, pathway_id: str, version: int) -> Pathway:
    compiled: CompiledPathway = lookup(pathway_id, version)
    return compiled.pathway


def name_of(data: Mapping[str, Any], fields: ClientFields) -> str:
    value = data.get(fields.name) if fields.name else None
    return str(value) if value else ""


def facts_of(data: Mapping[str, Any], fields: ClientFields, lang: str = "nl") -> str:
    facts = []
    if fields.birth_date and data.get(fields.birth_date):
        try:
            born = fmt_date(date.fromisoformat(str(data[fields.birth_date])), lang, weekday=False)
            facts.append(("geboren " if lang == "nl" else "born ") + born)
        except ValueError:
            pass
    if fields.address and data.get(fields.address):
        facts.append(str(data[fields.address]))
    return " · ".join(facts)


def names_for(session: Session, rows: Iterable[tuple[str, str, int, str]], lookup: Any) -> dict[str, str]:
    """Client names of (case id, pathway, version, status) rows, for lists; closed cases stay unnamed."""
    wanted = {case_id: (pathway_id, version) for case_id, pathway_id, version, status in rows if status != "closed"}
    if not wanted:
        return {}
    found = {}
    for case_id, data in session.execute(select(CasePersonalDataRow.case_id, CasePersonalDataRow.data)
                                         .where(CasePersonalDataRow.case_id.in_(list(wanted)))):
        fields = client_fields(_pathway(lookup, *wanted[case_id]))
        name = name_of(data or {}, fields)
        if name:
            found[case_id] = name
    return found


def names_of_cases(personal: Mapping[str, tuple[str, int, Mapping[str, Any]]], lookup: Any) -> dict[str, str]:
    """Client names by case id, from each case's (pathway, version, personal data), as the work page
    reads them with its tasks (`caselists.work_page(names=True)`)."""
    found = {}
    for case_id, (pathway_id, version, data) in personal.items():
        name = name_of(data, client_fields(_pathway(lookup, pathway_id, version)))
        if name:
            found[case_id] = name
    return found
