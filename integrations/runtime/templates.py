"""The Dutch texts of outbound messages, one template per outbox template name.

A text names the task, the pathway, the case number and a link to the task in
carepath, and nothing about the client: never a name, address or case data.
Whoever follows the link signs in and sees what their role allows. Times are
shown on the Dutch wall clock ("vrijdag 4 december 2026 om 17:00").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december")
REFERRAL_LINK_TEMPLATE = "referral_link"
SIGNATURE = "\n\n-- \nDit bericht is automatisch verstuurd door carepath. Beantwoorden is niet nodig."


@dataclass(frozen=True)
class MessageFacts:
    """What a template may use: the outbox row and a few public facts about its case."""

    message_id: str
    template: str
    channel: str
    case_id: str
    task_id: str | None
    pathway_title: str
    payload: Mapping[str, Any]
    link: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def dutch_moment(value: Any) -> str:
    """An ISO timestamp (or datetime) as 'vrijdag 4 december 2026 om 17:00' in Amsterdam."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        return str(value)
    local = value.astimezone(AMSTERDAM)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year} om {local:%H:%M}"


def _task_lines(f: MessageFacts) -> str:
    lines = [f"Taak: {f.payload.get('title', '-')}"] if f.payload.get("title") else []
    lines += [f"Traject: {f.pathway_title}", f"Dossier: {f.case_id}"]
    if f.payload.get("due_at"):
        lines.append(f"Uiterlijk klaar: {dutch_moment(f.payload['due_at'])}")
    return "\n".join(lines)


def _open(f: MessageFacts) -> str:
    return f"\n\nOpen de taak in carepath: {f.link}" if f.task_id else f"\n\nOpen het dossier in carepath: {f.link}"


def _task_opened(f: MessageFacts) -> Rendered:
    return Rendered(f"Nieuwe taak: {f.payload.get('title', 'taak')}",
                    f"Er staat een nieuwe taak voor je klaar.\n\n{_task_lines(f)}{_open(f)}")


def _task_reassigned(f: MessageFacts) -> Rendered:
    return Rendered(f"Taak aan jou overgedragen: {f.payload.get('title', 'taak')}",
                    f"Een taak is aan jou (of je rol) overgedragen.\n\n{_task_lines(f)}{_open(f)}")


def _reminder_before(f: MessageFacts) -> Rendered:
    return Rendered(f"Herinnering: {f.payload.get('title', 'taak')} moet binnenkort klaar zijn",
                    f"Deze taak moet binnenkort klaar zijn.\n\n{_task_lines(f)}{_open(f)}")


def _reminder_overdue(f: MessageFacts) -> Rendered:
    return Rendered(f"Te laat: {f.payload.get('title', 'taak')}",
                    f"Deze taak is over de termijn. Rond haar zo snel mogelijk af, of overleg met je "
                    f"coördinator.\n\n{_task_lines(f)}{_open(f)}")


def _escalation_subject(f: MessageFacts) -> str:
    if f.payload.get("title"):
        return f"{f.payload['title']} (dossier {f.case_id}) is te laat"
    return f"doorlooptijd van {f.payload.get('lead_time', '?')} overschreden in dossier {f.case_id}"


def _escalation_detail(f: MessageFacts) -> str:
    if f.payload.get("title"):
        return _task_lines(f)
    flow = f.payload.get("flow")
    part = "het hele traject" if flow in (None, "main") else f"het onderdeel '{flow}'"
    return (f"Traject: {f.pathway_title}\nDossier: {f.case_id}\n"
            f"De afgesproken doorlooptijd ({f.payload.get('lead_time', '?')}) voor {part} is voorbij.")


def _escalation_notify(f: MessageFacts) -> Rendered:
    return Rendered(f"Escalatie: {_escalation_subject(f)}",
                    f"Ter informatie: {_escalation_subject(f)}.\n\n{_escalation_detail(f)}{_open(f)}")


def _escalation_reassign(f: MessageFacts) -> Rendered:
    return Rendered(f"Escalatie, taak naar jou overgedragen: {_escalation_subject(f)}",
                    f"Omdat {_escalation_subject(f)}, is het werk aan jouw rol overgedragen.\n\n"
                    f"{_escalation_detail(f)}{_open(f)}")


def _escalation_raise(f: MessageFacts) -> Rendered:
    return Rendered(f"Escalatie, jouw besluit gevraagd: {_escalation_subject(f)}",
                    f"Er is een escalatie voor je: {_escalation_subject(f)}. Bekijk het dossier en neem een "
                    f"besluit.\n\n{_escalation_detail(f)}{_open(f)}")


