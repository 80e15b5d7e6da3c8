"""Administration: accounts (roles, teams, pathway roles, municipality, organisation from the list),
temporary passwords, lock-outs, revoking API tokens, and teams. Only for administrators, who see no
case data and never act as someone else: they make no API tokens (the holder does, on "Mijn
account") and never choose a password someone keeps (a reset gives a temporary one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from engine.errors import ConflictError, NotFoundError, ValidationError
from integrations.db import accounts
from integrations.db.accounts import AccountRole
from integrations.db.engine_factory import read_session, write_session
from web import rolelabels
from web.i18n import translate
from web.pages.work import role_titles
from web.portal import Hidden, Portal
from web.principal import Principal
from web.ui import form_principal, page_principal, portal_of, redirect, render

router = APIRouter(include_in_schema=False)


def _admin(request: Request, principal: Principal) -> Portal:
    portal = portal_of(request)
    portal.require(principal, AccountRole.ADMIN)
    return portal


def _audit(portal: Portal, principal: Principal, what: str) -> None:
    portal.audit(principal, "admin", what)


@router.get("/admin/users")
def users(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = _admin(request, principal)
    with read_session(portal.db) as session:
        found = accounts.list_accounts(session)
        teams = {t.id: t.name for t in accounts.list_teams(session)}
    return render(request, "admin_users.html", {"users": found, "teams": teams}, principal=principal,
                  title=translate("Accounts", principal.language))


def _form_context(portal: Portal, request: Request) -> dict[str, Any]:
    with read_session(portal.db) as session:
        teams = accounts.list_teams(session)
        organisations = accounts.organisations(session, portal.settings.municipalities.values())
    return {"teams": teams, "roles": AccountRole, "pathway_roles": role_titles(request),
            "municipalities": portal.settings.municipalities, "organisations": organisations,
            "temporary_password": None,
            "role_catalog": rolelabels.catalog(portal)}


def _check_organisation(portal: Portal, organisation: str, lang: str) -> str | None:
    """A Dutch message when the organisation is not one from the registry's list."""
    with read_session(portal.db) as session:
        known = accounts.organisations(session, portal.settings.municipalities.values())
    if organisation not in known:
        return translate("Kies een organisatie uit de lijst (een nieuwe organisatie komt erbij met een team).", lang)
    return None


