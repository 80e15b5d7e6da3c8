"""The texts of pathway problems: a stable code per problem, a Dutch and an English template.

A `Problem` (engine/errors.py) carries a code and named arguments, never finished text; it is
rendered when it is read: Dutch by default, English when the caller passes `"en"` (the edge reads
`CAREPATH_LANGUAGE`; the engine never does). Codes are lower-case Dutch words joined by `-`
(`onbekende-rol`); hints start with `hint-`, parts of a sentence (a value, a type, an owner) with
`deel-`. Codes never change once published: tools may match on them. `docs/pathway-language.md`
("Foutcodes") lists the codes a coordinator sees.

An argument is a plain value (text, number), a nested `Text` (rendered in the same language) or a
list joined by `of`/`en` (`one_of`, `all_of`, `any_words`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from string import Formatter
from typing import TypeAlias, Union

Arg: TypeAlias = Union[str, int, float, "Text", tuple["Arg", ...]]
Args: TypeAlias = tuple[tuple[str, Arg], ...]

LANGUAGES = ("nl", "en")


def language_of(language: str) -> str:
    """"en" for any English setting ("en", "en-GB", "EN"), else "nl"."""
    return "en" if language.strip().lower().startswith("en") else "nl"


@dataclass(frozen=True)
class Text:
    """A catalogue entry with its arguments: plain, frozen, comparable data."""

    code: str
    args: Args = ()

    def render(self, language: str = "nl") -> str:
        return render(self.code, self.args, language)

    def __str__(self) -> str:
        return self.render("nl")


def text(code: str, /, **args: Arg) -> Text:
    """`Text(code, args)`; raises `KeyError` for a code that is not in the catalogue."""
    if code not in TEXTS and code not in _JOINS:
        raise KeyError(f"unknown problem text code {code!r}")
    return Text(code, tuple(args.items()))


def one_of(items: Iterable[str]) -> Text:
    """`a`, `b` of `c` (English: `a`, `b` or `c`)."""
    return Text("deel-een-van", (("items", tuple(items)),))


def all_of(items: Iterable[str]) -> Text:
    """`a`, `b` en `c` (English: `a`, `b` and `c`)."""
    return Text("deel-alle", (("items", tuple(items)),))


def any_words(items: Iterable[Arg]) -> Text:
    """a of b of c, unquoted (English: a or b or c): for kinds of values."""
    return Text("deel-of-woorden", (("items", tuple(items)),))


def render(code: str, args: Args, language: str = "nl") -> str:
    """The text of `code` with `args` in `language` ("nl" or "en")."""
    lang = language_of(language)
    if code in _JOINS:
        items = dict(args).get("items", ())
        words = [_value(v, lang) for v in (items if isinstance(items, tuple) else (items,))]
        return _join(code, words, lang)
    nl, en = TEXTS[code]
    return (nl if lang == "nl" else en).format_map({name: _value(value, lang) for name, value in args})


def _value(value: Arg, lang: str) -> str:
    if isinstance(value, Text):
        return value.render(lang)
    if isinstance(value, tuple):
        return ", ".join(_value(v, lang) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and lang == "nl":
        return repr(value).replace(".", ",")
    return str(value)


# code -> (word between the last two, quote each item, text for no items (nl, en))
_JOINS: dict[str, tuple[tuple[str, str], bool, tuple[str, str]]] = {
    "deel-een-van": (("of", "or"), True, ("niets", "nothing")),
    "deel-alle": (("en", "and"), True, ("niets", "nothing")),
    "deel-of-woorden": (("of", "or"), False, ("niets", "nothing")),
}


def _join(code: str, words: list[str], lang: str) -> str:
    (nl_word, en_word), quoted, (nl_none, en_none) = _JOINS[code]
    word = nl_word if lang == "nl" else en_word
    if not words:
        return nl_none if lang == "nl" else en_none
    if not quoted:
        return f" {word} ".join(words)
    shown = [f"`{w}`" for w in words]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + f" {word} " + shown[-1]


def argument_names(template: str) -> set[str]:
    """The `{name}` fields of a template."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


