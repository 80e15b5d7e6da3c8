"""The server's error answers in Dutch (English when the person's language says so).

`request_problem` renders one pydantic error of a refused request (FastAPI's
`RequestValidationError`) with its place: "veld `due` in de body: moet een datum zijn".
`SERVER_TEXTS` holds the headings and explanations of the error page and of the API's
`error.message` for 404, 405, 422, 500 and the other statuses the app answers itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# pydantic error type -> (Dutch, English); `{name}` takes the value of that key of the error's ctx.
_PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("ontbreekt", "is missing"),
    "string_type": ("moet tekst zijn", "must be text"),
    "string_too_short": ("moet minstens {min_length} tekens zijn", "must be at least {min_length} characters"),
    "string_too_long": ("mag hoogstens {max_length} tekens zijn", "must be at most {max_length} characters"),
    "string_pattern_mismatch": ("heeft niet het juiste formaat", "does not have the right format"),
    "int_type": ("moet een heel getal zijn", "must be a whole number"),
    "int_parsing": ("moet een heel getal zijn", "must be a whole number"),
    "int_from_float": ("moet een heel getal zijn", "must be a whole number"),
    "float_type": ("moet een getal zijn", "must be a number"),
    "float_parsing": ("moet een getal zijn", "must be a number"),
    "finite_number": ("moet een eindig getal zijn", "must be a finite number"),
    "bool_type": ("moet ja of nee zijn (true of false)", "must be yes or no (true or false)"),
    "bool_parsing": ("moet ja of nee zijn (true of false)", "must be yes or no (true or false)"),
    "date_type": ("moet een datum zijn (JJJJ-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "date_parsing": ("moet een datum zijn (JJJJ-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("moet een datum zijn (JJJJ-MM-DD)", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": ("moet een datum zijn, zonder tijd", "must be a date, without a time"),
    "datetime_type": ("moet een moment zijn (JJJJ-MM-DDTUU:MM met tijdzone)",
                      "must be a moment (YYYY-MM-DDTHH:MM with a time zone)"),
    "datetime_parsing": ("moet een moment zijn (JJJJ-MM-DDTUU:MM met tijdzone)",
                         "must be a moment (YYYY-MM-DDTHH:MM with a time zone)"),
    "datetime_from_date_parsing": ("moet een moment zijn (JJJJ-MM-DDTUU:MM met tijdzone)",
                                   "must be a moment (YYYY-MM-DDTHH:MM with a time zone)"),
    "timezone_aware": ("moet een tijdzone hebben", "must have a time zone"),
    "too_short": ("moet minstens {min_length} onderdelen hebben", "must have at least {min_length} items"),
    "too_long": ("mag hoogstens {max_length} onderdelen hebben", "must have at most {max_length} items"),
    "greater_than": ("moet groter zijn dan {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("moet minstens {ge} zijn", "must be at least {ge}"),
    "less_than": ("moet kleiner zijn dan {lt}", "must be less than {lt}"),
    "less_than_equal": ("mag hoogstens {le} zijn", "must be at most {le}"),
    "literal_error": ("moet een van deze zijn: {expected}", "must be one of: {expected}"),
    "enum": ("moet een van deze zijn: {expected}", "must be one of: {expected}"),
    "extra_forbidden": ("is onbekend; laat dit veld weg", "is unknown; leave this field out"),
    "dict_type": ("moet een object zijn", "must be an object"),
    "model_type": ("moet een object zijn", "must be an object"),
    "model_attributes_type": ("moet een object zijn", "must be an object"),
    "list_type": ("moet een lijst zijn", "must be a list"),
    "json_invalid": ("is geen geldige JSON", "is not valid JSON"),
    "json_type": ("is geen geldige JSON", "is not valid JSON"),
    "uuid_parsing": ("moet een UUID zijn", "must be a UUID"),
    "uuid_type": ("moet een UUID zijn", "must be a UUID"),
    "url_parsing": ("moet een webadres zijn", "must be a web address"),
}
_OTHER = ("klopt niet", "is not valid")

_PLACES: dict[str, tuple[str, str]] = {
    "body": ("in de body", "in the body"),
    "query": ("in de query", "in the query"),
    "path": ("in het pad", "in the path"),
    "header": ("in de header", "in the header"),
    "cookie": ("in de cookie", "in the cookie"),
}


def _fill(template: str, ctx: Mapping[str, Any]) -> str:
    values = {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)) for k, v in ctx.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template.split(" {")[0]


def field_of(loc: Sequence[Any]) -> str:
    """The field a pydantic location names, dotted, without its place ("due", "data.items.0")."""
    parts = list(loc)
    if parts and parts[0] in _PLACES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def where(loc: Sequence[Any], lang: str = "nl") -> str:
    """"veld `due` in de body", "de body" (the whole of it), "veld `page` in de query"."""
    parts = list(loc)
    place = _PLACES.get(str(parts[0])) if parts else None
    en = lang == "en"
    place_text = (place[1] if en else place[0]) if place else ""
    name = field_of(parts)
    if not name:
        whole = place_text.split(" ", 1)[1] if place_text else ("the request" if en else "het verzoek")
        return whole
    label = f"field `{name}`" if en else f"veld `{name}`"
    return f"{label} {place_text}".strip()


def request_problem(error: Mapping[str, Any], lang: str = "nl") -> str:
    """One pydantic error of a request, with its place, in `lang`."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        nl, en = "mag niet leeg zijn", "must not be empty"  # "minstens 1 tekens" says it wrongly
    else:
        nl, en = _PROBLEMS.get(kind, _OTHER)
    problem = _fill(en if lang == "en" else nl, ctx)
    return f"{where(error.get('loc', ()), lang)}: {problem}"