@router.get("/admin/users/new")
def new_user(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = _admin(request, principal)
    return render(request, "admin_user.html", {**_form_context(portal, request), "user": None, "values": {},
                                               "errors": {}, "tokens": [], "new_token": None},
                  principal=principal, title=translate("Nieuw account", principal.language))


def _values(form: FormData) -> dict[str, Any]:
    return {
        "username": str(form.get("username") or "").strip(), "display_name": str(form.get("display_name") or "").strip(),
        "email": str(form.get("email") or "").strip(), "role": str(form.get("role") or ""),
        "organisation": str(form.get("organisation") or "").strip(),
        "municipality": str(form.get("municipality") or "").strip() or None,
        "funder": str(form.get("funder") or "").strip() or None,
        "teams": [str(t) for t in form.getlist("teams")], "pathway_roles": [str(r) for r in form.getlist("pathway_roles")],
        "active": form.get("active") == "true", "system": form.get("system") == "true",
    }


@router.post("/admin/users/new")
async def create_user(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = _admin(request, principal)
    values = _values(await request.form())
    lang = principal.language
    errors: dict[str, str] = {}
    try:
        role = AccountRole(values["role"])
    except ValueError:
        role = AccountRole.WORKER
        errors["role"] = translate("Kies een rol.", lang)
    problem = _check_organisation(portal, values["organisation"], lang)
    if problem:
        errors["organisation"] = problem
    password = accounts.temporary_password()  # the administrator hands it over; changed at first sign-in
    if not values["organisation"]:
        errors["organisation"] = translate("Vul dit veld in.", lang)
    mixed = rolelabels.mixing_error(values["pathway_roles"], rolelabels.catalog(portal).partner_only)
    if mixed:
        errors["pathway_roles"] = errors["_"] = mixed
    if not errors:
        try:
            hashed = accounts.hash_password(password)  # outside the transaction: argon2 takes a while
            with write_session(portal.db) as session:
                created = accounts.create_account(
                    session, username=values["username"], display_name=values["display_name"],
                    password=password, role=role, organisation=values["organisation"], now=portal.now(),
                    teams=values["teams"], pathway_roles=values["pathway_roles"], municipality=values["municipality"],
                    email=values["email"] or None, check_rules=False, must_change_password=True,
                    system=values["system"], password_hash=hashed, funder=values["funder"])
        except (ValidationError, ConflictError) as exc:
            errors["_"] = str(exc)
    if errors:
        return render(request, "admin_user.html", {**_form_context(portal, request), "user": None, "values": values,
                                                   "errors": errors, "tokens": [], "new_token": None},
                      principal=principal, status_code=422, title=translate("Nieuw account", lang))
    _audit(portal, principal, f"created account {created.username} ({created.role.value}) with a temporary password")
    return _user_page(request, principal, portal, created, temporary_password=password,
                      message=translate("Account {name} aangemaakt.", lang, name=created.username))


def _user_page(request: Request, principal: Principal, portal: Portal, user: accounts.Account, *,
               temporary_password: str | None = None, message: str = "") -> Response:
    with read_session(portal.db) as session:
        tokens = accounts.list_tokens(session, user.id)
    context = {**_form_context(portal, request), "user": user, "values": {}, "errors": {}, "tokens": tokens,
               "new_token": None, "temporary_password": temporary_password}
    if message:
        context["flash_now"] = {"message": message, "kind": "ok"}
    return render(request, "admin_user.html", context, principal=principal, title=user.display_name)


def _user(portal: Portal, user_id: int) -> accounts.Account:
    with read_session(portal.db) as session:
        found = accounts.get_account(session, user_id)
    if found is None:
        raise Hidden(str(user_id))
    return found


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: int, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = _admin(request, principal)
    user = _user(portal, user_id)
    with read_session(portal.db) as session:
        tokens = accounts.list_tokens(session, user_id)
    return render(request, "admin_user.html", {**_form_context(portal, request), "user": user, "values": {},
                                               "errors": {}, "tokens": tokens, "new_token": None},
                  principal=principal, title=user.display_name)


@router.post("/admin/users/{user_id}")
async def update_user(request: Request, user_id: int, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = _admin(request, principal)
    user = _user(portal, user_id)
    values = _values(await request.form())
    lang = principal.language
    try:
        role = AccountRole(values["role"])
        if user.id == principal.account.id and (role is not AccountRole.ADMIN or not values["active"]):
            raise ValidationError("you cannot take away your own administrator rights")
        problem = _check_organisation(portal, values["organisation"], lang)
        if problem:
            raise ValidationError(problem)
        mixed = rolelabels.mixing_error(values["pathway_roles"], rolelabels.catalog(portal).partner_only)
        if mixed:
            raise ValidationError(mixed)
        with write_session(portal.db) as session:
            accounts.update_account(session, user_id, display_name=values["display_name"], role=role,
                                    organisation=values["organisation"] or None, teams=values["teams"],
                                    pathway_roles=values["pathway_roles"], municipality=values["municipality"] or "",
                                    email=values["email"], active=values["active"], system=values["system"])
    except (ValueError, ValidationError, NotFoundError) as exc:
        with read_session(portal.db) as session:
            tokens = accounts.list_tokens(session, user_id)
        return render(request, "admin_user.html", {**_form_context(portal, request), "user": user, "values": values,
                                                   "errors": {"_": str(exc)}, "tokens": tokens, "new_token": None},
                      principal=principal, status_code=422, title=user.display_name)
    _audit(portal, principal, f"changed account {user.username}")
    return redirect(f"/admin/users/{user_id}", translate("Opgeslagen.", lang))


@router.post("/admin/users/{user_id}/password")
async def reset_password(request: Request, user_id: int,
                         principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    """A temporary password, made by carepath and shown once: the person changes it at the next sign-in.
    The administrator never chooses (and so never knows) a password the person keeps."""
    portal = _admin(request, principal)
    user = _user(portal, user_id)
    if user.id == principal.account.id:
        return redirect("/account", translate("Je eigen wachtwoord wijzig je hier.", principal.language), "warn")
    password = accounts.temporary_password()
    hashed = accounts.hash_password(password)  # outside the transaction: argon2 takes a while
    with write_session(portal.db) as session:
        accounts.set_password(session, user_id, password, portal.now(), check_rules=False, temporary=True,
                              password_hash=hashed)
    _audit(portal, principal, f"reset the password of {user.username} to a temporary one")
    return _user_page(request, principal, portal, _user(portal, user_id), temporary_password=password,
                      message=translate("Tijdelijk wachtwoord ingesteld; sessies zijn beëindigd.", principal.language))


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, user_id: int, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = _admin(request, principal)
    user = _user(portal, user_id)
    with write_session(portal.db) as session:
        accounts.unlock(session, user_id)
    from integrations.db.signin_throttle import account_key
    from web.pages.auth import signin_waits

    signin_waits(request).forget(account_key(user.username))
    _audit(portal, principal, f"unlocked {user.username}")
    return redirect(f"/admin/users/{user_id}", translate("Account gedeblokkeerd.", principal.language))


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int,
                       principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = _admin(request, principal)
    form = await request.form()
    with write_session(portal.db) as session:
        done = accounts.revoke_token(session, token_id, portal.now())
    if done:
        _audit(portal, principal, f"revoked API token {token_id}")
    back = str(form.get("user") or "")
    target = f"/admin/users/{back}" if back.isdigit() else "/admin/users"
    return redirect(target, translate("Token ingetrokken.", principal.language) if done else
                    translate("Dat token was al ingetrokken.", principal.language))


@router.get("/admin/teams")
def teams(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> Response:
    portal = _admin(request, principal)
    with read_session(portal.db) as session:
        found = accounts.list_teams(session)
    return render(request, "admin_teams.html", {"teams": found, "errors": {}}, principal=principal,
                  title=translate("Teams", principal.language))


@router.post("/admin/teams")
async def save_team(request: Request, principal: Annotated[Principal, Depends(form_principal)]) -> Response:
    portal = _admin(request, principal)
    form = await request.form()
    team_id = str(form.get("id") or "").strip().lower()
    name = str(form.get("name") or "").strip()
    organisation = str(form.get("organisation") or "").strip()
    if not team_id or not all(c.isalnum() or c in "-_" for c in team_id) or not name or not organisation:
        with read_session(portal.db) as session:
            found = accounts.list_teams(session)
        return render(request, "admin_teams.html", {"teams": found, "errors": {"_": translate(
            "Een team heeft een code (letters, cijfers, - en _), een naam en een organisatie.", principal.language)}},
            principal=principal, status_code=422, title=translate("Teams", principal.language))
    with write_session(portal.db) as session:
        accounts.upsert_team(session, team_id[:100], name[:200], organisation[:200])
    _audit(portal, principal, f"saved team {team_id}")
    return redirect("/admin/teams", translate("Team opgeslagen.", principal.language))
