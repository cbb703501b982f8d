"""Managing a CPAS: its administrator edits its public details and holiday calendar; the
platform administrator of a hosted installation lists CPAS, creates one and manages
their administrators, but opens no one's files (docs/cpas.md, "Managing a CPAS")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import accounts, clock, organisations
from core.errors import FieldError, Invalid
from core.roles import Permission, Role
from web import db
from web.common import account_error_message
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("cpas", __name__, url_prefix="/admin/cpas")

REGIME_LABELS = {
    "fr": _l("French only"),
    "nl": _l("Dutch only"),
    "bilingual": _l("Bilingual (French and Dutch)"),
}
REGION_LABELS = {
    "brussels": _l("Brussels-Capital Region"),
    "wallonia": _l("Wallonia"),
    "flanders": _l("Flanders"),
}
FUNDER_LABELS = {"iriscare": "Iriscare", "aviq": "AViQ", "vaph": _l("Flemish agency (VAPH)")}
KIND_LABELS = {
    "federal": _l("Public holiday"),
    "regional": _l("Regional holiday"),
    "community": _l("Community holiday"),
    "administration": _l("Administrations closed"),
}
DETAIL_FIELDS = ("name_fr", "name_nl", "phone", "email", "address", "sms_sender")
YEARS_AROUND = 3  # the calendar offers this many years either side of today's


def _messages(error: Invalid) -> dict[str, str]:
    return {name: _sentence(found) for name, found in error.errors.items()}


def _sentence(error: FieldError) -> str:
    own = {
        "invalid_code": _("Use 2 to 40 lower-case letters, digits or dashes, e.g. charleroi."),
        "code_taken": _("Another CPAS already has this code."),
        "postcode_taken": _(
            "Postcode %(postcode)s is already served by %(cpas)s: a postcode belongs to "
            "one CPAS only. Remove it there first, or leave it out.",
            postcode=error.params.get("postcode", ""),
            cpas=error.params.get("cpas") or _("another CPAS"),
        ),
        "postcode_conflict": _(
            "Another CPAS has just taken one of these postcodes. Nothing was saved: "
            "check the list and save again."
        ),
        "commune_taken": _(
            "%(commune)s is already served by %(cpas)s. Remove it there first, or leave it out.",
            commune=error.params.get("commune", ""),
            cpas=error.params.get("cpas") or _("another CPAS"),
        ),
        "invalid_commune": _(
            "Write each commune's name (at most %(max)s characters), separated by commas.",
            max=error.params.get("max", organisations.COMMUNE_MAX),
        ),
        "too_many": _("At most %(max)s, separated by commas.", max=error.params.get("max", "")),
        "invalid_postcode": _("Four digits each, separated by commas, e.g. 1000, 1020."),
        "invalid_sender": _(
            "A name of at most %(max)s letters or digits, or a number such as +32470123456.",
            max=error.params.get("max", organisations.SENDER_MAX),
        ),
        "invalid_email": _("Give an e-mail address like accueil@cpas.be."),
        "holiday_exists": _("This day is already in the calendar: open or close it below."),
    }
    return own.get(error.code) or message(error)


def _not_found() -> Any:
    return render("errors/error.html", status=404, code=404)


def _managed(code: str) -> organisations.Cpas | None:
    """The CPAS with this code if the user manages it; None (another's: refusal audited)."""
    return organisations.managed_cpas(db.session(), current_user, code)


def _platform() -> bool:
    """Whether the user manages every CPAS."""
    return organisations.manages_every_cpas(db.session(), current_user)


@bp.route("", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def index():
    session = db.session()
    if not _platform():
        cpas = organisations.cpas_of_user(session, current_user)
        if cpas is None:
            return _not_found()
        return redirect(url_for("cpas.edit", code=cpas.code))
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        try:
            created = organisations.add_cpas(
                session,
                code=form.get("code", ""),
                name_fr=form.get("name_fr", ""),
                name_nl=form.get("name_nl", ""),
                region=form.get("region", ""),
                language_regime=form.get("language_regime", ""),
                postcodes=_split(form.get("postcodes", "")),
                communes=_split(form.get("communes", "")),
                sms_sender=form.get("sms_sender", "") or "CPAS",
            )
        except Invalid as error:
            errors = _messages(error)
        else:
            flash(_("%(name)s created.", name=created.label(None)), "success")
            return redirect(url_for("cpas.edit", code=created.code))
    return render(
        "cpas/list.html",
        all_cpas=organisations.list_cpas(session),
        teams_of={
            cpas.id: organisations.count_teams(session, cpas.id)
            for cpas in organisations.list_cpas(session)
        },
        errors=errors,
        form=form,
        regions=REGION_LABELS,
        regimes=REGIME_LABELS,
        # A domain's page linked only when that domain is installed (web/domains.py).
        endpoints=current_app.view_functions,
        status=422 if errors else 200,
    )


@bp.route("/<code>", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def edit(code: str):
    cpas = _managed(code)
    if cpas is None:
        return _not_found()
    session = db.session()
    errors: dict[str, str] = {}
    form: Any = request.form if request.method == "POST" else None
    if request.method == "POST":
        try:
            organisations.save_cpas(
                session,
                cpas,
                **{name: request.form.get(name, "") for name in DETAIL_FIELDS},
                sms_replies=request.form.get("sms_replies") == "1",
                language_regime=request.form.get("language_regime", ""),
                homecare_funder=request.form.get("homecare_funder", ""),
                actor=current_user,
            )
        except Invalid as error:
            errors = _messages(error)
        else:
            flash(_("Details of %(name)s saved.", name=cpas.label(None)), "success")
            return redirect(url_for("cpas.edit", code=cpas.code))
    return render(
        "cpas/edit.html",
        cpas=cpas,
        errors=errors,
        form=form,
        regimes=REGIME_LABELS,
        funders=FUNDER_LABELS,
        regions=REGION_LABELS,
        platform=_platform(),
        status=422 if errors else 200,
    )


def _split(raw: str) -> list[str]:
    """A list typed in one field: commas, semicolons or new lines between the items."""
    return raw.replace(";", ",").replace("\n", ",").split(",")


@bp.post("/<code>/territory")
@requires(Permission.USERS_MANAGE)
def territory(code: str):
    """The postcodes and communes the CPAS serves (its administrator, or the platform's)."""
    cpas = _managed(code)
    if cpas is None:
        return _not_found()
    try:
        organisations.save_territory(
            db.session(),
            cpas,
            postcodes=_split(request.form.get("postcodes", "")),
            communes=_split(request.form.get("communes", "")),
            actor=current_user,
        )
    except Invalid as error:
        return render(
            "cpas/edit.html",
            cpas=cpas,
            errors=_messages(error),
            form=None,
            territory=request.form,
            regimes=REGIME_LABELS,
            funders=FUNDER_LABELS,
            regions=REGION_LABELS,
            platform=_platform(),
            status=422,
        )
    flash(_("Postcodes and communes of %(name)s saved.", name=cpas.label(None)), "success")
    return redirect(url_for("cpas.edit", code=cpas.code))


def _year() -> int | None:
    today = clock.now().date()
    raw = request.values.get("year") or str(today.year)
    if not raw.isdigit() or abs(int(raw) - today.year) > YEARS_AROUND:
        return None
    return int(raw)


@bp.route("/<code>/holidays", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def holidays(code: str):
    cpas = _managed(code)
    if cpas is None:
        return _not_found()
    session = db.session()
    year = _year()
    errors: dict[str, str] = {}
    if year is None:
        errors["year"] = _("Choose a year from the list.")
        year = clock.now().date().year
    elif request.method == "POST":
        try:
            organisations.save_holiday(
                session,
                cpas.id,
                year,
                clock.parse_day(request.form.get("day", "")),
                add=request.form.get("add") == "1",
                closed=request.form.get("closed") == "1",
                name_fr=request.form.get("name_fr", ""),
                name_nl=request.form.get("name_nl", ""),
                actor=current_user,
            )
        except Invalid as error:
            errors = _messages(error)
        else:
            flash(_("Calendar saved."), "success")
            return redirect(url_for("cpas.holidays", code=cpas.code, year=year))
    today = clock.now().date()
    return render(
        "cpas/holidays.html",
        cpas=cpas,
        year=year,
        years=range(today.year - YEARS_AROUND, today.year + YEARS_AROUND + 1),
        days=organisations.holidays_of(session, cpas.id, year),
        kinds=KIND_LABELS,
        errors=errors,
        form=request.form if request.method == "POST" else None,
        status=422 if errors else 200,
    )


@bp.route("/<code>/admins", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def admins(code: str):
    """The platform administrator's page: the CPAS's administrators, and a new one."""
    if not _platform():
        session = db.session()
        cpas = organisations.get_cpas(session, code)
        if cpas is not None:
            organisations.refuse_and_record(session, current_user, "cpas", cpas.id)
        return _not_found()
    cpas = _managed(code)
    if cpas is None:
        return _not_found()
    session = db.session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = accounts.add_cpas_admin(
                session,
                cpas,
                team_code=request.form.get("team"),
                username=request.form.get("username", ""),
                display_name=request.form.get("display_name", ""),
                password=request.form.get("password", ""),
                actor=current_user,
            )
        except accounts.AccountError as error:
            errors[error.field] = account_error_message(error)
        else:
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for("cpas.admins", code=cpas.code))
    teams = accounts.teams_of_cpas(session, cpas.id)
    team_ids = {team.id for team in teams}
    return render(
        "cpas/admins.html",
        cpas=cpas,
        teams=teams,
        admins=[
            user
            for user in accounts.list_users(session)
            if user.role == Role.ADMIN and user.team_id in team_ids
        ],
        errors=errors,
        form=request.form if request.method == "POST" else None,
        status=422 if errors else 200,
    )