def request_problems(errors: Sequence[Mapping[str, Any]], lang: str = "nl") -> tuple[str, dict[str, str]]:
    """(the answer's message, {field: problem}) for a refused request."""
    fields: dict[str, str] = {}
    lines = []
    for error in errors:
        text = request_problem(error, lang)
        lines.append(text)
        key = field_of(error.get("loc", ())) or str((list(error.get("loc", ())) or ["request"])[0])
        fields.setdefault(key, text.split(": ", 1)[1] if ": " in text else text)
    intro = "The request is not valid: " if lang == "en" else "Het verzoek klopt niet: "
    return intro + "; ".join(lines[:20]), fields


# Headings and explanations of the server's own answers: status -> (heading, explanation), Dutch;
# the English is in EN_ERRORS (merged into web.i18n.EN, so templates translate them too).
SERVER_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Onjuist verzoek", "Dit verzoek kan carepath niet lezen."),
    401: ("Niet aangemeld", "Meld je eerst aan."),
    403: ("Geen toegang", "Dit deel van carepath is niet voor jouw rol."),
    404: ("Niet gevonden", "Deze pagina of zaak bestaat niet, of is niet voor jou."),
    405: ("Methode niet toegestaan", "Dit adres kent de methode {method} niet."),
    409: ("Iemand was je voor", "De zaak of taak is intussen gewijzigd."),
    413: ("Te groot", "Dit verzoek is te groot voor carepath."),
    415: ("Onbekend formaat", "carepath leest dit formaat niet."),
    422: ("Niet gelukt", "Het verzoek klopt niet."),
    429: ("Te veel verzoeken", "Te veel verzoeken kort na elkaar. Probeer het zo opnieuw."),
    500: ("Er ging iets mis", "Er ging iets mis aan onze kant. Probeer het opnieuw; noem referentie {reference} als "
                             "je de beheerder om hulp vraagt."),
    503: ("Even niet beschikbaar", "De database reageert niet. Probeer het zo opnieuw."),
}
_DEFAULT = ("Niet gelukt", "Dit verzoek is niet gelukt.")

