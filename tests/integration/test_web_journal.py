"""The case journal: writing, the author's short edit window, corrections, search within the case,
the timeline, erasure with the client and the client's data export. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import AuditLogRow, CaseJournalRow
from integrations.service import CaseService
from tests.integration.test_web_pages import new_case, people


def _entry_ids(service: CaseService, case_id: str) -> list[int]:
    with read_session(service.db) as session:
        return list(session.execute(select(CaseJournalRow.id).where(CaseJournalRow.case_id == case_id)
                                    .order_by(CaseJournalRow.id)).scalars())


def test_a_worker_writes_searches_and_corrects_the_journal(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "worker2")
    wanda, wim = clients["worker"], clients["worker2"]
    case_id, task_id = new_case(service)
    written = wanda.post(f"/cases/{case_id}/journal", {
        "kind": "huisbezoek", "text": "Mevrouw thuis getroffen; huurachterstand van twee maanden besproken.",
        "happened_at": "2026-03-02T08:45", "link": f"task:{task_id}"})
    assert written.status_code == 303 and written.headers["location"] == f"/cases/{case_id}#journal"
    wanda.post(f"/cases/{case_id}/journal", {"kind": "telefoongesprek", "text": "Kredietbank gebeld over een afspraak."})
    page = wanda.get(f"/cases/{case_id}")
    assert "Journaal" in page.text and "2 regels" in page.text
    assert "huurachterstand van twee maanden" in page.text and "Kredietbank gebeld" in page.text
    # linked to the task by name, and on the timeline as a journal item
    assert 'class="k-journal"' in page.text and "Huisbezoek · Intake" in page.text
    # the 08:45 Amsterdam visit is stored as 07:45 UTC
    with read_session(service.db) as session:
        first = session.execute(select(CaseJournalRow).order_by(CaseJournalRow.id)).scalars().first()
        assert first is not None and first.happened_at.hour == 7 and first.task_id == task_id
    # search within the case: words in any order, case-insensitive; and by kind
    found = wanda.get(f"/cases/{case_id}?zoek=KREDIETBANK")
    assert "Kredietbank gebeld" in found.text.split('id="journal-entries"')[1].split("</ol>")[0]
    assert "huurachterstand van twee" not in found.text.split('id="journal-entries"')[1].split("</ol>")[0]
    assert "Mevrouw thuis" in wanda.get(f"/cases/{case_id}?soort=huisbezoek").text.split('id="journal-entries"')[1]
    assert "Geen journaalregels gevonden." in wanda.get(f"/cases/{case_id}?zoek=deurwaarder").text
    assert "Geen journaalregels gevonden." in wanda.get(f"/cases/{case_id}?zoek=100%25").text
    first_id, second_id = _entry_ids(service, case_id)
    # the author may change it for a while; a colleague may not
    assert wim.post(f"/cases/{case_id}/journal/{first_id}", {"kind": "huisbezoek", "text": "anders"}).headers[
        "location"] == f"/cases/{case_id}#journal"
    with read_session(service.db) as session:
        assert session.get(CaseJournalRow, first_id).text.startswith("Mevrouw")  # type: ignore[union-attr]
    changed = wanda.post(f"/cases/{case_id}/journal/{first_id}",
                         {"kind": "huisbezoek", "text": "Mevrouw thuis getroffen, met haar zoon."})
    assert changed.status_code == 303
    assert "gewijzigd" in wanda.get(f"/cases/{case_id}").text
    # after the window the entry is fixed: a correction is a new entry that names it
    clock.advance(timedelta(minutes=31))
    late = wanda.post(f"/cases/{case_id}/journal/{first_id}", {"kind": "huisbezoek", "text": "te laat"})
    assert late.status_code == 303
    with read_session(service.db) as session:
        assert session.get(CaseJournalRow, first_id).text == "Mevrouw thuis getroffen, met haar zoon."  # type: ignore[union-attr]
    assert "Wijzigen (kan nog even)" not in wanda.get(f"/cases/{case_id}").text
    wanda.post(f"/cases/{case_id}/journal", {"kind": "notitie", "text": "Het was de dochter, niet de zoon.",
                                             "corrects": str(first_id)})
    with read_session(service.db) as session:
        correction = session.execute(select(CaseJournalRow).where(CaseJournalRow.corrects == first_id)).scalar_one()
        assert correction.author == "user:wanda"
        audit = list(session.execute(select(AuditLogRow.what).where(AuditLogRow.case_id == case_id,
                                                                   AuditLogRow.what.like("journal%"))).scalars())
    assert len(audit) == 4 and not any("dochter" in a for a in audit)  # written x3, changed x1; never the text
    assert second_id


def test_bad_journal_input_is_refused_with_a_reason(service: CaseService, clock: ManualClock) -> None:
    wanda = people(service, clock, "worker")["worker"]
    case_id, _task = new_case(service)
    for form, message in (
        ({"kind": "roddel", "text": "x"}, "Kies een soort"),
        ({"kind": "notitie", "text": "   "}, "de tekst is leeg"),
        ({"kind": "notitie", "text": "x", "happened_at": "2030-01-01T10:00"}, "toekomst"),
        ({"kind": "notitie", "text": "x", "happened_at": "gisteren"}, "Vul een datum en tijd in"),
        ({"kind": "notitie", "text": "x", "link": "task:elders.1"}, "Kies een taak of probleemgebied"),
        ({"kind": "notitie", "text": "x", "corrects": "999999"}, "geen journaalregel 999999"),
    ):
        refused = wanda.post(f"/cases/{case_id}/journal", form)
        assert refused.status_code == 303, form
        assert message in wanda.get(f"/cases/{case_id}").text, form
    assert _entry_ids(service, case_id) == []


def test_the_journal_is_erased_with_the_client_and_is_in_the_export(service: CaseService,
                                                                      clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "coordinator", "other_worker")
    wanda, cor, olga = clients["worker"], clients["coordinator"], clients["other_worker"]
    case_id, _task = new_case(service, "Fatma Yilmaz")
    wanda.post(f"/cases/{case_id}/journal", {"kind": "contact", "text": "Eerste contact aan de deur."})
    # another team's worker cannot write in it, nor see it
    assert olga.post(f"/cases/{case_id}/journal", {"kind": "contact", "text": "x"}).status_code == 404
    assert wanda.post(f"/cases/{case_id}/export", {"why": "inzage"}).status_code == 403
    assert "Geef een reden op." in cor.get(cor.post(f"/cases/{case_id}/export", {"why": ""})
                                          .headers["location"]).text
    exported = cor.post(f"/cases/{case_id}/export", {"why": "inzageverzoek cliënt"})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    body = json.loads(exported.text)
    assert body["personal_data"] == {"client_name": "Fatma Yilmaz"}
    assert [e["text"] for e in body["journal"]] == ["Eerste contact aan de deur."]
    assert body["tasks"][0]["title"] == "Intake"
    with read_session(service.db) as session:
        why = session.execute(select(AuditLogRow.why).where(AuditLogRow.action == "export")).scalar_one()
    assert why == "inzageverzoek cliënt"
    assert service.erase_personal_data(case_id, actor="user:cor", reason="bewaartermijn verstreken")
    with read_session(service.db) as session:
        left = session.execute(select(func.count()).select_from(CaseJournalRow)).scalar_one()
    assert left == 0


def test_a_closed_case_hides_its_journal_until_a_reason_is_given(service: CaseService, clock: ManualClock) -> None:
    clients = people(service, clock, "worker", "coordinator")
    wanda, cor = clients["worker"], clients["coordinator"]
    case_id, _task = new_case(service)
    wanda.post(f"/cases/{case_id}/journal", {"kind": "overleg", "text": "Overleg met de woningcorporatie."})
    assert cor.post(f"/cases/{case_id}/close", {"reason_code": "client_moved"}).status_code == 303
    closed = cor.get(f"/cases/{case_id}")
    assert "Overleg met de woningcorporatie." not in closed.text
    assert "Het journaal is persoonsgegeven" in closed.text
    shown = cor.post(f"/cases/{case_id}/reveal", {"why": "klacht van de cliënt"})
    assert "Overleg met de woningcorporatie." in shown.text
    refused = wanda.post(f"/cases/{case_id}/journal", {"kind": "notitie", "text": "na sluiten"})
    assert refused.status_code == 303 and len(_entry_ids(service, case_id)) == 1
