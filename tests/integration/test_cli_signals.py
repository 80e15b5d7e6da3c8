"""`carepath signals import/export/retention` as a user runs them: a subprocess on its own data directory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

from integrations.exchange.ddas.contract import default_contract
from integrations.exchange.ddas.samples import PARTNERS, delivery, signal

_SCRIPT = Path(sys.executable).with_name("carepath")
CAREPATH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "integrations.cli"]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREPATH_DATA_DIR": str(tmp_path / "data"), "CAREPATH_SIGNAL_ROUTES": "GM0014=team-a"}
    env.pop("CAREPATH_DATABASE_URL", None)
    return subprocess.run([*CAREPATH, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)


def _file(tmp_path: Path, *, broken: bool = False) -> Path:
    rng = random.Random(8)
    items = [signal(rng, i, "Water", date(2026, 2, 3)) for i in range(1, 6)]
    if broken:
        items[2]["warmeOverdracht"] = "ja"
        items[4]["ID"] = items[0]["ID"]
    path = tmp_path / ("fout.json" if broken else "levering.json")
    path.write_text(json.dumps(delivery([("0014", PARTNERS[2], items)], date(2026, 2, 1), date(2026, 2, 28))),
                    encoding="utf-8")
    return path


def test_import_reimport_export_and_refusal(tmp_path: Path) -> None:
    good = _file(tmp_path)
    first = _run(tmp_path, "signals", "import", str(good), "--report", "verslag.json")
    assert first.returncode == 0, first.stderr
    assert "levering.json: 5 signalen: 5 nieuwe zaak" in first.stdout
    assert "5 zaken geopend" in first.stdout
    assert "signalen" in first.stderr and "/s" in first.stderr and "nog" in first.stderr  # the progress bar
    report = json.loads((tmp_path / "verslag.json").read_text(encoding="utf-8"))
    assert [s["resultaat"] for s in report["signalen"]] == ["nieuwe zaak"] * 5
    again = _run(tmp_path, "signals", "import", str(good), "--no-progress")
    assert again.returncode == 0 and "5 al eerder geïmporteerd; er is niets veranderd" in again.stdout
    refused = _run(tmp_path, "signals", "import", str(_file(tmp_path, broken=True)), "--no-progress")
    assert refused.returncode == 1
    assert "fout.json: geweigerd, 2 fout(en) tegen het DDAS-schema; er is niets geïmporteerd" in refused.stderr
    assert "levering 1, signaal 3 (ID S00000003), veld warmeOverdracht: verwacht true of false" in refused.stderr
    assert "levering 1, signaal 5 (ID S00000001), veld ID: dubbel signaal-ID" in refused.stderr
    exported = _run(tmp_path, "signals", "export", "--municipality", "GM0014", "--from", "2026-01-01",
                    "--to", "2026-03-31", "--out", "levering")
    assert exported.returncode == 0, exported.stderr
    written = tmp_path / "levering" / "ddas-GM0014-2026-01-01-2026-03-31-1.json"
    document = json.loads(written.read_text(encoding="utf-8"))
    assert default_contract().document_errors(document) == []
    assert len(document["leveringen"][0]["vroegsignalen"]) == 5
    kept = _run(tmp_path, "signals", "retention")
    assert kept.returncode == 0 and "niets gewist" in kept.stdout


def test_usage_errors(tmp_path: Path) -> None:
    missing = _run(tmp_path, "signals", "import", "nergens.json")
    assert missing.returncode == 2 and "bestand nergens.json bestaat niet" in missing.stderr
    bad_date = _run(tmp_path, "signals", "export", "--municipality", "GM0014", "--from", "1-1-2026", "--to", "x")
    assert bad_date.returncode == 2 and "JJJJ-MM-DD" in bad_date.stderr
    bad_route = _run(tmp_path, "signals", "import", str(_file(tmp_path)), "--route", "Groningen")
    assert bad_route.returncode == 2 and "ongeldige route" in bad_route.stderr
