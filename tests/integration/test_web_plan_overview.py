"""SWA plans: four to five problem areas at once, shown as one overview by status on the case page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from engine.clock import ManualClock
from integrations.db.engine_factory import read_session
from integrations.db.models import CaseRow
from integrations.service import build_service
from web.app import create_app
from web.demo import DEMO_PASSWORD, seed
from web.testing import WebClient, cheap_password_hashing


def test_demo_swa_clients_have_four_or_five_tracks_in_one_overview(sqlite_db: Engine, tmp_path: Path) -> None:
    cheap_password_hashing()
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    service = build_service(str(sqlite_db.url), clock, db=sqlite_db, data_dir=tmp_path)
    seed(service, cases=40, months=4)
    with read_session(sqlite_db) as session:
        swa = list(session.execute(select(CaseRow.id, CaseRow.state).where(CaseRow.pathway_id == "swa-trajectory"))
                   .all())
    counts = {case_id: len(state.get("tracks") or {}) for case_id, state in swa}
    with_tracks = {c: n for c, n in counts.items() if n}
    assert with_tracks and set(with_tracks.values()) <= {4, 5}, counts
    busiest = max(with_tracks, key=lambda c: with_tracks[c])
    fatima = WebClient(create_app(service))
    assert fatima.sign_in("fatima", DEMO_PASSWORD).status_code == 303
    page = fatima.get(f"/cases/{busiest}").text
    overview = page.split('id="track-overview"', 1)[1].split("</table>", 1)[0]
    assert len(re.findall(r'<tr class="track-', overview)) == with_tracks[busiest]
    assert "Eigenaar" in page and "Laatste evaluatie" in page
