"""API tokens on "Mijn account": made by their holder only, and as narrow as their purpose.

Nobody makes a token for someone else (an administrator made tokens for others and then acted as
them); every API call records the token's own id in the audit log. A token can be limited to named
operations and to the holder's own partner organisation (`web/token_scope.py`); a system account's
tokens are always limited to its organisation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from integrations.db import accounts
from integrations.db.engine_factory import write_session
from web.i18n import translate
from web.pages.auth import account_response
from web.principal import Principal
from web.token_scope import clean_operations
from web.ui import form_principal, portal_of, redirect

router = APIRouter(include_in_schema=False)


@router.post("/account/tokens")
async def create_token(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    form = await request.form()
    name = str(form.get("name") or "").strip()[:200] or "token"
    partner = principal.account.system or form.get("partner") == "true"
    operations = clean_operations([str(o) for o in form.getlist("operations")], partner=partner)
    with write_session(portal.db) as session:
        secret, token = accounts.create_token(session, principal.account.id, name, portal.now(), operations=operations,
                                              partner_organisation=principal.organisation if partner else None)
        portal.record_in(session, principal, "admin", f"created own API token {token.id} '{name}' "
                       f"(operations: {', '.join(operations) if operations else 'all of the account'}"
                       f"{'; partner ' + principal.organisation if partner else ''})")
    return account_response(request, principal, {}, new_token=secret)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int,
                       principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = portal_of(request)
    with write_session(portal.db) as session:
        done = accounts.revoke_token(session, token_id, portal.now(), user_id=principal.account.id)
        if done:
            portal.record_in(session, principal, "admin", f"revoked own API token {token_id}")
    lang = principal.language
    return redirect("/account", translate("Token ingetrokken.", lang) if done else
                    translate("Dat token bestaat niet of was al ingetrokken.", lang), "ok" if done else "warn")