# The catalogue: code -> (Dutch, English). English texts are the loader's messages as they were
# before the catalogue; Dutch follows docs/glossary.md (zorgpad, stap, zaak, probleemgebied, ...).
TEXTS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------ the file and YAML
    "bestand-ongeldig-teken": (
        "de tekst bevat een ongeldig teken op regel {line}, kolom {column}",
        "the text contains an invalid character at line {line}, column {column}"),
    "bestand-te-groot": (
        "het bestand is {size} bytes; de grens is {limit} bytes",
        "the file is {size} bytes; the limit is {limit} bytes"),
    "bestand-stuurteken": (
        "het bestand bevat een stuurteken (U+{char}) op regel {line}, kolom {column}; het lijkt geen tekstbestand",
        "the file contains a control character (U+{char}) at line {line}, column {column}; "
        "it does not look like a text file"),
    "bestand-andere-codering": (
        "het bestand is opgeslagen als {encoding}; carepath leest alleen UTF-8",
        "the file is saved as {encoding}; carepath reads UTF-8 only"),
    "bestand-vol-nulbytes": (
        "het bestand lijkt UTF-16 of binaire gegevens (het staat vol nul-bytes); carepath leest alleen UTF-8-tekst",
        "the file looks like UTF-16 or binary data (it is full of zero bytes); carepath reads UTF-8 text only"),
    "bestand-nulbyte": (
        "het bestand bevat een nul-byte op positie {offset}: het zijn binaire gegevens, geen tekstbestand",
        "the file contains a zero byte at offset {offset}: it is binary data, not a text file"),
    "bestand-geen-utf8": (
        "het bestand is geen geldige UTF-8: byte 0x{byte} op positie {offset} (regel {line}, kolom {column})",
        "the file is not valid UTF-8: byte 0x{byte} at offset {offset} (line {line}, column {column})"),
    "bestand-geen-utf8-latin1": (
        "het bestand is geen geldige UTF-8: byte 0x{byte} op positie {offset} (regel {line}, kolom {column}) "
        "(het lijkt Latin-1/Windows-1252, bijvoorbeeld een letter met accent)",
        "the file is not valid UTF-8: byte 0x{byte} at offset {offset} (line {line}, column {column}) "
        "(it looks like Latin-1/Windows-1252, e.g. an accented letter)"),
    "bestand-onleesbaar": (
        "het bestand kan niet gelezen worden: {reason}",
        "cannot read the file: {reason}"),
    "bestand-leeg": ("het bestand is leeg", "the file is empty"),
    "bestand-te-diep": (
        "het bestand is meer dan {depth} niveaus diep genest",
        "the file is nested more than {depth} levels deep"),
    "yaml-syntaxfout": ("YAML-syntaxfout: {detail}", "YAML syntax error: {detail}"),
    "deel-ongeldige-yaml": ("ongeldige YAML", "invalid YAML"),
    "deel-twee-delen": ("{first} {second}", "{first} {second}"),
    "deel-yaml-volgend-element": ("bij het lezen van het volgende element:", "while scanning for the next token"),
    "deel-yaml-sleutel": ("bij het lezen van een sleutel:", "while scanning a simple key"),
    "deel-yaml-mapping": ("bij het lezen van een mapping:", "while parsing a block mapping"),
    "deel-yaml-lijst": ("bij het lezen van een lijst:", "while parsing a block collection"),
    "deel-yaml-mapping-accolades": (
        "bij het lezen van een mapping tussen {{}}:", "while parsing a flow mapping"),
    "deel-yaml-lijst-haken": ("bij het lezen van een lijst tussen []:", "while parsing a flow sequence"),
    "deel-yaml-aanhalingstekens": (
        "bij het lezen van een tekst tussen aanhalingstekens:", "while scanning a quoted scalar"),
    "deel-yaml-geen-mapping-waarde": (
        "hier mag geen waarde van een mapping staan", "mapping values are not allowed here"),
    "deel-yaml-tab": (
        "het teken '\\t' kan geen element beginnen", "found character '\\t' that cannot start any token"),
    "deel-yaml-geen-dubbele-punt": ("de verwachte ':' ontbreekt", "could not find expected ':'"),
    "deel-yaml-geen-sleutel": ("de verwachte sleutel ontbreekt", "did not find expected key"),
    "deel-yaml-geen-streepje": ("het verwachte '-' ontbreekt", "did not find expected '-' indicator"),
    "deel-yaml-einde": ("het bestand houdt onverwacht op", "found unexpected end of stream"),
    "yaml-meer-documenten": (
        "het bestand bevat meer dan één YAML-document",
        "the file holds more than one YAML document"),
    "alias-naar-zichzelf": (
        "de alias `*{anchor}` verwijst naar zichzelf",
        "the alias `*{anchor}` refers to itself"),
    "alias-onbekend": (
        "de alias `*{anchor}` is niet gedefinieerd",
        "the alias `*{anchor}` is not defined"),
    "alias-te-groot": (
        "aliassen (`*naam`) breiden uit tot meer dan {limit} extra elementen",
        "aliases (`*name`) expand to more than {limit} extra elements"),
    "tag-leeg": ("de tag `!` is niet toegestaan", "the tag `!` is not allowed"),
    "tag-niet-toegestaan": ("de tag `{tag}` is niet toegestaan", "the tag `{tag}` is not allowed"),
    "ongeldige-escape": (
        "de tekst bevat een escape (\\uD800-\\uDFFF) die geen teken is",
        "the text contains an escape (\\uD800-\\uDFFF) that is not a character"),
    "getal-te-lang": (
        "het getal `{start}...` ({length} tekens) is te groot",
        "the number `{start}...` ({length} characters) is too large"),
    "getal-boven-grens": (
        "het getal `{number}` is te groot (hoogstens {limit})",
        "the number `{number}` is too large (at most {limit})"),
    "getal-te-groot": ("het getal `{number}` is te groot", "the number `{number}` is too large"),
    "getal-oneindig": (
        "`{number}` (oneindig / geen getal) kan niet opgeslagen worden; schrijf een getal, of zet het als tekst "
        "tussen aanhalingstekens",
        "`{number}` (infinity / not-a-number) cannot be stored; write a number, or quote it as text"),
    "sleutel-geen-tekst": (
        "een sleutel moet gewone tekst zijn, geen lijst of mapping",
        "a key must be plain text, not a list or mapping"),
    "merge-sleutel": ("merge-sleutels (`<<`) worden niet ondersteund", "merge keys (`<<`) are not supported"),
    "sleutel-dubbel": (
        "de sleutel `{key}` staat twee keer in deze mapping (eerst op regel {first})",
        "the key `{key}` appears twice in this mapping (first at line {first})"),
    "hint-pad-splitsen": (
        "splits het zorgpad of haal ongebruikte delen weg",
        "split the pathway or remove unused parts"),
    "hint-opslaan-utf8-menu": (
        "sla het bestand op als UTF-8: in de meeste editors via Opslaan als > Codering",
        "save the file as UTF-8: in most editors via Save as > Encoding"),
    "hint-opslaan-utf8": ("sla het bestand op als UTF-8", "save the file as UTF-8"),
    "hint-yaml-dubbele-punt": (
        "tekst met ': ' erin moet tussen aanhalingstekens",
        "text that contains ': ' needs quotes around it"),
    "hint-yaml-tab": (
        "spring in met spaties; tabs zijn niet toegestaan in YAML",
        "indent with spaces; tabs are not allowed in YAML"),
    "hint-yaml-sleutel-waarde": (
        "elke regel van een mapping heeft `sleutel: waarde` nodig; controleer het inspringen",
        "each line of a mapping needs `key: value`; check the indentation"),
    "hint-yaml-inspringen": (
        "controleer het inspringen van deze regel en de regel ervoor",
        "check the indentation of this line and the one before"),
    "hint-yaml-lijst": (
        "items van een lijst beginnen allemaal met `- ` op dezelfde inspringing",
        "items of a list all start with `- ` at the same indentation"),
    "hint-alias-anker": (
        "een alias `*naam` heeft eerder in het bestand een anker `&naam` nodig",
        "an alias `*name` needs an anchor `&name` earlier in the file"),
    "hint-yaml-aanhalingsteken": (
        "een tekst tussen aanhalingstekens heeft een sluitend aanhalingsteken nodig",
        "a quoted text needs its closing quote"),
    "hint-een-document": (
        "zet één zorgpad in elk bestand; haal de regel `---` weg",
        "put one pathway in each file; remove the `---` line"),
    "hint-alias-afgerond": (
        "een alias mag alleen een afgerond deel van het bestand herhalen",
        "an alias may only repeat a finished part of the file"),
    "hint-alias-uitschrijven": (
        "schrijf het herhaalde deel uit, of gebruik `defaults` voor gedeelde herinneringen en escalatie",
        "write the repeated part out, or use `defaults` for shared reminders and escalation"),
    "hint-tag-weg": ("haal de `!` weg", "remove the `!`"),
    "hint-gewone-gegevens": (
        "een zorgpadbestand bevat gewone gegevens: haal de tag weg, en zet de waarde tussen aanhalingstekens "
        "als het tekst is",
        "pathway files are plain data: remove the tag, and quote the value if it is text"),
    "hint-teken-zelf": (
        "schrijf het teken zelf; het bestand is UTF-8",
        "write the character itself; the file is UTF-8"),
    "hint-sleutels-uitschrijven": (
        "schrijf de sleutels uit, of gebruik `defaults` voor gedeelde herinneringen en escalatie",
        "write the keys out, or use `defaults` for shared reminders and escalation"),
    "hint-een-weg-of-hernoemen": (
        "haal een van beide weg of geef een andere naam",
        "remove or rename one of them"),
    "hint-begin-met-id": (
        "een zorgpad begint met `id:`, `version:` en `title:`",
        "a pathway starts with `id:`, `version:` and `title:`"),
    # ------------------------------------------------------------ the pathway as a whole
    "zorgpad-geen-mapping": (
        "een zorgpadbestand moet een mapping zijn van sleutels zoals `id:`, `version:`, `steps:`",
        "a pathway file must be a mapping of keys such as `id:`, `version:`, `steps:`"),
    "hint-begin-bestand": (
        "begin het bestand met `id: mijn-zorgpad`",
        "start the file with `id: my-pathway`"),
    "versie-andere-inhoud": (
        "zorgpad `{pathway}` versie {version} staat ook in {other} met een andere inhoud",
        "pathway `{pathway}` version {version} is also in {other} with different content"),
    "hint-versie-verhogen": ("verhoog `version` naar {version}", "raise `version` to {version}"),
    "zorgpad-ongeldig": ("ongeldig zorgpad", "invalid pathway"),
    "deel-en-nog": (" (en nog {count})", " (and {count} more)"),
    # ------------------------------------------------------------ JSON Schema keywords (schema_check)
    "niet-toegestaan-hier": ("is hier niet toegestaan", "is not allowed here"),
    "onbekend-veld": ("onbekend veld `{key}`", "unknown key `{key}`"),
    "veld-ontbreekt": ("verplicht veld `{key}` ontbreekt", "required field `{key}` is missing"),
    "onbekende-velden": ("onbekend veld {keys}", "unknown key {keys}"),
    "verplicht-veld-ontbreekt": (
        "verplicht veld `{key}` ontbreekt: {owner} heeft het nodig",
        "`{key}` is missing: {owner} needs it"),
    "veld-vraagt-ook": ("`{key}` vraagt ook om `{other}`", "`{key}` needs `{other}` as well"),
    "stapsoort-mist-veld": (
        "verplicht veld `{key}` ontbreekt: een {kind}-stap heeft het nodig",
        "`{key}` is missing: a {kind} step needs it"),
    "niet-bij-stapsoort": (
        "`{key}` hoort niet bij een {kind}-stap",
        "`{key}` does not apply to a {kind} step"),
    "verkeerd-type": ("moet {expected} zijn, niet {value}", "must be {expected}, not {value}"),
    "waarde-niet-toegestaan": (
        "{value} is hier niet toegestaan; gebruik {options}",
        "{value} is not allowed here; use {options}"),
    "moet-gelijk-zijn": ("moet `{expected}` zijn, niet {value}", "must be `{expected}`, not {value}"),
    "ongeldige-zorgpad-id": (
        "`{value}` is geen geldige zorgpad-id: gebruik kleine letters, cijfers en -, beginnend met een letter "
        "(2-63 tekens)",
        "`{value}` is not a valid pathway id: use lower-case letters, digits and -, starting with a letter "
        "(2-63 characters)"),
    "ongeldige-id": (
        "`{value}` is geen geldige id: gebruik kleine letters, cijfers en _, beginnend met een letter",
        "`{value}` is not a valid id: use lower-case letters, digits and _, starting with a letter"),
    "verkeerde-vorm": ("`{value}` heeft niet de verwachte vorm", "`{value}` does not have the expected form"),
    "ongeldig-formaat": ("{value} is geen geldige {format}", "{value} is not a valid {format}"),
    "deel-formaat-date": ("datum", "date"),
    "deel-formaat-date-time": ("datum met tijd", "date-time"),
    "deel-formaat-time": ("tijd", "time"),
    "deel-formaat-email": ("e-mailadres", "email"),
    "deel-formaat-idn-email": ("e-mailadres", "idn-email"),
    "deel-formaat-ipv4": ("IPv4-adres", "ipv4"),
    "deel-formaat-ipv6": ("IPv6-adres", "ipv6"),
    "deel-formaat-uuid": ("UUID", "uuid"),
    "deel-formaat-regex": ("reguliere expressie", "regex"),
    "lijst-leeg": ("de lijst is leeg; voeg minstens één item toe", "the list is empty; add at least one item"),
    "lijst-te-kort": ("de lijst heeft minstens {count} items nodig", "the list needs at least {count} items"),
    "lijst-te-lang": ("de lijst mag hoogstens {count} items hebben", "the list may have at most {count} items"),
    "tekst-leeg": ("mag niet leeg zijn", "must not be empty"),
    "tekst-te-kort": ("moet minstens {count} tekens lang zijn", "must be at least {count} characters"),
    "tekst-te-lang": ("mag hoogstens {count} tekens lang zijn", "must be at most {count} characters"),
    "te-klein": ("moet minstens {limit} zijn", "must be at least {limit}"),
    "niet-groter-dan": ("moet groter zijn dan {limit}", "must be more than {limit}"),
    "te-groot": ("mag hoogstens {limit} zijn", "must be at most {limit}"),
    "niet-kleiner-dan": ("moet kleiner zijn dan {limit}", "must be less than {limit}"),
    "lijst-dubbel": ("de lijst noemt hetzelfde item twee keer", "the list names the same item twice"),
    "precies-een-van": ("schrijf precies één van {options}", "write exactly one of {options}"),
    "te-weinig-velden": ("heeft minstens {count} velden nodig", "needs at least {count} keys"),
    "te-veel-velden": ("mag hoogstens {count} velden hebben", "needs at most {count} keys"),
    "past-bij-geen-vorm": (
        "past bij geen van de toegestane vormen",
        "does not match any of the allowed forms"),
    "past-bij-meer-vormen": (
        "past bij meer dan één van de toegestane vormen",
        "matches more than one of the allowed forms"),
    "ongeldig-hier": ("is hier niet geldig", "is not valid here"),
    "deel-type-string": ("tekst", "text"),
    "deel-type-array": ("een lijst", "a list"),
    "deel-type-object": ("een mapping (regels `sleutel: waarde`)", "a mapping (key: value lines)"),
    "deel-type-integer": ("een geheel getal", "a whole number"),
    "deel-type-number": ("een getal", "a number"),
    "deel-type-boolean": ("true of false", "true or false"),
    "deel-type-null": ("leeg", "empty"),
    "deel-type-waar-onwaar": ("true/false", "true/false"),
    "deel-waarde-leeg": ("leeg", "empty"),
    "deel-waarde-getal": ("het getal {number}", "the number {number}"),
    "deel-waarde-tekst": ("de tekst `{value}`", "the text `{value}`"),
    "deel-waarde-lijst": ("een lijst", "a list"),
    "deel-waarde-mapping": ("een mapping", "a mapping"),
    "deel-eigenaar-zorgpad": ("het zorgpad", "the pathway"),
    "deel-eigenaar-params": ("stap `{step}` (in `params`)", "the params of step `{step}`"),
    "deel-eigenaar-stap": ("stap `{step}`", "step `{step}`"),
    "deel-eigenaar-elk": ("elk item van `{key}`", "each entry of `{key}`"),
    "deel-eigenaar-veld": ("`{key}`", "`{key}`"),
    "hint-bedoel-je": ("bedoel je `{word}`?", "did you mean `{word}`?"),
    "hint-hier-toegestaan": ("hier toegestaan: {options}", "allowed here: {options}"),
    "hint-komma-in-accolades": (
        "een komma binnen `{{...}}` begint een nieuwe sleutel: zet tekst met een komma tussen aanhalingstekens",
        "a comma inside `{{...}}` starts a new key: put quotes around text that contains a comma"),
    "hint-bijvoorbeeld": ("bijvoorbeeld `{example}`", "for example `{example}`"),
    "hint-aanhalingstekens": (
        "zet de waarde tussen aanhalingstekens als het tekst moet zijn",
        "put the value in quotes if it is meant as text"),
    "hint-datum": (
        "schrijf een datum als JJJJ-MM-DD, bijvoorbeeld 2026-10-17",
        "write a date as YYYY-MM-DD, e.g. 2026-10-17"),
    "hint-herhaling-weg": ("haal het herhaalde item weg", "remove the repeated item"),
    "hint-alleen-taak-rol": ("alleen human_task-stappen hebben een rol", "only human_task steps have a role"),
    "hint-alleen-taak-termijn": (
        "alleen human_task-stappen hebben een termijn",
        "only human_task steps have a due time"),
    "hint-alleen-taak-formulier": (
        "alleen human_task-stappen hebben een formulier; een request_partner-stap declareert `params.answer`",
        "only human_task steps have a form; a request_partner step declares `params.answer`"),
    "hint-alleen-taak-herinneringen": (
        "alleen human_task-stappen hebben herinneringen",
        "only human_task steps have reminders"),
    "hint-alleen-taak-escalatie": (
        "alleen human_task-stappen hebben een escalatieketen",
        "only human_task steps have an escalation chain"),
    "hint-alleen-automatisch-params": (
        "alleen automatische taaksoorten zoals send_letter of wait hebben params",
        "only automated task kinds such as send_letter or wait have params"),
    "hint-alleen-tracks-stap": (
        "alleen een tracks-stap start probleemgebieden",
        "only a tracks step starts tracks"),
    "hint-alleen-tracks-mode": ("alleen een tracks-stap heeft een mode", "only a tracks step has a mode"),
    "hint-alleen-end-uitkomst": (
        "alleen end-stappen leggen een uitkomst vast",
        "only end steps record an outcome"),
    "hint-alleen-close-track-resultaat": (
        "alleen close_track-stappen leggen een resultaat vast",
        "only close_track steps record a result"),
    "hint-alleen-wachten-timeout": (
        "alleen request_partner- en wait-stappen hebben een timeout",
        "only request_partner and wait steps have a timeout"),
    "hint-eindstap-geen-next": (
        "een end- of close_track-stap rondt zijn stroom af; haal `next` weg",
        "an end or close_track step finishes its flow; remove `next`"),
    "hint-eindstap-rondt-af": (
        "een end- of close_track-stap rondt zijn stroom af",
        "an end or close_track step finishes its flow"),
    # ------------------------------------------------------------ JSON Schemas in the pathway
    "geen-schema-type": ("`{value}` is geen JSON Schema-type", "`{value}` is not a JSON Schema type"),
    "waarde-geen-schema-type": ("{value} is geen JSON Schema-type", "{value} is not a JSON Schema type"),
    "ongeldig-schema": ("geen geldig JSON Schema: {detail}", "not a valid JSON Schema: {detail}"),
    "schema-niet-object": (
        "{what} moet een JSON Schema zijn met `type: object`",
        "{what} must be a JSON Schema with `type: object`"),
    "schema-zonder-properties": ("{what} heeft geen `properties`", "{what} has no `properties`"),
    "onbekend-schema-sleutelwoord": (
        "onbekend JSON Schema-sleutelwoord `{key}`",
        "unknown JSON Schema keyword `{key}`"),
    "ongeldige-regex": (
        "`{value}` is geen geldige reguliere expressie: {reason}",
        "`{value}` is not a valid regular expression: {reason}"),
    "regex-niet-lineair": (
        "`{value}` kan niet in lineaire tijd gecontroleerd worden ({reason})",
        "`{value}` cannot be checked in linear time ({reason})"),
    "patternproperties-niet-ondersteund": (
        "`patternProperties` wordt niet ondersteund in formulieren en zaakgegevens",
        "`patternProperties` is not supported in forms and case data"),
    "formaat-onbekend": (
        "carepath kan het formaat `{value}` niet controleren",
        "carepath cannot check the format `{value}`"),
    "verplicht-veld-onbekend": (
        "verplicht veld `{name}` is geen van de properties",
        "required field `{name}` is not one of the properties"),
    "deel-wat-formulier": ("een formulier", "a form"),
    "deel-wat-zaakgegevens": ("case_data", "case_data"),
    "deel-wat-evaluatieformulier": ("het evaluatieformulier", "the evaluation form"),
    "deel-wat-antwoord": ("het antwoord", "the answer"),
    "deel-wat-besluit": ("het besluit", "the decision"),
    "hint-gebruik": ("gebruik {options}", "use {options}"),
    "hint-schema-object": (
        "begin het met `type: object` en zet de velden onder `properties`",
        "start it with `type: object` and list the fields under `properties`"),
    "hint-velden-onder-properties": (
        "zet de velden onder `properties`",
        "list the fields under `properties`"),
    "hint-eigen-sleutels-x": (
        "eigen sleutels moeten met x- beginnen",
        "custom keys must start with x-"),
    "hint-regex-re2": (
        "laat terugverwijzingen zoals \\1 en look-arounds zoals (?=...) of (?!...) weg; carepath controleert "
        "patronen met RE2, zodat geen enkele invoer het kan laten vastlopen",
        "leave out back-references such as \\1 and look-arounds such as (?=...) or (?!...); "
        "carepath checks patterns with RE2, so that no input can stall it"),
    "hint-velden-bij-naam": (
        "declareer elk veld bij naam onder `properties`",
        "declare each field by name under `properties`"),
    "hint-formaat-of-pattern": (
        "gebruik {options}, of een `pattern`",
        "use {options}, or a `pattern`"),
    "hint-onder-properties": ("voeg het toe onder `properties`", "add it under `properties`"),
    # ------------------------------------------------------------ references (semantic_check)
    "onbekende-rol": ("onbekende rol `{role}`", "unknown role `{role}`"),
    "rol-verkeerde-soort": (
        "rol `{role}` is een {kind}; {what} vraagt om een rol van soort {kinds}",
        "role `{role}` is a {kind}; {what} needs a role of kind {kinds}"),
    "deel-rol-bron-signaal": ("de bron van een signaal", "the source of a signal"),
    "deel-rol-herinnering": ("een herinnering of escalatie", "a reminder or escalation"),
    "deel-rol-evaluatie": ("de evaluatie", "the evaluation"),
    "deel-rol-voorzitter": ("de voorzitter van het partneroverleg", "the chair of the partner meeting"),
    "deel-rol-deelnemer": ("een deelnemer aan het partneroverleg", "an attendee of the partner meeting"),
    "deel-rol-eigenaar-spoor": ("een eigenaar van een probleemgebied", "a track owner"),
    "deel-rol-taak": ("een taak", "a human task"),
    "deel-rol-param": ("`{param}` van een {kind}-stap", "`{param}` of a {kind} step"),
    "hint-gedeclareerde-rollen": ("gedeclareerde rollen: {options}", "declared roles: {options}"),
    "geen-zaakveld": ("`{name}` is geen veld van case_data", "`{name}` is not a field of case_data"),
    "hint-alleen-zaakvelden": (
        "noem alleen velden onder case_data.properties",
        "list only fields under case_data.properties"),
    "onbekende-uitkomst": ("onbekende uitkomst `{outcome}`", "unknown outcome `{outcome}`"),
    "hint-gedeclareerde-uitkomsten": ("gedeclareerde uitkomsten: {options}", "declared outcomes: {options}"),
    "onbekende-sluitreden": ("onbekende sluitreden `{reason}`", "unknown close reason `{reason}`"),
    "hint-gedeclareerde-sluitredenen": (
        "gedeclareerde sluitredenen: {options}",
        "declared close reasons: {options}"),
    "onbekende-ddas-code": ("onbekende {what} `{code}`", "unknown {what} `{code}`"),
    "deel-sluitreden": ("sluitreden", "close reason"),
    "deel-uitkomst": ("uitkomst", "outcome"),
    "hint-gedeclareerd": ("gedeclareerd: {options}", "declared: {options}"),
    "ddas-uitkomst-zonder-eindresultaat": (
        "geen DDAS-eindresultaat voor uitkomst(en) {outcomes}",
        "no DDAS end result for outcome(s) {outcomes}"),
    "hint-ddas-elke-uitkomst": (
        "elke uitkomst heeft er een nodig, zodat elke afgesloten zaak één eindresultaat meldt",
        "every outcome needs one, so every closed case reports one end result"),
    "id-dubbel": (
        "{what} `{value}` wordt twee keer gebruikt (eerst op regel {first})",
        "{what} `{value}` is used twice (first at line {first})"),
    "deel-id-rol": ("rol-id", "role id"),
    "deel-id-spoor": ("probleemgebied-id", "track id"),
    "deel-id-uitkomst": ("uitkomstcode", "outcome code"),
    "deel-id-sluitreden": ("sluitredencode", "close reason code"),
    "deel-id-signaal": ("signaalsoort", "trigger type"),
    "hint-id-uniek": (
        "elke id moet uniek zijn; geef een van beide een andere naam",
        "every id must be unique; rename one of them"),
    "stap-id-dubbel": (
        "stap-id `{step}` wordt twee keer gebruikt (eerst op regel {first}{where})",
        "step id `{step}` is used twice (first at line {first}{where})"),
    "deel-in-stroom": (" in {flow}", " in {flow}"),
    "hint-stap-id-uniek": (
        "stap-id's moeten uniek zijn in het hele bestand, probleemgebieden meegeteld",
        "step ids must be unique in the whole file, tracks included"),
    "deel-hoofdstroom": ("de hoofdstroom", "the main flow"),
    "deel-spoor": ("probleemgebied `{track}`", "track `{track}`"),
    # ------------------------------------------------------------ calendar and durations
    "schoolvakanties-nodig": (
        "een zorgpad met kalender nl-school-weeks heeft `school_holidays` nodig",
        "a pathway with calendar nl-school-weeks needs `school_holidays`"),
    "hint-schoolvakanties": (
        "noem de vakanties: - {{name: Herfstvakantie, from: 2026-10-17, to: 2026-10-25}}",
        "list the holidays: - {{name: Herfstvakantie, from: 2026-10-17, to: 2026-10-25}}"),
    "schoolvakanties-niet-bij-kalender": (
        "`school_holidays` gelden alleen met kalender nl-school-weeks, niet {calendar}",
        "`school_holidays` only apply with calendar nl-school-weeks, not {calendar}"),
    "hint-schoolvakanties-weg": (
        "haal ze weg, of zet calendar: nl-school-weeks",
        "remove them, or set calendar: nl-school-weeks"),
    "vakantie-eindigt-voor-begin": (
        "de vakantie eindigt ({last}) voordat ze begint ({first})",
        "the holiday ends ({last}) before it starts ({first})"),
    "duur-geen-tekst": (
        "verwacht een duur zoals '5 werkdagen', niet {kind} {value}",
        "expected a duration such as '5 working days', got {kind} {value}"),
    "duur-onleesbaar": (
        "'{value}' is geen duur: schrijf een heel getal en een eenheid, bijvoorbeeld '5 werkdagen', "
        "'3 weken', '48 uur'",
        "'{value}' is not a duration: write a whole number and a unit, e.g. '5 working days', '3 weeks', "
        "'48 hours'"),
    "duur-onbekende-eenheid": (
        "onbekende eenheid '{unit}' in '{value}': gebruik minuten, uren, dagen, werkdagen, werkweken, weken "
        "of maanden",
        "unknown unit '{unit}' in '{value}': use minutes, hours, days, working days, working weeks, weeks "
        "or months"),
    "duur-nul": (
        "'{value}' is nul: een duur is minstens 1",
        "'{value}' is zero: a duration must be at least 1"),
    "hint-duur-getal-eerst": (
        "begin met een heel getal, bijvoorbeeld '5 werkdagen'",
        "start with a whole number, e.g. '5 working days'"),
    "hint-duur-eenheid": ("voeg een eenheid toe, bijvoorbeeld '5 werkdagen'", "add a unit, e.g. '5 working days'"),
    "werkdagen-op-24x7": (
        "`{value}` telt werkdagen, maar {where} op de 24x7-kalender",
        "`{value}` counts working days, but {where} on the 24x7 calendar"),
    "deel-dit-zorgpad-loopt": ("dit zorgpad loopt", "this pathway runs"),
    "deel-de-rol-loopt": ("de rol loopt", "its role runs"),
    "deel-deze-stap-loopt": ("deze stap loopt", "this step runs"),
    "hint-dagen-of-kalender": (
        "gebruik dagen of uren, of kies een andere kalender",
        "use days or hours, or change the calendar"),
    # ------------------------------------------------------------ steps
    "onbekende-stapsoort": ("onbekende stapsoort `{kind}`", "unknown step kind `{kind}`"),
    "close-track-in-hoofdstroom": (
        "een close_track-stap hoort alleen in een probleemgebied",
        "a close_track step only belongs in a track"),
    "hint-hoofdstroom-eindigt": (
        "de hoofdstroom eindigt met een `end`-stap",
        "the main flow ends with an `end` step"),
    "stapsoort-niet-in-spoor": (
        "een {kind}-stap kan niet in een probleemgebied gebruikt worden",
        "a {kind} step cannot be used inside a track"),
    "end-niet-in-spoor": (
        "een end-stap kan niet in een probleemgebied gebruikt worden",
        "an end step cannot be used inside a track"),
    "hint-spoor-eindigt": (
        "een probleemgebied eindigt met een close_track-stap",
        "a track ends with a close_track step"),
    "taak-zonder-rol": (
        "verplicht veld `role` ontbreekt: een human_task in de hoofdstroom heeft een rol nodig",
        "`role` is missing: a human_task in the main flow needs a role"),
    "hint-taak-rol": (
        "in een probleemgebied is de eigenaar de standaardrol; de hoofdstroom heeft geen eigenaar",
        "tracks default to their owner; the main flow has no owner"),
    "herinnering-voor-of-na": (
        "een herinnering heeft precies één van `before` en `after` nodig",
        "a reminder needs exactly one of `before` and `after`"),
    "hint-herinnering": (
        "schrijf `before: 1 werkdag` of `after: 2 werkdagen`",
        "write `before: 1 working day` or `after: 2 working days`"),
    "tracks-stap-tracks-of-from": (
        "tracks-stap `{step}` heeft precies één van `tracks` en `tracks_from` nodig",
        "tracks step `{step}` needs exactly one of `tracks` and `tracks_from`"),
    "hint-tracks-of-from": (
        "een vaste lijst `tracks: [debts, housing]`, of een expressie `tracks_from: steps.intake.problems`",
        "a fixed list `tracks: [debts, housing]`, or an expression `tracks_from: steps.intake.problems`"),
    "onbekend-spoor": ("onbekend probleemgebied `{track}`", "unknown track `{track}`"),
    "hint-gedeclareerde-sporen": (
        "gedeclareerde probleemgebieden: {options}",
        "declared tracks: {options}"),
    "timeout-wacht-niet": (
        "`timeout` hoort niet bij een {kind}-stap: die wacht niet",
        "`timeout` does not apply to a {kind} step: it does not wait"),
    "herkomst-niet-toegestaan": (
        "`{param}` legt het geboorteland vast, maar het zorgpad staat dat niet toe",
        "`{param}` records country of birth, but the pathway does not allow that"),
    "hint-herkomst": (
        "zet `origin_registration: true` bovenaan het zorgpad, of haal deze param weg",
        "set `origin_registration: true` at the top of the pathway, or remove this param"),
    "stap-in-andere-stroom": (
        "stap `{step}` staat in {other}; een stap kan alleen naar stappen van zijn eigen stroom ({flow})",
        "step `{step}` is in {other}; a step can only go to steps of its own flow ({flow})"),
    "onbekende-stap": ("onbekende stap `{step}`", "unknown step `{step}`"),
    "hint-stappen-van": ("stappen van {flow}: {options}", "steps of {flow}: {options}"),
    "tak-zonder-when": (
        "alleen de laatste tak mag `when` weglaten; deze tak verbergt de takken erna",
        "only the last branch may leave out `when`; this branch hides the ones after it"),
    "hint-tak-when": (
        "voeg een `when`-voorwaarde toe, of zet deze tak achteraan",
        "add a `when` condition, or move this branch to the end"),
    "laatste-tak-met-when": (
        "de laatste tak mag geen `when` hebben: die wordt genomen als geen voorwaarde geldt",
        "the last branch must not have `when`: it is taken when no condition holds"),
    "hint-laatste-tak": (
        "voeg een laatste tak toe zoals `- goto: {step}`, of haal deze `when` weg",
        "add a final branch such as `- goto: {step}`, or remove this `when`"),
    # ------------------------------------------------------------ flow shape
    "stroom-zonder-einde": (
        "{flow} heeft geen {kind}-stap, dus een zaak kan die nooit afronden",
        "{flow} has no {kind} step, so a case can never finish it"),
    "hint-eindstap-toevoegen": ("voeg een stap toe met `kind: {kind}`", "add a step with `kind: {kind}`"),
    "stap-kan-niet-afronden": (
        "vanaf stap `{step}` kan een zaak nooit afronden: geen pad leidt naar een {kind}-stap",
        "from step `{step}` a case can never finish: no path leads to an {kind} step"),
    "hint-lus-uitweg": (
        "de lus via {steps} heeft een uitweg nodig",
        "the loop through {steps} needs a way out"),
    "hint-tak-naar-einde": (
        "geef `{step}` een tak die naar een {kind}-stap leidt",
        "give `{step}` a branch that leads to an {kind} step"),
    "lus-zonder-grens": ("de lus {loop} heeft geen grens", "the loop {loop} has no limit"),
    "hint-lus-grens": (
        "zet `max_visits` en `on_max_visits` op een van de stappen, bijvoorbeeld `{step}`",
        "set `max_visits` and `on_max_visits` on one of its steps, e.g. `{step}`"),
    "stap-onbereikbaar": (
        "stap `{step}` wordt nooit bereikt: geen stap gaat erheen",
        "step `{step}` is never reached: no step goes to it"),
    "hint-stap-onbereikbaar": (
        "zet hem in de `next` van een eerdere stap, of haal hem weg",
        "add it to the `next` of an earlier step, or remove it"),
    "stap-alleen-via-lus": (
        "stap `{step}` wordt nooit bereikt: alleen de lus via {steps} gaat erheen",
        "step `{step}` is never reached: only the loop through {steps} goes to it"),
    "hint-lus-onbereikbaar": (
        "zet een van die stappen in de `next` van een eerdere stap, of haal ze weg",
        "add one of them to the `next` of an earlier step, or remove them"),
    "spoor-nooit-gestart": (
        "probleemgebied `{track}` wordt nooit gestart: geen tracks-stap noemt het",
        "track `{track}` is never started: no tracks step lists it"),
    "hint-spoor-starten": (
        "zet het in de `tracks` van een tracks-stap, of haal het probleemgebied weg",
        "add it to the `tracks` of a tracks step, or remove the track"),
    "onbekende-stap-hoofdstroom": (
        "onbekende stap `{step}` in de hoofdstroom",
        "unknown step `{step}` in the main flow"),
    "hint-stap-hoofdstroom": ("noem een stap van de hoofdstroom", "name a step of the main flow"),
    # ------------------------------------------------------------ expressions
    "expressie-leeg": ("de expressie is leeg", "the expression is empty"),
    "hint-expressie-voorbeeld": (
        "schrijf een voorwaarde zoals case.arrears_months >= 2",
        "write a condition such as case.arrears_months >= 2"),
    "expressie-te-lang": (
        "de expressie is {length} tekens lang; de grens is {limit}",
        "the expression is {length} characters long; the limit is {limit}"),
    "hint-expressie-splitsen": (
        "verdeel de voorwaarde over een beslisstap",
        "split the condition over a decision step"),
    "expressie-ongeldig": (
        "`{source}` is geen geldige expressie: {where}",
        "`{source}` is not a valid expression: {where}"),
    "expressie-te-diep": (
        "`{source}` is te diep genest om te lezen",
        "`{source}` is nested too deeply to read"),
    "deel-eindigt-te-vroeg": ("hij houdt te vroeg op", "it ends too early"),
    "deel-onverwacht-op-regel": (
        "onverwacht `{rest}` op regel {line}, teken {column}",
        "unexpected `{rest}` at line {line}, character {column}"),
    "deel-onverwacht-op-teken": ("onverwacht `{rest}` op teken {column}", "unexpected `{rest}` at character {column}"),
    "deel-onverwacht-einde": ("onverwacht einde van regel {line}", "unexpected end of line {line}"),
    "deel-onverwachte-tekst": ("onverwachte tekst", "unexpected text"),
    "hint-expressie-en-of": (
        "combineer voorwaarden met && (en), || (of) en ! (niet)",
        "combine conditions with && (and), || (or) and ! (not)"),
    "hint-expressie-drie-is": ("vergelijk met ==, niet ===", "compare with ==, not ==="),
    "hint-expressie-een-is": (
        "vergelijk met ==; een enkele = is niet toegestaan",
        "compare with ==; a single = is not allowed"),
    "hint-expressie-aanhalingsteken": (
        "een tekstwaarde heeft een sluitend aanhalingsteken nodig",
        "a text value needs a closing quote"),
    "naam-niet-hier": ("`{name}` kan niet gebruikt worden in {site}", "`{name}` cannot be used in {site}"),
    "hint-namen-hier": ("namen die je daar kunt gebruiken: {options}", "names you can use there: {options}"),
    "onbekende-naam": ("onbekende naam `{name}` in {site}", "unknown name `{name}` in {site}"),
    "hint-namen-beginnen": ("namen beginnen met {options}", "names start with {options}"),
    "deel-plek-signaal": ("een signaalvoorwaarde", "a trigger condition"),
    "deel-plek-tak": ("een takvoorwaarde", "a branch condition"),
    "deel-plek-param": ("`{param}`", "`{param}`"),
    "deel-zaakgegevens": ("de zaakgegevens (case_data)", "the case data (case_data)"),
    "deel-formulier-van": ("het formulier van stap `{step}`", "the form of step `{step}`"),
    "form-leeg-hier": (
        "`{name}`: stap `{step}` heeft geen formulier, dus `form` is hier leeg",
        "`{name}`: step `{step}` has no form, so `form` is empty here"),
    "hint-eerder-formulier": (
        "lees het formulier van een eerdere stap met steps.<stap_id>.<veld>",
        "read an earlier step's form with steps.<step_id>.<field>"),
    "steps-zonder-stap": (
        "`steps` heeft een stap-id en een veld nodig, bijvoorbeeld steps.intake.problems",
        "`steps` needs a step id and a field, e.g. steps.intake.problems"),
    "expressie-onbekende-stap": ("`{name}`: onbekende stap `{step}`", "`{name}`: unknown step `{step}`"),
    "hint-stappen-met-velden": ("stappen die velden vastleggen: {options}", "steps that record fields: {options}"),
    "hint-geen-formulieren": ("geen stap legt een formulier vast", "no step records a form"),
    "stap-zonder-formulier": (
        "`{name}`: stap `{step}` legt geen formulier of antwoord vast",
        "`{name}`: step `{step}` records no form or answer"),
    "hint-wie-legt-vast": (
        "alleen taken met een formulier en request_partner-stappen leggen velden vast",
        "only human tasks with a form and request_partner steps record fields"),
    "stap-niet-eerder": (
        "`{name}`: stap `{step}` kan niet vóór stap `{current}` gebeurd zijn",
        "`{name}`: step `{step}` cannot have happened before step `{current}`"),
    "hint-alleen-eerdere-stappen": (
        "alleen stappen die in de stroom vóór `{current}` komen, kunnen hier gelezen worden",
        "only steps that come before `{current}` in the flow can be read here"),
    "tracks-vorm": ("`{name}`: schrijf tracks.<spoor_id>.result", "`{name}`: write tracks.<track_id>.result"),
    "expressie-onbekend-spoor": (
        "`{name}`: onbekend probleemgebied `{track}`",
        "`{name}`: unknown track `{track}`"),
    "spoor-alleen-result": (
        "`{name}`: een probleemgebied heeft alleen `result`",
        "`{name}`: a track only has `result`"),
    "hint-tracks-result": ("schrijf tracks.{track}.result", "write tracks.{track}.result"),
    "result-alleen-hoofdstroom": (
        "`{name}` kan alleen in de hoofdstroom gelezen worden",
        "`{name}` can only be read in the main flow"),
    "result-na-tracks-stap": (
        "`{name}` kan alleen gelezen worden na een tracks-stap die `{track}` start",
        "`{name}` can only be read after a tracks step that starts `{track}`"),
    "hint-na-tracks-stap": (
        "zet de voorwaarde na de tracks-stap",
        "move the condition after the tracks step"),
    "veld-heeft-geen-velden": (
        "`{name}` is {kind}; het heeft geen veld `{field}`",
        "`{name}` is {kind}; it has no field `{field}`"),
    "geen-veld-van": ("`{name}` is geen veld van {owner}", "`{name}` is not a field of {owner}"),
    "hint-velden": ("velden: {options}", "fields: {options}"),
    # ------------------------------------------------------------ privacy, partners, registration
    "shared-zonder-role-scope": (
        "`shared` geldt alleen met `role_scope: pathway`",
        "`shared` only applies with `role_scope: pathway`"),
    "hint-role-scope": (
        "zet `role_scope: pathway` bovenaan, of haal `shared` weg",
        "add `role_scope: pathway` at the top, or remove `shared`"),
    "may-receive-alleen-partner": (
        "`may_receive` geldt alleen voor een rol van soort partner",
        "`may_receive` only applies to a role of kind partner"),
    "sjabloon-id-dubbel": (
        "sjabloon-id `{template}` wordt twee keer gebruikt",
        "template id `{template}` is used twice"),
    "sjabloon-niet-voor-partner": (
        "rol `{role}` is een {kind}; een berichtsjabloon is voor een rol van soort partner",
        "role `{role}` is a {kind}; a message template is for a role of kind partner"),
    "sjabloon-veld-niet-toegestaan": (
        "`{{{name}}}` is geen veld dat partner `{partner}` mag ontvangen",
        "`{{{name}}}` is not a field partner `{partner}` may receive"),
    "hint-mag-ontvangen": (
        "voeg `{name}` toe aan `may_receive` van rol `{partner}`, of laat het weg",
        "add `{name}` to `may_receive` of role `{partner}`, or leave it out"),
    "hint-mag-ontvangen-lijst": (
        "de partner mag ontvangen: {options}; voeg `{name}` toe aan `may_receive` van rol `{partner}`, "
        "of laat het weg",
        "it may receive: {options}; add `{name}` to `may_receive` of role `{partner}`, or leave it out"),
    "besluit-naam-ingebouwd": (
        "`name` is ingebouwd: de partner noemt wie bevestigt",
        "`name` is built in: the partner names who confirms"),
    "hint-besluit-naam": ("haal het weg uit het besluit", "remove it from the decision"),
    "param-ontbreekt": (
        "verplicht veld `{key}` ontbreekt: de params van stap `{step}` hebben het nodig",
        "`{key}` is missing: the params of step `{step}` needs it"),
    "tekst-of-sjabloon": (
        "een {kind}-stap heeft `{key}` of `template`, niet allebei",
        "a {kind} step has `{key}` or `template`, not both"),
    "hint-tekst-of-sjabloon": (
        "schrijf de tekst in `{key}`, of noem een berichtsjabloon met `template`",
        "write the text in `{key}`, or name a message template with `template`"),
    "onbekend-sjabloon": ("onbekend berichtsjabloon `{template}`", "unknown message template `{template}`"),
    "hint-gedeclareerde-sjablonen": ("gedeclareerde sjablonen: {options}", "declared templates: {options}"),
    "hint-sjabloon-declareren": (
        "declareer het onder message_templates",
        "declare it under message_templates"),
    "sjabloon-andere-partner": (
        "sjabloon `{template}` is geschreven voor partner `{written}`, niet `{partner}`",
        "template `{template}` is written for partner `{written}`, not `{partner}`"),
    "hint-sjabloon-partner": (
        "gebruik een sjabloon van deze partner, of kies een andere partner",
        "use a template of this partner, or change the partner"),
    "sjabloon-due-zonder-termijn": (
        "sjabloon `{template}` gebruikt {{due}}, maar een notify_partner-stap heeft geen termijn",
        "template `{template}` uses {{due}}, but a notify_partner step has no due date"),
    "hint-sjabloon-due": (
        "gebruik het in een request_partner-stap, of haal {{due}} uit de tekst",
        "use it in a request_partner step, or remove {{due}} from the text"),
    "hint-map-zaakvelden": (
        "koppel alleen velden onder case_data.properties",
        "map only fields under case_data.properties"),
    "overdracht-zelfde-zorgpad": (
        "een overdracht start een zaak op een ander zorgpad, niet op dit zorgpad",
        "a hand-over starts a case on another pathway, not this one"),
    "timeout-zonder-wait": (
        "`timeout` vraagt om `wait: true`: zonder dat wacht de zaak niet",
        "`timeout` needs `wait: true`: without it the case does not wait"),
    "hint-timeout-wait": (
        "zet params.wait: true, of haal timeout/on_timeout weg",
        "set params.wait: true, or remove timeout/on_timeout"),
    "exportveld-dubbel": ("exportveld `{name}` heeft twee keer dezelfde naam", "export field `{name}` is named twice"),
    "persoonsgegeven-in-export": (
        "`{name}` is een persoonsgegeven: het gaat nooit in een registratie-export",
        "`{name}` is personal data: it never goes into a registration export"),
    "hint-niet-identificerend": (
        "exporteer in plaats daarvan een veld dat niemand identificeert",
        "export a non-identifying field instead"),
    "geen-veld-of-feit": (
        "`{name}` is geen veld van case_data en geen zaakfeit",
        "`{name}` is neither a field of case_data nor a case fact"),
    "hint-zaakfeiten": ("zaakfeiten: {options}", "case facts: {options}"),
    "onbekende-codelijst": ("onbekende codelijst `{list}`", "unknown code list `{list}`"),
    "hint-codelijst-declareren": (
        "declareer hem onder registration.code_lists",
        "declare it under registration.code_lists"),
    "codelijst-mist-codes": (
        "codelijst `{list}` heeft geen code voor {values} van `{field}`",
        "code list `{list}` has no code for {values} of `{field}`"),
    "hint-elke-waarde-code": ("geef elke waarde van het veld een code", "give every value of the field a code"),
    "onbekend-registratiemodel": (
        "onbekend registratiemodel `{model}`",
        "unknown registration model `{model}`"),
    "hint-registratiemodel": (
        "gebruik {options}, of declareer het onder `registration:`",
        "use {options}, or declare it under `registration:`"),
}
