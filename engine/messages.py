"""The engine's messages: one stable code per message, a Dutch and an English template each.

An engine error is raised with a `Message` (`msg("task.claimed", task=..., worker=...)`): its
`code` never changes, its `args` are named values. `render(message, "nl")` gives the text a Dutch
reader sees (that is `str(error)`), `render(message, "en")` the English one; the edge (web app,
API, command line) chooses the language, the engine never does. Names shown to people are titles
(the task's title, the step's title, the pathway's title); ids a person needs no name for (a case
number) are shown as they are, and every id stays in `args` for logs and the API's `detail`.

Argument values may be text, numbers, a moment (shown as a Dutch or English date and time in
Europe/Amsterdam), another `Message` (a status word, an action) or a list of those (joined with
"; " for nested messages, ", " for plain values). Templates use `{name}` placeholders only; both
languages of one code use the same names (`tests/unit/test_messages.py`).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.duration_words import describe
from engine.durations import Duration
from engine.json_validation import error_problem
from engine.problem_texts import Text

LANGUAGES = ("nl", "en")
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class Message:
    """One coded message: `code` (stable, in `CATALOGUE`) and its named `args`."""

    code: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self, "nl")


def msg(code: str, /, **args: Any) -> Message:
    """The message `code` with its named arguments; an unknown code is a programming error."""
    if code not in CATALOGUE:
        raise KeyError(f"no engine message {code!r} in engine/messages.py")
    return Message(code, args)


# code -> (Dutch, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- words used inside other messages ------------------------------------
    "status.case.open": ("lopend", "open"),
    "status.case.suspended": ("gepauzeerd", "paused"),
    "status.case.closed": ("gesloten", "closed"),
    "status.task.open": ("open", "open"),
    "status.task.completed": ("afgerond", "completed"),
    "status.task.cancelled": ("vervallen", "cancelled"),
    "status.track.planned": ("gepland", "planned"),
    "status.track.active": ("lopend", "active"),
    "status.track.closed": ("afgesloten", "closed"),
    "flow.main": ("de hoofdroute", "the main flow"),
    "flow.track": ("probleemgebied «{track}»", "problem area «{track}»"),
    "action.claim": ("een taak oppakken", "claim a task"),
    "action.complete": ("een taak afronden", "complete a task"),
    "action.suspend": ("de zaak pauzeren", "pause the case"),
    "action.add_track": ("een probleemgebied toevoegen", "add a problem area"),
    "action.answer_referral": ("een verwijzing beantwoorden", "answer a referral"),
    "action.consent": ("toestemming vastleggen", "record consent"),
    "action.change_data": ("de zaakgegevens wijzigen", "change the case data"),
    "action.add_task": ("een taak toevoegen", "add a task"),
    "subject.case_data": ("de zaakgegevens voor zorgpad «{pathway}»", "the case data for pathway «{pathway}»"),
    "subject.case_data_of": ("de zaakgegevens van zaak {case}", "the case data of case {case}"),
    "subject.form": ("het formulier van taak «{task}»", "the form of task «{task}»"),
    "subject.evaluation": ("de evaluatie «{task}»", "the evaluation «{task}»"),
    # --- form and data checks (JSON Schema) -----------------------------------
    "schema.invalid": ("fout in {subject}: {problems}", "{subject} is not valid: {problems}"),
    "schema.problem": ("{field}: {problem}", "{field}: {problem}"),
    "schema.problem_hint": ("{field}: {problem} ({hint})", "{field}: {problem} ({hint})"),
    "schema.whole": ("het geheel", "the whole"),
    # --- moving through a pathway ---------------------------------------------
    "flow.loop": ("zaak {case}: zorgpad «{pathway}» ging {limit} stappen door in één opdracht zonder te wachten "
                  "(laatste: «{step}»); het zorgpad heeft een begrensde lus nodig",
                  "case {case}: pathway «{pathway}» entered {limit} steps in one command without waiting "
                  "(last: «{step}»); the pathway needs a bounded loop"),
    "flow.no_branch": ("zaak {case}: bij stap «{step}» van zorgpad «{pathway}» geldt geen enkele vervolgstap "
                       "(voorwaarden: {conditions})",
                       "case {case}: no branch of step «{step}» of pathway «{pathway}» applies "
                       "(conditions: {conditions})"),
    "step.no_role": ("stap «{step}» van zorgpad «{pathway}» heeft geen rol",
                     "step «{step}» of pathway «{pathway}» has no role"),
    "step.no_handler": ("carepath kent geen stapsoort {kind}", "carepath knows no step kind {kind}"),
    "tracks.not_a_list": ("zaak {case}: stap «{step}»: tracks_from {expression} gaf {value}, geen lijst van "
                          "probleemgebieden",
                          "case {case}: step «{step}»: tracks_from {expression} gave {value}, not a list of "
                          "problem areas"),
    "tracks.unknown": ("zaak {case}: stap «{step}» noemt onbekende probleemgebieden: {tracks}",
                       "case {case}: step «{step}» names unknown problem areas: {tracks}"),
    "tracks.not_now": ("zaak {case} werkt nu niet aan probleemgebieden", "case {case} is not working on problem areas now"),
    "track.already": ("zaak {case}: probleemgebied «{track}» is al {status}",
                      "case {case}: problem area «{track}» is already {status}"),
    "track.unknown": ("zorgpad «{pathway}» kent geen probleemgebied {track}",
                      "pathway «{pathway}» has no problem area {track}"),
    # --- commands -------------------------------------------------------------
    "command.unknown": ("carepath kent de opdracht {command} niet", "carepath knows no command {command}"),
    "command.wrong_case": ("een opdracht voor zaak {case} kreeg de gegevens van zaak {other}",
                           "a command for case {case} was given the state of case {other}"),
    "case.exists": ("zaak {case} bestaat al", "case {case} exists already"),
    "case.unknown": ("zaak {case} bestaat niet", "there is no case {case}"),
    "expression.cannot_evaluate": ("kan `{expression}` niet uitrekenen: {reason}", "cannot evaluate `{expression}`: {reason}"),
    "expression.reason.input": ("invoer die een uitdrukking niet kan lezen ({detail})", "unsupported input ({detail})"),
    "expression.reason.too_deep": ("te diep genest", "nested too deeply"),
    "expression.reason.unknown_name": ("onbekende naam `{name}`", "unknown name `{name}`"),
    "expression.reason.no_field": ("geen veld {field}", "no such field: {field}"),
    "expression.reason.types": ("de waarden hebben typen die zo niet te combineren zijn",
                                "the values have types that cannot be combined this way"),
    "expression.reason.other": ("{detail}", "{detail}"),
    "expression.bad_value": ("de uitdrukking gaf een waarde die carepath niet kan gebruiken: {kind}",
                             "the expression produced a value carepath cannot use: {kind}"),
    "case.changed": ("zaak {case} is gewijzigd terwijl de opdracht werd beslist; probeer het opnieuw",
                     "case {case} changed while the command was decided; try again"),
    "case.start_failed": ("kon geen zaak starten op zorgpad «{pathway}» versie {version} (na {attempts} pogingen)",
                          "could not start a case on pathway «{pathway}» version {version} ({attempts} attempts)"),
    "store.no_task": ("taak {task_id} bestaat niet", "there is no task {task_id}"),
    "store.not_published": ("zorgpad {pathway} versie {version} is niet gepubliceerd",
                            "pathway {pathway}@{version} is not published"),
    "store.pathway_not_published": ("zorgpad {pathway} is niet gepubliceerd (gepubliceerd: {known})",
                                    "pathway {pathway} is not published (published: {known})"),
    "case.not_open": ("zaak {case} is {status}: {action} kan nu niet", "case {case} is {status}: cannot {action} now"),
    "case.pause_reason": ("zaak {case}: zeg waarom de zaak gepauzeerd wordt", "case {case}: say why the case is paused"),
    "case.not_paused": ("zaak {case} is {status}, niet gepauzeerd", "case {case} is {status}, not paused"),
    "case.already_closed": ("zaak {case} is al gesloten (uitkomst: {outcome})",
                            "case {case} is already closed (outcome: {outcome})"),
    "start.no_trigger": ("zorgpad «{pathway}» kent het signaal {trigger} niet (wel: {known})",
                         "pathway «{pathway}» has no signal {trigger} (known: {known})"),
    "start.unknown_roles": ("de toewijzingen noemen rollen die zorgpad «{pathway}» niet kent: {roles}",
                            "the assignments name roles pathway «{pathway}» does not have: {roles}"),
    "start.condition": ("signaal «{trigger}» voldoet niet aan de voorwaarde van zorgpad «{pathway}»: {condition}",
                        "signal «{trigger}» does not meet the condition of pathway «{pathway}»: {condition}"),
    "start.no_sample": ("de proefrun vond geen zaakgegevens die voldoen aan de voorwaarde van signaal {trigger}",
                        "the dry run found no case data meeting the condition of signal {trigger}"),
    "task.unknown": ("zaak {case} heeft geen taak {task_id}", "case {case} has no task {task_id}"),
    "task.already_closed": ("taak «{task}» is al {status}", "task «{task}» is already {status}"),
    "task.already_closed_by": ("taak «{task}» is al {status} door {worker} ({at})",
                               "task «{task}» was already {status} by {worker} ({at})"),
    "task.claimed": ("taak «{task}» is al opgepakt door {worker}", "task «{task}» is already claimed by {worker}"),
    "task.not_with": ("taak «{task}» ligt niet bij {worker} maar bij {assignee}",
                      "task «{task}» is not with {worker} but with {assignee}"),
    "task.not_with_queue": ("taak «{task}» ligt niet bij {worker} maar in de wachtrij",
                            "task «{task}» is not with {worker} but in the queue"),
    "role.unknown": ("rol {role} hoort niet bij zorgpad «{pathway}»", "role {role} is not a role of pathway «{pathway}»"),
    "answer.invalid": ("het antwoord op taak «{task}» klopt niet: {problems}",
                       "the answer to task «{task}» is not valid: {problems}"),
    "answer.confirmer": ("het antwoord op taak «{task}»: de partner noemt wie bevestigt (`name`)",
                         "the answer to task «{task}»: the partner names who confirms (`name`)"),
    "evaluation.no_track": ("evaluatie «{task}»: zaak {case} heeft geen probleemgebied {track}",
                            "evaluation «{task}»: case {case} has no problem area {track}"),
    "evaluation.unknown_track": ("evaluatie «{task}»: zorgpad «{pathway}» kent geen probleemgebied {track}",
                                 "evaluation «{task}»: pathway «{pathway}» has no problem area {track}"),
    "evaluation.focus": ("evaluatie «{task}»: focus {track} is geen probleemgebied van zaak {case}",
                         "evaluation «{task}»: focus {track} is not a problem area of case {case}"),
    "evaluation.no_tracks_now": ("evaluatie «{task}»: zaak {case} werkt nu niet aan probleemgebieden",
                                 "evaluation «{task}»: case {case} is not working on problem areas now"),
    "timer.unknown": ("zaak {case} heeft geen gepland moment {timer}", "case {case} has no timer {timer}"),
    "timer.not_due": ("gepland moment {timer} valt op {due}, nog niet op {now}",
                      "timer {timer} is due at {due}, not yet at {now}"),
    "close.unknown_reason": ("zorgpad «{pathway}» kent geen sluitreden {reason} (wel: {known})",
                             "pathway «{pathway}» has no close reason {reason} (known: {known})"),
    "close.outcome_needed": ("sluitreden {reason} vraagt een uitkomst van zorgpad «{pathway}» ({known}), niet {outcome}",
                             "close reason {reason} needs an outcome of pathway «{pathway}» ({known}), not {outcome}"),
    "reopen.not_closed": ("zaak {case} is {status}, niet gesloten", "case {case} is {status}, not closed"),
    "reopen.not_allowed": ("zorgpad «{pathway}» staat heropenen van zaken niet toe",
                           "pathway «{pathway}» does not allow reopening cases"),
    "reopen.too_late": ("zaak {case} is te lang geleden gesloten om te heropenen (dat kon tot {until})",
                        "case {case} was closed too long ago to reopen (that was possible until {until})"),
    "reopen.no_step": ("zorgpad «{pathway}» heeft geen stap {step} in de hoofdroute om de zaak te heropenen",
                       "pathway «{pathway}» has no main-flow step {step} to reopen the case at"),
    "origin.not_registered": ("zorgpad «{pathway}» legt geen herkomst vast", "pathway «{pathway}» does not register origin"),
    "origin.objected": ("de cliënt van zaak {case} maakte bezwaar tegen het vastleggen van herkomst",
                        "the client of case {case} objected to registering origin"),
    "origin.unknown_keys": ("herkomst bevat alleen geboorteland ({allowed}), niet {unknown}",
                            "origin holds only country of birth ({allowed}), not {unknown}"),
    "origin.bad_codes": ("herkomst is een landcode volgens ISO 3166, zoals NL: {bad}",
                         "origin values are ISO 3166 country codes such as NL: {bad}"),
    "escalation.unknown": ("zaak {case} heeft geen openstaande escalatie {escalation}",
                           "case {case} has no open escalation {escalation}"),
    "referral.unknown": ("zaak {case} heeft geen verwijzing {referral}", "case {case} has no referral {referral}"),
    "referral.channel": ("onbekende manier van antwoorden {channel} (account, link, phone)",
                         "unknown way of answering {channel} (account, link, phone)"),
    "referral.reason_needed": ("verwijzing «{task}»: geef de reden van de afwijzing",
                               "referral «{task}»: give the reason for rejecting it"),
    "referral.answered": ("verwijzing «{task}» kan niet meer worden beantwoord", "referral «{task}» can no longer be answered"),
    "referral.status": ("onbekende status van een verwijzing: {status} (bekend: {known})",
                        "unknown status of a referral: {status} (known: {known})"),
    "referral_status.requested": ("verstuurd", "requested"),
    "referral_status.received": ("ontvangen", "received"),
    "referral_status.accepted": ("geaccepteerd", "accepted"),
    "referral_status.rejected": ("afgewezen", "rejected"),
    "referral_status.in-progress": ("in behandeling", "in progress"),
    "referral_status.on-hold": ("gepauzeerd", "on hold"),
    "referral_status.completed": ("afgerond", "completed"),
    "referral_status.cancelled": ("ingetrokken", "cancelled"),
    "referral_status.failed": ("mislukt", "failed"),
    "referral_status.final": ("niets meer (definitief)", "nothing (final)"),
    "referral.transition": ("verwijzing {referral} is {current}; zij kan niet meer {new} worden (wel mogelijk: {allowed})",
                            "referral {referral} is {current}; it can no longer become {new} (possible: {allowed})"),
    "consent.not_partner": ("{partner} is geen partnerrol van zorgpad «{pathway}»",
                            "{partner} is not a partner role of pathway «{pathway}»"),
    "meeting.decision_empty": ("zaak {case}: een besluit van het ketenoverleg heeft een tekst nodig",
                               "case {case}: a decision of the partner meeting needs a text"),
    "meeting.decision_long": ("zaak {case}: een besluit is hoogstens {limit} tekens",
                              "case {case}: a decision is at most {limit} characters"),
    # --- a worker's own tasks (taak toevoegen) -------------------------------
    "adhoc.title_needed": ("geef de taak een naam", "give the task a title"),
    "adhoc.title_long": ("de naam van de taak is {length} tekens; hoogstens {limit}",
                         "the task's title is {length} characters; at most {limit}"),
    "adhoc.unknown_role": ("zorgpad «{pathway}» heeft geen rol {role} (wel: {roles})",
                           "pathway «{pathway}» has no role {role} (roles: {roles})"),
    "adhoc.no_track": ("zaak {case} heeft geen lopend probleemgebied {track}",
                       "case {case} has no active problem area {track}"),
    "adhoc.due_zone": ("de uiterste datum van de taak heeft een tijdzone nodig", "the task's due moment needs a time zone"),
    "adhoc.due_passed": ("de uiterste datum {due} is al voorbij; kies een moment in de toekomst",
                         "the due moment {due} has passed; choose one in the future"),
    "adhoc.reminders": ("hoogstens {limit} herinneringen per taak", "at most {limit} reminders per task"),
    "adhoc.reminder": ("herinnering {reminder}: {problem}", "reminder {reminder}: {problem}"),
    "adhoc.only_note": ("een losse taak legt alleen een notitie vast, niet {fields}",
                        "an ad hoc task records only a note, not {fields}"),
    "adhoc.note_long": ("de notitie van een losse taak is tekst van hoogstens {limit} tekens",
                        "the note of an ad hoc task is text of at most {limit} characters"),
    # --- hand-over between pathways, funders ----------------------------------
    "link.relation": ("een koppeling is naar een bovenliggende of een vervolgzaak, niet {relation}",
                      "a link is to a parent or a child case, not {relation}"),
    "handover.not_child": ("zaak {case} heeft niet overgedragen aan zaak {child}",
                           "case {case} did not hand over to case {child}"),
    "funder.municipality_code": ("de code van een gemeente is de CBS-code, GM en vier cijfers (GM0599), niet {code}",
                                 "a municipality's code is its CBS code, GM and four digits (GM0599), not {code}"),
    "funder.other_code": ("de code van een financier is 1 tot 32 letters, cijfers of -, niet {code}",
                          "a funder's code is 1 to 32 letters, digits or -, not {code}"),
    "funder.form": ("financier {text}: schrijf soort:code, bijvoorbeeld municipality:GM0599 (soorten: {kinds})",
                    "funder {text}: write kind:code, e.g. municipality:GM0599 (kinds: {kinds})"),
    "funder.kind": ("financier {text}: onbekende soort {kind} (soorten: {kinds})",
                    "funder {text}: unknown kind {kind} (kinds: {kinds})"),
    "funder.bad": ("financier {text}: {problem}", "funder {text}: {problem}"),
    # --- moving running cases to a new version (overzetten) ------------------
    "migration.refused": ("zaak {case} kan niet over naar versie {version} van zorgpad «{pathway}»: {blockers}",
                          "case {case} cannot move to version {version} of pathway «{pathway}»: {blockers}"),
    "migration.other_pathway": ("«{new}» is een ander zorgpad dan «{old}»", "«{new}» is another pathway than «{old}»"),
    "migration.not_newer": ("versie {version} is niet nieuwer dan die van de zaak ({current})",
                            "version {version} is not newer than the case's ({current})"),
    "migration.closed": ("de zaak is gesloten", "the case is closed"),
    "migration.data_refused": ("de nieuwe versie weigert de zaakgegevens: {problems}",
                               "the new version refuses the case's data: {problems}"),
    "migration.stands_on": ("de zaak staat op stap «{step}» ({flow}); versie {version} heeft die stap daar niet: "
                            "kies een stap waar de zaak verdergaat",
                            "the case stands on step «{step}» ({flow}), which version {version} does not have there: "
                            "choose a step where the case goes on"),
    "migration.target_missing": ("stap «{target}», gekozen voor stap «{step}», bestaat in versie {version} niet in {flow}",
                                 "step «{target}», chosen for step «{step}», is not a step of {flow} in version {version}"),
    "migration.moves": ("de zaak gaat van stap «{step}» naar stap «{target}» ({flow}); de open taak bij «{step}» vervalt",
                        "the case moves from step «{step}» to step «{target}» ({flow}); its open task at «{step}» lapses"),
    "migration.kind_changes": ("stap «{step}» verandert van soort ({old_kind} wordt {new_kind})",
                               "step «{step}» changes kind ({old_kind} becomes {new_kind})"),
    "migration.track_dropped": ("probleemgebied «{track}» is {status}, maar versie {version} kent het niet meer",
                                "problem area «{track}» is {status}, but version {version} has no such problem area"),
    "migration.role_dropped": ("open taak «{task}» is voor de rol «{role}», die versie {version} niet meer heeft",
                               "open task «{task}» is for the role «{role}», which version {version} drops"),
    "migration.title": ("open taak bij «{step}»: titel «{old}» wordt «{new}»",
                        "open task at «{step}»: title «{old}» becomes «{new}»"),
    "migration.form": ("open taak «{task}»: het formulier verandert; de taak wordt met het nieuwe formulier afgerond",
                       "open task «{task}»: the form changes; it is completed with the new form"),
    "migration.policy": ("open taak «{task}»: herinneringen en escalatie volgen vanaf de volgende termijn de nieuwe "
                         "regels; de uiterste datum blijft",
                         "open task «{task}»: reminders and escalation follow the new policy from the next due moment "
                         "on; the due moment stays"),
    "migration.evaluations_stop": ("de terugkerende evaluaties stoppen", "recurring evaluations stop"),
    "migration.evaluations_start": ("terugkerende evaluaties beginnen: elke {every}", "recurring evaluations start: every {every}"),
    "migration.evaluations_change": ("evaluaties elke {old} worden elke {new} (vanaf de volgende)",
                                     "evaluations every {old} become every {new} (from the next one on)"),
    "migration.lead_time": ("de doorlooptijd van de zaak verandert; de lopende termijn houdt zijn moment",
                            "the case lead time changes; the running lead-time timer keeps its moment"),
    # --- the history of a case (replay) ---------------------------------------
    "replay.unknown_task": ("zaak {case}: een gebeurtenis noemt een onbekende taak {task_id}",
                            "case {case}: an event names unknown task {task_id}"),
    "replay.unknown_timer": ("zaak {case}: een gebeurtenis noemt een onbekend gepland moment {timer}",
                             "case {case}: an event names unknown timer {timer}"),
    "replay.flow": ("zaak {case}: een gebeurtenis noemt {flow}, dat niet loopt",
                    "case {case}: an event names {flow}, which is not running"),
    "replay.first": ("zaak {case}: de geschiedenis begint met {event}, niet met case_started",
                     "case {case}: the history starts with {event}, not case_started"),
    "replay.order": ("zaak {case}: gebeurtenis {seq} ({event}) volgt op versie {version}",
                     "case {case}: event {seq} ({event}) follows version {version}"),
    "replay.second_start": ("zaak {case}: een tweede case_started bij gebeurtenis {seq}",
                            "case {case}: a second case_started at event {seq}"),
    "replay.unknown_event": ("zaak {case}: onbekende soort gebeurtenis {event} bij {seq}",
                             "case {case}: unknown event type {event} at {seq}"),
    "replay.empty": ("een lege geschiedenis geeft geen zaak", "an empty history gives no case"),
    # --- the dry run (proefrun) and the in-memory runner ----------------------
    "simulation.settings": ("onbekende instellingen van het werkmodel: {unknown} (bekend: {known})",
                            "unknown worker model settings: {unknown} (known: {known})"),
    "simulation.limit": ("de proefrun legde {events} gebeurtenissen vast; de grens is {limit}",
                         "the dry run recorded {events} events; the limit is {limit}"),
    "simulation.no_case": ("geen gesimuleerde zaak {case} (de zaken zijn C00001 tot en met {last})",
                           "no simulated case {case} (the cases are C00001 to {last})"),
    # --- the calendar ---------------------------------------------------------
    "calendar.not_aware": ("{what} moet een moment met tijdzone zijn, niet {kind} {value}",
                           "{what} must be a timezone-aware datetime, got {kind} {value}"),
    "calendar.naive": ("{what} {value} heeft geen tijdzone: geef een moment in UTC",
                       "{what} {value} is a naive datetime: give it a time zone (UTC)"),
    "calendar.not_duration": ("verwacht een duur zoals Duration(5, Unit.WORKING_DAYS), niet {value}",
                              "expected a Duration such as Duration(5, Unit.WORKING_DAYS), got {value}"),
    "calendar.amount": ("duur {value} moet een heel aantal van minstens 1 zijn",
                        "duration {value} must have a whole amount of at least 1"),
    "calendar.datetime_not_date": ("{what} {value} is een moment: geef de lokale datum",
                                   "{what} {value} is a datetime: pass its local date"),
    "calendar.not_date": ("{what} moet een datum zijn, niet {kind} {value}", "{what} must be a date, got {kind} {value}"),
    "calendar.not_holiday": ("verwacht een schoolvakantie, niet {kind} {value}", "expected a SchoolHoliday, got {kind} {value}"),
    "calendar.holiday_dates": ("schoolvakantie {name}: data schrijf je als JJJJ-MM-DD, niet {first} en {last}",
                               "school holiday {name}: dates are ISO dates (YYYY-MM-DD), not {first} and {last}"),
    "calendar.holiday_order": ("schoolvakantie {name} eindigt ({last}) voordat zij begint ({first})",
                               "school holiday {name} ends ({last}) before it starts ({first})"),
    "calendar.kind": ("onbekende soort kalender {kind}: kies uit {known}", "unknown calendar kind {kind}: use one of {known}"),
    "calendar.year": ("jaar {year} valt buiten het bereik 1-9999", "year {year} is outside the supported range 1-9999"),
    "calendar.working_days_24x7": ("{duration} is niet te tellen in een 24x7-kalender: daar telt elk uur; "
                                   "gebruik uren of dagen",
                                   "{duration} cannot be counted in a 24x7 calendar: every hour counts there; "
                                   "use hours or days"),
    "calendar.out_of_range": ("{start} {sign} {duration} valt buiten het bereik van de kalender",
                              "{start} {sign} {duration} is outside the supported date range"),
    "calendar.wall_time": ("{what} moet een lokale tijd zonder tijdzone zijn, zoals time(8, 0), niet {value}",
                           "{what} must be a naive local time such as time(8, 0), got {value}"),
    "calendar.hours_order": ("werktijden beginnen voordat ze eindigen, niet {start} - {end}",
                             "working hours must start before they end, got {start} - {end}"),
}

_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
              "november", "december")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def placeholders(template: str) -> set[str]:
    """The argument names a template uses."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def _value(value: Any, language: str) -> str:
    if isinstance(value, Message):
        return render(value, language)
    if isinstance(value, Duration):
        return describe(value, "en" if language == "en" else "nl")
    if isinstance(value, Text):
        return value.render("en" if language == "en" else "nl")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()
        local = value.astimezone(_AMSTERDAM)
        months = _MONTHS_EN if language == "en" else _MONTHS_NL
        return f"{local.day} {months[local.month - 1]} {local.year} {local:%H:%M}"
    if isinstance(value, date):
        months = _MONTHS_EN if language == "en" else _MONTHS_NL
        return f"{value.day} {months[value.month - 1]} {value.year}"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        joiner = "; " if any(isinstance(v, Message) for v in items) else ", "
        return joiner.join(_value(v, language) for v in items)
    return str(value)