def _pathway_message(f: MessageFacts) -> Rendered:
    subject = str(f.payload.get("subject") or "Bericht uit carepath")
    body = str(f.payload.get("body") or "")
    return Rendered(subject, f"{body}\n\nTraject: {f.pathway_title}\nDossier: {f.case_id}{_open(f)}")


def _partner_request(f: MessageFacts) -> Rendered:
    before = f.payload.get("answer_before")
    answer = f"\nGraag uw antwoord vóór {dutch_moment(before)}." if before else ""
    return Rendered(f"Verzoek om informatie (dossier {f.case_id})",
                    f"{f.payload.get('question', '')}{answer}\n\nTraject: {f.pathway_title}\nDossier: {f.case_id}")


def _referral_link(f: MessageFacts) -> Rendered:
    """To a partner contact: a single-use link that opens this one referral (no account needed)."""
    before = f.payload.get("due_at")
    answer = f"\nGraag uw antwoord vóór {dutch_moment(before)}." if before else ""
    return Rendered(f"Verwijzing: {f.payload.get('title', 'verzoek')} (dossier {f.case_id})",
                    f"U hebt een verwijzing van maatschappelijk werk ontvangen.{answer}\n\n"
                    f"Traject: {f.pathway_title}\nDossier: {f.case_id}\n\n"
                    f"Bekijk de verwijzing en geef uw antwoord (accepteren, afwijzen of de uitkomst melden) via "
                    f"deze persoonlijke link. De link werkt één keer en vervalt na veertien dagen; na een "
                    f"tussenantwoord krijgt u een nieuwe link voor het volgende.\n{f.link}\n\n"
                    f"Hebt u een account bij carepath, dan vindt u de verwijzing ook onder Verwijzingen.")


def _partner_notification(f: MessageFacts) -> Rendered:
    return Rendered(f"Bericht over dossier {f.case_id}",
                    f"{f.payload.get('message', '')}\n\nTraject: {f.pathway_title}\nDossier: {f.case_id}")


def _letter(f: MessageFacts) -> Rendered:
    recipient = f.payload.get("to", "client")
    who = "de cliënt" if recipient == "client" else f"de rol {recipient}"
    return Rendered(f"Brief '{f.template}' voor dossier {f.case_id}",
                    f"Te versturen brief: sjabloon '{f.template}' aan {who}.\nTraject: {f.pathway_title}\n"
                    f"Dossier: {f.case_id}\nAdresgegevens worden bij het afdrukken uit het dossier gehaald.")


def _registration(f: MessageFacts) -> Rendered:
    return Rendered(f"Registratie {f.payload.get('model', 'amw')} voor dossier {f.case_id}",
                    f"Registratierecord ({f.payload.get('model', 'amw')}) van dossier {f.case_id}.")


def _fallback(f: MessageFacts) -> Rendered:
    return Rendered(f"Bericht uit carepath (dossier {f.case_id})",
                    f"Er is een bericht voor je in carepath.\n\nTraject: {f.pathway_title}\n"
                    f"Dossier: {f.case_id}{_open(f)}")


def _ddas_feedback(f: MessageFacts) -> Rendered:
    # Early signalling: the partner hears only "opgepakt" or "niet opgepakt", never why (DDAS, Wgs).
    return Rendered("Terugmelding vroegsignaal", str(f.payload.get("message", "")))


TEMPLATES: dict[str, Callable[[MessageFacts], Rendered]] = {
    "ddas_terugmelding": _ddas_feedback,
    "task_opened": _task_opened,
    "task_reassigned": _task_reassigned,
    "reminder_before": _reminder_before,
    "reminder_overdue": _reminder_overdue,
    "escalation_notify": _escalation_notify,
    "escalation_reassign": _escalation_reassign,
    "escalation_raise": _escalation_raise,
    "pathway_message": _pathway_message,
    "partner_request": _partner_request,
    "partner_notification": _partner_notification,
    REFERRAL_LINK_TEMPLATE: _referral_link,
    "letter": _letter,
    "registration": _registration,
}


def render(facts: MessageFacts, *, signature: bool = True) -> Rendered:
    """The message's Dutch subject and body (letters use the `letter` template whatever their name)."""
    name = "letter" if facts.channel == "letter" else facts.template
    rendered = TEMPLATES.get(name, _fallback)(facts)
    return Rendered(rendered.subject, rendered.body + (SIGNATURE if signature else ""))
