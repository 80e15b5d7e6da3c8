"""English for the partner pages (referrals, incidents, partner meetings, calendar feed).

Kept apart from `web.i18n.EN` so the partner work adds texts without touching the shared table;
`web.i18n` merges this mapping into `EN` when it is imported.
"""

from __future__ import annotations

EN_PARTNERS: dict[str, str] = {
    "Antwoord ontvangen": "Answer received",
    "Antwoord vastgelegd: {status}.": "Answer recorded: {status}.",
    "Antwoord vastleggen": "Record answer",
    "Antwoord versturen": "Send answer",
    "Dank u. Uw antwoord op verwijzing {ref} is vastgelegd: {status}.":
        "Thank you. Your answer to referral {ref} has been recorded: {status}.",
    "De vraag": "The question",
    "Deze link werkt nu niet meer.": "This link no longer works.",
    "Deze link werkt nu niet meer. U ontvangt een nieuwe link per e-mail om later de uitkomst te melden.":
        "This link no longer works. You will receive a new link by e-mail to report the outcome later.",
    "Deze verwijzing is afgehandeld; er is geen antwoord meer nodig.":
        "This referral is finished; no further answer is needed.",
    "Gedeelde gegevens": "Shared data",
    "Geef de reden van de afwijzing.": "Give the reason for the rejection.",
    "Geen verwijzingen.": "No referrals.",
    "Het zorgpad deelt bij deze verwijzing geen gegevens van de cliënt.":
        "The pathway shares no client data with this referral.",
    "Je legt het antwoord vast dat de partner telefonisch gaf. Het wordt gemarkeerd als vastgelegd namens de partner.":
        "You are recording the answer the partner gave by phone. It is marked as recorded on the partner's behalf.",
    "Ketenpartner": "Partner",
    "Kies wat u antwoordt.": "Choose your answer.",
    "Niet alles is goed ingevuld; zie de velden hieronder.": "Not everything is filled in correctly; see the fields below.",
    "Storingen": "Incidents",
    "Toelichting (verplicht bij afwijzen)": "Explanation (required when rejecting)",
    "Toestemming vastgelegd; de verwijzing is verstuurd.": "Consent recorded; the referral has been sent.",
    "Toestemming vastleggen voor {partner}": "Record consent for {partner}",
    "Uitkomst (bij afronden)": "Outcome (when completing)",
    "Uw antwoord": "Your answer",
    "Verloop": "History",
    "Verstuurd; nog geen antwoord.": "Sent; no answer yet.",
    "Verwijzing": "Referral",
    "Verwijzingen": "Referrals",
    "Verwijzingen aan uw organisatie. U ziet per verwijzing alleen de gegevens die het zorgpad met u deelt.":
        "Referrals to your organisation. For each referral you see only the data the pathway shares with you.",
    "Verwijzingen naar ketenpartners in jouw zaken: bij wie ze liggen en sinds wanneer.":
        "Referrals to partners in your cases: who holds them and since when.",
    "Voor deze partner wacht geen verwijzing op toestemming.": "No referral to this partner is waiting for consent.",
    "Wat is uw antwoord?": "What is your answer?",
    "aan": "to",
    "antwoord uiterlijk": "answer by",
    "bij": "with",
    "sinds": "since",
    "telefonisch vastgelegd namens de partner": "recorded by phone on the partner's behalf",
    "wacht op toestemming": "waiting for consent",
    "{n} verwijzingen": "{n} referrals",
}
