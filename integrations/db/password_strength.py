"""Is a new password hard enough to guess? A strength estimator, not only a length.

zxcvbn (Dropbox's estimator, `zxcvbn` on PyPI) estimates how many guesses an attacker needs, using
lists of common passwords, names, keyboard patterns, dates and repeats. Its lists are English, so
carepath adds the Dutch words people often build passwords from (seasons, "welkom", "wachtwoord",
cities, clubs) and the person's own user name and name. Score 3 of 4 (about 10^8 guesses: safe from
online guessing and slow against an offline attack on argon2 hashes) is the minimum.
"""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

from engine.errors import ValidationError

MIN_SCORE = 3
MAX_CHECKED = 100  # zxcvbn's work grows with the length; beyond this the rest adds strength anyway

DUTCH_WORDS = (
    "welkom", "wachtwoord", "geheim", "hallo", "hoi", "doei", "liefde", "schat", "schatje", "lieverd", "prinses",
    "voorjaar", "lente", "zomer", "herfst", "najaar", "winter", "januari", "februari", "maart", "april", "mei",
    "juni", "juli", "augustus", "september", "oktober", "november", "december", "maandag", "dinsdag", "woensdag",
    "donderdag", "vrijdag", "zaterdag", "zondag", "nederland", "holland", "oranje", "amsterdam", "rotterdam",
    "utrecht", "groningen", "eindhoven", "tilburg", "dordrecht", "assen", "emmen", "ajax", "feyenoord", "psv",
    "carepath", "gemeente", "zorg", "zorgpad", "werk", "kantoor", "team", "beheer", "beheerder", "medewerker",
    "coordinator", "wijkteam", "maatschappelijk", "jeugdzorg", "postcode", "fiets", "voetbal", "poes", "hond",
    "konijn", "koffie", "bier", "kaas", "tulp", "molen", "appel", "banaan", "mama", "papa", "oma", "opa",
)

_WARNINGS = {
    "Straight rows of keys are easy to guess.": "een rij toetsen naast elkaar is makkelijk te raden",
    "Short keyboard patterns are easy to guess.": "een kort toetsenbordpatroon is makkelijk te raden",
    'Repeats like "aaa" are easy to guess.': "herhalingen zoals 'aaa' zijn makkelijk te raden",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "herhalingen zoals 'abcabc' zijn nauwelijks moeilijker te raden dan 'abc'",
    "Sequences like abc or 6543 are easy to guess.": "reeksen zoals abc of 6543 zijn makkelijk te raden",
    "Recent years are easy to guess.": "recente jaartallen zijn makkelijk te raden",
    "Dates are often easy to guess.": "datums zijn vaak makkelijk te raden",
    "This is a top-10 common password.": "dit is een van de tien meest gebruikte wachtwoorden",
    "This is a top-100 common password.": "dit is een van de honderd meest gebruikte wachtwoorden",
    "This is a very common password.": "dit is een veelgebruikt wachtwoord",
    "This is similar to a commonly used password.": "dit lijkt op een veelgebruikt wachtwoord",
    "A word by itself is easy to guess.": "een los woord is makkelijk te raden",
    "Names and surnames by themselves are easy to guess.": "een naam op zich is makkelijk te raden",
    "Common names and surnames are easy to guess.": "gewone voor- en achternamen zijn makkelijk te raden",
}


def check_strength(password: str, personal: Sequence[str] = ()) -> None:
    """ValidationError (Dutch, with a tip) when `password` is too easy to guess."""
    inputs = [*DUTCH_WORDS, *(w.lower() for p in personal for w in p.replace(".", " ").split() if len(w) >= 3)]
    result = zxcvbn(password[:MAX_CHECKED], user_inputs=inputs)
    if int(result["score"]) >= MIN_SCORE:
        return
    warning = str(result.get("feedback", {}).get("warning") or "")
    why = _WARNINGS.get(warning, "het is te makkelijk te raden")
    raise ValidationError(f"dit wachtwoord is te zwak: {why}; kies bijvoorbeeld drie of vier losse woorden "
                          "met spaties ertussen, die niet over jou of je werk gaan")
