"""English for the casework texts (journal, client search, confirmations); merged into `web.i18n.EN`.

Kept apart from `web/i18n.py` so the casework pages add their texts without editing the shared table.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # the case journal
    "Journaal": "Journal",
    "{n} regels": "{n} entries",
    "1 regel": "1 entry",
    "persoonsgegevens": "personal data",
    "Het journaal is persoonsgegeven; het is zichtbaar zodra je hierboven een reden opgeeft.":
        "The journal is personal data; it is shown once you give a reason above.",
    "Zoeken in het journaal": "Search the journal",
    "Soort": "Kind",
    "Alle soorten": "All kinds",
    "Zoeken": "Search",
    "Alles tonen": "Show all",
    "Journaalregel schrijven": "Write a journal entry",
    "Wanneer": "When",
    "Over": "About",
    "de zaak als geheel": "the case as a whole",
    "Wat er gebeurde": "What happened",
    "Opslaan": "Save",
    "gewijzigd": "changed",
    "correctie op regel van": "correction of entry",
    "Wijzigen (kan nog even)": "Change (possible for a short while)",
    "Tekst": "Text",
    "Wijziging opslaan": "Save change",
    "Correctie schrijven": "Write a correction",
    "Correctie": "Correction",
    "Correctie opslaan": "Save correction",
    "Geen journaalregels gevonden.": "No journal entries found.",
    "Nog niets in het journaal.": "Nothing in the journal yet.",
    "Journaalregel opgeslagen.": "Journal entry saved.",
    "Journaalregel gewijzigd.": "Journal entry changed.",
    "De zaak is gesloten; er kan niets meer in het journaal bij.": "The case is closed; the journal takes no new entries.",
    "Contact": "Contact",
    "Telefoongesprek": "Phone call",
    "Huisbezoek": "Home visit",
    "Overleg": "Consultation",
    "Notitie": "Note",
    "Inzage": "Access request",
    "Gegevens van de cliënt downloaden, omdat:": "Download the client's data, because:",
    "Downloaden (wordt vastgelegd)": "Download (logged)",
}