def render(message: Message, language: str = "nl") -> str:
    """The message in `language` ("nl" or "en"; anything else is Dutch). Pure: no settings are read."""
    nl, en = CATALOGUE[message.code]
    template = en if language == "en" else nl
    values = {name: _value(message.args[name], language) for name in placeholders(template)}
    return template.format(**values)


def english(message: Message) -> str:
    return render(message, "en")


def text_of(error: BaseException, language: str = "nl") -> str:
    """An error as a person reads it: a coded engine error in `language`, any other error as it says itself."""
    message = getattr(error, "message", None)
    if isinstance(message, Message):
        return render(message, language)
    return str(error)


def plain_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as JSON values (for logs and the API's `detail`): moments as ISO text, nested
    messages as {code, args}."""
    return {name: _plain(value) for name, value in args.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return {"code": value.code, "args": plain_args(value.args)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, Text):
        return {"code": value.code, "args": {k: _plain(v) for k, v in value.args}}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def detail(error: BaseException) -> dict[str, Any] | None:
    """{code, args} of a coded engine error, None for any other."""
    message = getattr(error, "message", None)
    if not isinstance(message, Message):
        return None
    return {"code": message.code, "args": plain_args(message.args)}


# --- JSON Schema errors as messages --------------------------------------------


def schema_problem(error: Any) -> Message:
    """One jsonschema `ValidationError` as a message: the element path and the words of
    `engine.json_validation.error_problem` (the same texts forms and the loader use)."""
    path, problem, hint = error_problem(error)
    where: str | Message = path or msg("schema.whole")
    if hint is not None:
        return msg("schema.problem_hint", field=where, problem=problem, hint=hint)
    return msg("schema.problem", field=where, problem=problem)


def schema_problems(errors: Iterable[Any], limit: int = 10) -> list[Message]:
    return [schema_problem(e) for e in list(errors)[:limit]]