EN_ERRORS: dict[str, str] = {
    "Onjuist verzoek": "Bad request",
    "Dit verzoek kan carepath niet lezen.": "carepath cannot read this request.",
    "Niet aangemeld": "Not signed in",
    "Meld je eerst aan.": "Sign in first.",
    "Geen toegang": "No access",
    "Dit deel van carepath is niet voor jouw rol.": "This part of carepath is not for your role.",
    "Niet gevonden": "Not found",
    "Deze pagina of zaak bestaat niet, of is niet voor jou.": "This page or case does not exist, or is not for you.",
    "Methode niet toegestaan": "Method not allowed",
    "Dit adres kent de methode {method} niet.": "This address does not take the method {method}.",
    "Dit adres kent de methode {method} niet; wel: {allowed}.":
        "This address does not take the method {method}; it takes: {allowed}.",
    "Iemand was je voor": "Someone got there first",
    "De zaak of taak is intussen gewijzigd.": "The case or task changed meanwhile.",
    "Te groot": "Too large",
    "Dit verzoek is te groot voor carepath.": "This request is too large for carepath.",
    "Onbekend formaat": "Unknown format",
    "carepath leest dit formaat niet.": "carepath does not read this format.",
    "Niet gelukt": "Did not work",
    "Het verzoek klopt niet.": "The request is not valid.",
    "Te veel verzoeken": "Too many requests",
    "Te veel verzoeken kort na elkaar. Probeer het zo opnieuw.": "Too many requests in a short time. Try again shortly.",
    "Er ging iets mis": "Something went wrong",
    "Er ging iets mis aan onze kant. Probeer het opnieuw; noem referentie {reference} als je de beheerder om hulp vraagt.":
        "Something went wrong on our side. Try again; quote reference {reference} when you ask the administrator "
        "for help.",
    "Even niet beschikbaar": "Temporarily unavailable",
    "De database reageert niet. Probeer het zo opnieuw.": "The database does not answer. Try again shortly.",
    "Dit verzoek is niet gelukt.": "This request did not work.",
    "Naar de startpagina": "To the start page",
    "Referentie": "Reference",
    "Foutcode": "Error code",
    # refusals and invalid input of the portal (web/portal.py)
    "Je hebt de rol «{role}» van deze taak niet.": "You do not carry the role «{role}» of this task.",
    "Kies een collega uit je teams.": "Choose a colleague from your teams.",
    "Onbekende collega.": "Unknown colleague.",
    "Alleen een coördinator of een medewerker van de zaak sluit haar.":
        "Only a coordinator or a worker on the case closes it.",
    "Kies een reden.": "Choose a reason.",
    "Kies een van de redenen.": "Choose one of the reasons.",
    "Kies een uitkomst.": "Choose an outcome.",
    "Kies een van de uitkomsten.": "Choose one of the outcomes.",
    "Geef een reden.": "Give a reason.",
    "Waarom wordt de zaak gepauzeerd?": "Why is the case paused?",
    "Waarom wordt de zaak heropend?": "Why is the case reopened?",
    "Waarom heb je de persoonsgegevens van deze zaak nodig?": "Why do you need the personal data of this case?",
    "Alleen een coördinator of een medewerker van de zaak voegt een probleemgebied toe.":
        "Only a coordinator or a worker on the case adds a problem area.",
    "Geef minstens één geboorteland.": "Give at least one country of birth.",
    "Een landcode zoals NL.": "A country code such as NL.",
    "Zorgpad {pathway} registreert geen herkomst.": "Pathway {pathway} does not register origin.",
    "Alleen een coördinator of een medewerker van de zaak legt de herkomst vast.":
        "Only a coordinator or a worker on the case records origin.",
    "Kies een van je teams.": "Choose one of your teams.",
    "Kies de opdrachtgevende gemeente.": "Choose the commissioning municipality.",
    "Een CBS-code zoals GM0344.": "A CBS code such as GM0344.",
    "De queryparameter «{key}» staat er meer dan één keer in.": "The query parameter «{key}» is given more than once.",
    "Geef hem één keer.": "Give it once.",
}


def server_text(status: int, lang: str = "nl", **values: Any) -> tuple[str, str]:
    """(heading, explanation) of the server's answer `status` in `lang`, filled with `values`."""
    heading, text = SERVER_TEXTS.get(status, _DEFAULT)
    if status == 405 and values.get("allowed"):
        text = "Dit adres kent de methode {method} niet; wel: {allowed}."
    if lang == "en":
        heading, text = EN_ERRORS.get(heading, heading), EN_ERRORS.get(text, text)
    return heading, text.format(**values) if values else text


# FHIR OperationOutcome diagnostics: code -> (Dutch, English); the code goes into issue[].details.coding.
ERROR_CODE_SYSTEM = "urn:carepath:error-code"
FHIR_TEXTS: dict[str, tuple[str, str]] = {
    "fhir.login": ("Meld je aan: stuur 'Authorization: Bearer <token>'.", "Sign in: send 'Authorization: Bearer <token>'."),
    "fhir.not_supported": ("Het resourcetype {kind} levert carepath niet (alleen {kinds}).",
                           "carepath does not serve the resource type {kind} (only {kinds})."),
    "fhir.not_found": ("{kind}/{id} is niet gevonden.", "{kind}/{id} was not found."),
}


def fhir_issue(code: str, lang: str = "nl", **values: Any) -> dict[str, Any]:
    """One OperationOutcome issue's `details` and `diagnostics` for `code`, in `lang`."""
    nl, en = FHIR_TEXTS[code]
    text = (en if lang == "en" else nl).format(**values)
    return {"details": {"coding": [{"system": ERROR_CODE_SYSTEM, "code": code}], "text": text}, "diagnostics": text}
