"""Demo early signals: a small DDAS delivery for Noord-Groningen, imported through the real importer.

Called by `web.demo.seed`. The team noord-groningen takes the signals of GM0014, GM1966 and GM1969
(warm transfers to anna); the delivery of about two weeks ago holds rent, energy, water and health
insurance signals, a crisis signal, a warm transfer, repeats and one signal for a municipality not
served. Some cases have their first contact attempts recorded. All of it is fictitious.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from engine.clock import ManualClock
from engine.errors import CarepathError
from integrations.db import accounts
from integrations.db.engine_factory import read_session, write_session
from integrations.db.models import TaskRow
from integrations.exchange.ddas import codes
from integrations.exchange.ddas.importer import ROUTES_SETTING, SignalImporter, load_routes
from integrations.exchange.ddas.opener import CaseOpener
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal
from integrations.service import CaseService

DEMO_ROUTES = "GM0014=noord-groningen@user:anna,GM1966=noord-groningen,GM1969=noord-groningen"


def seed_signals(service: CaseService, now: datetime, count: int = 24) -> int:
    """Import the demo delivery as it arrived 12 days ago; returns the number of signals."""
    with write_session(service.db) as session:
        if accounts.get_setting(session, ROUTES_SETTING) is None:
            accounts.put_setting(session, ROUTES_SETTING, {"routes": DEMO_ROUTES}, now)
    arrived = now - timedelta(days=12)
    demo = copy.copy(service)
    demo.clock = ManualClock(arrived)
    rng = random.Random(2026)
    day = arrived.date() - timedelta(days=1)
    groups = []
    number = 1
    for index, partner in enumerate(PARTNERS[:4]):
        code = ("0014", "1966", "1969", "0014")[index]
        items = []
        for _ in range(count // 4):
            items.append(signal(rng, number, partner[2], day, crisis=number % 7 == 0, warm=number == 5))
            number += 1
        groups.append((code, partner, items))
    groups[1][2].append(signal(rng, number, "Energie", day, client=dict(groups[0][2][0]["client"])))  # a repeat
    groups.append(("0344", PARTNERS[1], [signal(rng, number + 1, "Energie", day)]))  # not served here
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-levering.json"
        path.write_text(json.dumps(delivery(groups, day, day)), encoding="utf-8")
        routes = load_routes(demo)
        report = SignalImporter(demo, routes).import_file(path)
    CaseOpener(demo, routes).run()
    _first_attempts(demo, arrived)
    return report.signals


def _first_attempts(service: CaseService, arrived: datetime) -> None:
    """Anna records a first contact attempt on a third of the early-signal cases, two days later."""
    assert isinstance(service.clock, ManualClock)
    service.clock.set(arrived + timedelta(days=2, hours=5))
    with read_session(service.db) as session:
        tasks = session.execute(TaskRow.__table__.select().where(
            TaskRow.pathway_id == codes.EARLY_SIGNAL, TaskRow.status == "open").order_by(TaskRow.id)).all()
    for n, task in enumerate(tasks):
        if n % 3:
            continue
        moment = service.clock.now()
        try:
            service.complete_task(task.id, {"contactpoging": {
                "soort": "Huisbezoek", "bereikt": n % 2 == 0, "datum": moment.astimezone(codes.AMSTERDAM).date()
                .isoformat(), "dagdeel": codes.dagdeel(moment)}}, actor="user:anna")
        except CarepathError:
            continue
