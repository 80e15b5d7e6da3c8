"""A carepath webhook as a ZGW Notificaties message, checked against the schema in the repo.

Open Zaak-style subscribers read `kanaal`, `hoofdObject`, `resource`, `resourceUrl`, `actie`,
`aanmaakdatum` and `kenmerken`; `id` is the idempotency key (the outbox id, also sent as the
`Idempotency-Key` header), the same on every retry so a receiver can drop repeats. The main
object is the case as a FHIR CarePlan (`/fhir/CarePlan/{id}`), a referral is its FHIR Task.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import ValidationError

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "notificatie.schema.json"

# Outbox template -> (kanaal, resource, actie)
_KINDS: Mapping[str, tuple[str, str, str]] = {
    "partner_request": ("verwijzingen", "Task", "create"),
    "partner_notification": ("zaken", "CarePlan", "update"),
}


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def check(document: Mapping[str, Any]) -> None:
    """ValidationError naming every field that does not fit the Notificaties schema."""
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise ValidationError("notificatie does not match schemas/notificatie.schema.json: " + "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:10]))


def notificatie(*, message_id: str, template: str, case_id: str, pathway_id: str, task_id: str | None,
                to_role: str | None, created_at: datetime, base_url: str) -> dict[str, Any]:
    """The seven Notificaties fields plus the idempotency key, for one outbox message."""
    base = base_url.rstrip("/")
    kanaal, resource, actie = _KINDS.get(template, ("zaken", "CarePlan", "update"))
    case_url = f"{base}/fhir/CarePlan/{case_id}"
    resource_url = f"{base}/fhir/Task/{task_id}" if resource == "Task" and task_id else case_url
    kenmerken = {"zorgpad": pathway_id, "bericht": template}
    if to_role:
        kenmerken["partner"] = to_role
    return {
        "kanaal": kanaal, "hoofdObject": case_url, "resource": resource, "resourceUrl": resource_url,
        "actie": actie, "aanmaakdatum": created_at.isoformat(), "kenmerken": kenmerken, "id": message_id,
    }
