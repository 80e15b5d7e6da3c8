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
    # client search and the client on case pages and lists
    "Cliënt zoeken": "Find a client",
    "Zoekt in de zaken van je teams. Elke zoekvraag wordt met de reden vastgelegd.":
        "Searches the cases of your teams. Every search is logged with its reason.",
    "De zoekvraag is nog niet compleet:": "The search is not complete yet:",
    "Naam": "Name",
    "Achternaam of een deel van de naam": "Surname or part of the name",
    "Geboortedatum": "Date of birth",
    "dag-maand-jaar": "day-month-year",
    "Postcode": "Postcode",
    "Huisnummer": "House number",
    "BSN": "BSN (citizen service number)",
    "Alleen waar het zorgpad het BSN bewaart": "Only where the pathway keeps the BSN",
    "Reden van het zoeken": "Reason for the search",
    "Bijvoorbeeld: cliënt belt, telefoonnotitie koppelen": "For example: the client calls, to file a phone note",
    "Ook gesloten zaken": "Closed cases too",
    "1 zaak gevonden": "1 case found",
    "{n} zaken gevonden": "{n} cases found",
    "Er zijn meer; maak de zoekvraag preciezer.": "There are more; make the search more precise.",
    "Cliënt": "Client",
    "Gegevens": "Details",
    "(zonder naam)": "(no name)",
    "Geen cliënt gevonden in de zaken van je teams.": "No client found in the cases of your teams.",
    "De zaken van je teams, met de naam van de cliënt bij lopende zaken; adressen staan op de zaak zelf.":
        "The cases of your teams, with the client's name for running cases; addresses are on the case itself.",
    "Vul de geboortedatum in als dag-maand-jaar, bijvoorbeeld 12-05-1984.":
        "Enter the date of birth as day-month-year, for example 12-05-1984.",
    "Een postcode is vier cijfers en twee letters, bijvoorbeeld 9981 AB.":
        "A postcode is four digits and two letters, for example 9981 AB.",
    "Een huisnummer begint met cijfers, bijvoorbeeld 12 of 12a.": "A house number starts with digits, for example 12 or 12a.",
    "Zoek op postcode én huisnummer: vul ook de postcode in.": "Search on postcode and house number: enter the postcode too.",
    "Dit is geen geldig BSN: negen cijfers die de elfproef doorstaan.":
        "This is not a valid BSN: nine digits that pass the eleven test.",
    "Vul een naam, geboortedatum, postcode of BSN in.": "Enter a name, date of birth, postcode or BSN.",
    "Vul minstens twee letters van de naam in.": "Enter at least two letters of the name.",
    "Geef een reden op: elke zoekvraag wordt vastgelegd.": "Give a reason: every search is logged.",
    # confirming an answer that ends the case or a problem area
    "Weet je het zeker?": "Are you sure?",
    "Met deze antwoorden gebeurt het volgende:": "With these answers, this will happen:",
    "Klopt dat niet? Pas de antwoorden hierboven aan en rond opnieuw af.":
        "Not right? Change the answers above and complete again.",
    "Ja, afronden": "Yes, complete",
    "De zaak wordt gesloten met uitkomst «{outcome}».": "The case will be closed with outcome «{outcome}».",
    "De andere open taak vervalt.": "The other open task lapses.",
    "De {n} andere open taken vervallen.": "The {n} other open tasks lapse.",
    "Heropenen kan daarna alleen een coördinator, met een reden.":
        "After that, only a coordinator can reopen it, with a reason.",
    "Het probleemgebied {track} wordt afgesloten.": "The problem area {track} will be closed.",
    # the timeline
    "Wat komt": "Coming up",
    "Tijdlijn filteren": "Filter the timeline",
    "Alles": "Everything",
    "Taken": "Tasks",
    "Berichten": "Messages",
    "Besluiten": "Decisions",
    "Niets in deze selectie.": "Nothing in this selection.",
    # the plan: problem areas by status
    "{active} actief, {closed} afgesloten": "{active} active, {closed} closed",
    "Probleemgebied": "Problem area",
    "Eigenaar": "Owner",
    "Stand": "Status",
    "Laatste evaluatie": "Last evaluation",
    "nog niemand": "nobody yet",
    "Per probleemgebied": "Per problem area",
    # ad hoc tasks
    "Taak toevoegen": "Add a task",
    "Werk dat het zorgpad niet noemt, zoals de huisarts bellen of helpen met een formulier.":
        "Work the pathway does not name, such as calling the GP or helping with a form.",
    "Wat moet er gebeuren?": "What needs doing?",
    "Hoort bij": "Belongs to",
    "Uiterlijk op": "Due on",
    "Om": "At",
    "Herinneringen": "Reminders",
    "2 uur vooraf": "2 hours before",
    "1 dag vooraf": "1 day before",
    "3 dagen vooraf": "3 days before",
    "1 week vooraf": "1 week before",
    "Alleen een lopende zaak krijgt nieuwe taken.": "Only a running case takes new tasks.",
    "De zaak is intussen gewijzigd; probeer het opnieuw.": "The case changed meanwhile; try again.",
    "Taak toegevoegd: {title}.": "Task added: {title}.",
    # the inbox in plain Dutch
    "jou": "you",
    "aan": "to",
    "Nieuwe taak voor jou: {title}, uiterlijk {due}": "New task for you: {title}, due {due}",
    "Nieuwe taak voor {role}: {title}, uiterlijk {due}": "New task for {role}: {title}, due {due}",
    "Taak aan jou overgedragen: {title}, uiterlijk {due}": "Task handed to you: {title}, due {due}",
    "Taak overgedragen aan {role}: {title}": "Task handed to {role}: {title}",
    "taak is al afgehandeld": "task already dealt with",
    # publishing with the difference
    "Ja, versie {v} publiceren": "Yes, publish version {v}",
    "Niets te publiceren": "Nothing to publish",
    "Versie {new} is gelijk aan de gepubliceerde versie {old}, op het nummer na. Wijzig eerst iets.":
        "Version {new} equals the published version {old}, apart from its number. Change something first.",
    "Versie {new} publiceren? Dit verandert er ten opzichte van versie {old}:":
        "Publish version {new}? This is what changes compared with version {old}:",
    "Stap toegevoegd": "Step added",
    "Stap verwijderd": "Step removed",
    "Stap gewijzigd": "Step changed",
    "Nieuwe zaken starten op versie {new}.": "New cases start on version {new}.",
    "{n} lopende zaken van je teams blijven op hun versie tot je ze overzet.":
        "{n} running cases of your teams stay on their version until you migrate them.",
    "1 lopende zaak van je teams blijft op haar versie tot je haar overzet.":
        "1 running case of your teams stays on its version until you migrate it.",
    "Bij {n} daarvan staat werk open bij een verwijderde of gewijzigde stap: bij het overzetten kies je waar die verdergaan.":
        "{n} of them have open work at a removed or changed step: when migrating you choose where they continue.",
    "Er lopen geen zaken van je teams op een oudere versie.": "No cases of your teams run on an older version.",
    "Klopt dit? Kies hieronder «Ja, versie {v} publiceren».": "Is this right? Choose «Yes, publish version {v}» below.",
    # migrating with a step mapping
    "Stappen die versie {v} niet meer heeft": "Steps version {v} no longer has",
    "Kies per stap waar de zaken die er nu staan verdergaan; hun open taak daar vervalt. Bereken daarna de proefrun opnieuw.":
        "Choose per step where the cases standing there continue; their open task there lapses. Then run the dry run again.",
    "«{title}» ({n} zaken) gaat verder bij": "«{title}» ({n} cases) continues at",
    "«{title}» (1 zaak) gaat verder bij": "«{title}» (1 case) continues at",
    "— nog niet gekozen: deze zaken blijven staan —": "— not chosen yet: these cases stay —",
    "Proefrun opnieuw berekenen": "Run the dry run again",
    # the pathway diagram
    "Hoofdroute": "Main flow",
    "Elke stap met wie, wanneer, herinneringen en escalaties; de takken met hun voorwaarde in woorden. Lijnen rechts gaan naar een andere stap dan de volgende (terug = een lus).":
        "Every step with who, when, reminders and escalations; branches with their condition in words. Lines on the right go to another step than the next (back = a loop).",
    "ook": "also",
    # simulation: two versions side by side
    "Vergelijken met de gepubliceerde versie": "Compare with the published version",
    "Instellingen voor simuleren en vergelijken": "Settings for simulating and comparing",
    "Aantal zaken": "Number of cases",
    "Aantal dagen": "Number of days",
    "Taken op tijd (%)": "Tasks on time (%)",
    "Partners die antwoorden (%)": "Partners who answer (%)",
    "Te laat werk: hoogstens dagen te laat": "Late work: at most days late",
    "Er is nog geen gepubliceerde versie om mee te vergelijken.": "There is no published version to compare with yet.",
    "Vergelijking op dezelfde {n} gesimuleerde zaken over {days} dagen": "Comparison on the same {n} simulated cases over {days} days",
    "Start {when} (Nederlandse tijd); taken op tijd {on_time}%, partners die antwoorden {partners}%, te laat werk tot {late} dagen. Er is niets opgeslagen.":
        "Start {when} (Dutch time); tasks on time {on_time}%, partners who answer {partners}%, late work up to {late} days. Nothing was stored.",
    "Gesloten": "Closed",
    "Nog open": "Still open",
    "Mediane doorlooptijd (dagen)": "Median lead time (days)",
    "Taken op tijd": "Tasks on time",
    "Taken met een escalatie": "Tasks with an escalation",
    "in de bron hieronder": "in the source below",
}
