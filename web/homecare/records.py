"""The home-care coordinator's records: households (the file, its forms, the carnet de
vie, one GPS fix), care plans and their suspensions, aides (terms, qualifications,
absences).

Who may see and change what is decided in homecare.access (through homecare.pages and
homecare.services): unknown and forbidden households answer the same 404. The views
parse the form, call one service and render; a refusal becomes sentences next to the
fields and nothing is saved.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import FieldError, Invalid
from core.roles import Permission
from homecare import pages, services
from homecare.services import AideFields, BeneficiaryFields, PlanFields
from web import db
from web.common import Tab, actor, field_errors, national, not_found, visible_tabs
from web.homecare.labels import LABELS, day
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("homecare", __name__, url_prefix="/aide-a-domicile")

TABS = (
    Tab("homecare.beneficiaries", _l("Households"), Permission.HOMECARE_RECORDS),
    Tab("homecare.aides", _l("Aides"), Permission.HOMECARE_RECORDS),
    Tab("homecare_proof.rules", _l("Proof of visits"), Permission.HOMECARE_RECORDS),
)
PHONE_FIELDS = 3
HOURS_ROWS_EXTRA = 2
HOURS_ROWS_MAX = 21
LARGEST_INT = 2**31 - 1  # an int column's largest value
FIRST_YEAR, LAST_YEAR = 1900, 2200


def _page(template: str, status: int = 200, **context: Any):
    return render(
        template,
        status=status,
        tabs=visible_tabs(TABS),
        labels=LABELS,
        day=day,
        national=national,
        **context,
    )


class Form:
    """Reads a posted form into typed values, collecting what cannot be read."""

    def __init__(self, form: Mapping[str, Any]) -> None:
        self.form = form
        self.errors: dict[str, FieldError] = {}

    def text(self, name: str) -> str:
        return str(self.form.get(name) or "")

    def _number(self, name: str, kind: Callable[[str], Any]) -> Any:
        raw = self.text(name).strip().replace(",", ".")
        if not raw:
            return None
        try:
            return kind(raw)
        except ValueError:
            self.errors[name] = FieldError("not_a_whole_number" if kind is int else "not_a_number")
            return None

    def integer(self, name: str) -> int | None:
        value = self._number(name, int)
        if value is not None and not -LARGEST_INT <= value <= LARGEST_INT:
            self.errors[name] = FieldError("number_too_large")
            return None
        return value

    def decimal(self, name: str) -> float | None:
        value = self._number(name, float)
        if value is not None and not math.isfinite(value):  # nan, inf
            self.errors[name] = FieldError("not_a_number")
            return None
        return value

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None and name not in self.errors:
            self.errors[name] = FieldError("required")
        return value or 0

    def clock(self, name: str) -> time | None:
        raw = self.text(name).strip()
        if not raw:
            self.errors[name] = FieldError("required")
            return None
        try:
            hours, minutes = raw.split(":")[:2]
            return time(int(hours), int(minutes))
        except ValueError:
            self.errors[name] = FieldError("invalid_time")
            return None

    def day(self, name: str, *, required: bool = True) -> date | None:
        raw = self.text(name).strip()
        if not raw:
            if required:
                self.errors[name] = FieldError("required")
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            value = None
        # Year 1 or 9999 is a typing slip, and would overflow a day's UTC bounds.
        if value is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
            self.errors[name] = FieldError("invalid_date")
            return None
        return value

    def integers(self, name: str) -> list[int]:
        found = []
        for raw in self.form.getlist(name):
            try:
                found.append(int(raw))
            except ValueError:
                self.errors[name] = FieldError("unknown_choice")
        return found

    def fail(self) -> None:
        if self.errors:
            raise Invalid(dict(self.errors))


# --- Households -------------------------------------------------------------------------


@bp.get("/beneficiaires", endpoint="beneficiaries")
@requires(Permission.HOMECARE_RECORDS)
def beneficiaries_page():
    text = (request.args.get("q") or "")[:60]
    raw_antenne = request.args.get("antenne") or ""
    antenne_id = int(raw_antenne) if raw_antenne.isdigit() and len(raw_antenne) < 10 else None
    found = pages.beneficiary_list(db.session(), actor(), text=text, antenne_id=antenne_id)
    if found is None:
        return not_found()
    return _page(
        "homecare/records/beneficiaries.html",
        found=found,
        query=text,
        antenne_id=antenne_id,
    )


def _beneficiary_values(form: pages.BeneficiaryForm) -> dict[str, Any]:
    beneficiary = form.beneficiary
    if beneficiary is None:
        return {"language": "fr", "contribution_category": "c", "consents": []}
    values: dict[str, Any] = {
        name: getattr(beneficiary, name)
        for name in (
            "name",
            "address",
            "postcode",
            "city",
            "latitude",
            "longitude",
            "language",
            "entry_instructions",
            "emergency_name",
            "emergency_phone",
            "social_worker_id",
            "antenne_id",
            "contribution_category",
        )
    }
    for position, phone in enumerate(form.phones[:PHONE_FIELDS]):
        values[f"phone_{position + 1}"] = phone
    values["consents"] = sorted(form.consents)
    return values


def _read_beneficiary(parsed: Form) -> BeneficiaryFields:
    phones = [parsed.text(f"phone_{n}").strip() for n in range(1, PHONE_FIELDS + 1)]
    return BeneficiaryFields(
        name=parsed.text("name"),
        address=parsed.text("address"),
        postcode=parsed.text("postcode"),
        city=parsed.text("city"),
        latitude=parsed.decimal("latitude"),
        longitude=parsed.decimal("longitude"),
        phones=phones,  # empty fields kept: an error names its field by position
        consents=parsed.form.getlist("consents"),
        language=parsed.text("language"),
        entry_instructions=parsed.text("entry_instructions"),
        emergency_name=parsed.text("emergency_name"),
        emergency_phone=parsed.text("emergency_phone"),
        social_worker_id=parsed.integer("social_worker_id"),
        antenne_id=parsed.integer("antenne_id"),
        contribution_category=parsed.text("contribution_category"),
    )


def _beneficiary_page(form: pages.BeneficiaryForm):
    session = db.session()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        values = _beneficiary_values(form)
    else:
        values = request.form.to_dict()
        values["consents"] = request.form.getlist("consents")
        parsed = Form(request.form)
        try:
            fields = _read_beneficiary(parsed)
            parsed.fail()
            if form.beneficiary is None:
                user = actor()
                saved = pages.saved(
                    session, services.create_beneficiary, user, user.team_id or 0, fields
                )
            else:
                saved = pages.saved(
                    session, services.update_beneficiary, actor(), form.beneficiary.id, fields
                )
        except Invalid as invalid:
            errors, status = _phone_errors(field_errors(invalid)), 422
        else:
            flash(_("Household saved."), "success")
            return redirect(url_for("homecare.beneficiary", beneficiary_id=saved.id))
    return _page(
        "homecare/records/beneficiary_form.html",
        status=status,
        form=form,
        values=values,
        errors=errors,
        phone_fields=PHONE_FIELDS,
    )


def _phone_errors(errors: dict[str, str]) -> dict[str, str]:
    """The contact's phone errors at the form's fields (phone_0 is the first field)."""
    shown: dict[str, str] = {}
    for name, sentence in errors.items():
        if name.startswith("phone_") and name[6:].isdigit():
            shown[f"phone_{int(name[6:]) + 1}"] = sentence
        elif name == "phones":
            shown.setdefault("phone_1", sentence)
        else:
            shown[name] = sentence
    return shown


@bp.route("/beneficiaires/nouveau", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def new_beneficiary():
    form = pages.beneficiary_form(db.session(), actor())
    if form is None:
        return not_found()
    return _beneficiary_page(form)


@bp.route("/beneficiaires/<uuid:beneficiary_id>/modifier", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def edit_beneficiary(beneficiary_id: uuid.UUID):
    form = pages.beneficiary_form(db.session(), actor(), beneficiary_id)
    if form is None:
        return not_found()
    return _beneficiary_page(form)


@bp.get("/beneficiaires/<uuid:beneficiary_id>")
@requires(Permission.HOMECARE_FILES)
def beneficiary(beneficiary_id: uuid.UUID):
    session = db.session()
    found = pages.beneficiary_file(session, actor(), beneficiary_id)
    if found is None:
        return not_found()
    return _page("homecare/records/beneficiary.html", file=found, errors={})


@bp.post("/beneficiaires/<uuid:beneficiary_id>/position")
@requires(Permission.HOMECARE_RECORDS)
def location_fix(beneficiary_id: uuid.UUID):
    session = db.session()
    if pages.household_to_change(session, actor(), beneficiary_id) is None:
        return not_found()
    parsed = Form(request.form)
    try:
        latitude, longitude = parsed.decimal("latitude"), parsed.decimal("longitude")
        if latitude is None or longitude is None:
            parsed.errors.setdefault("latitude", FieldError("no_fix"))
        parsed.fail()
        assert latitude is not None and longitude is not None
        pages.saved(
            session, services.set_location_from_fix, actor(), beneficiary_id, latitude, longitude
        )
    except Invalid as invalid:
        flash(" ".join(message(error) for error in invalid.errors.values()), "error")
    else:
        flash(_("The position taken at the door is saved."), "success")
    return redirect(url_for("homecare.beneficiary", beneficiary_id=beneficiary_id, _anchor="where"))


@bp.route("/beneficiaires/<uuid:beneficiary_id>/carnet-de-vie", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def life_book(beneficiary_id: uuid.UUID):
    session = db.session()
    household = pages.household_to_change(session, actor(), beneficiary_id)
    if household is None:
        return not_found()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        values = dict(household.life_book or {})
    else:
        values = {key: request.form.get(key, "") for key in LABELS["life_book"]}
        try:
            pages.saved(session, services.set_life_book, actor(), beneficiary_id, values)
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(_("Carnet de vie saved."), "success")
            return redirect(
                url_for("homecare.beneficiary", beneficiary_id=beneficiary_id, _anchor="life-book")
            )
    return _page(
        "homecare/records/life_book.html",
        status=status,
        household=household,
        values=values,
        errors=errors,
    )


@bp.post("/beneficiaires/<uuid:beneficiary_id>/carnet-de-vie/accord")
@requires(Permission.HOMECARE_RECORDS)
def life_book_agreement(beneficiary_id: uuid.UUID):
    session = db.session()
    agreed = request.form.get("agreed") == "yes"
    try:
        pages.saved(
            session, services.record_life_book_agreement, actor(), beneficiary_id, agreed=agreed
        )
    except Invalid:
        return not_found()
    flash(
        _("The agreement to share the carnet de vie is recorded.")
        if agreed
        else _("The carnet de vie is no longer shared outside the household's aides."),
        "success",
    )
    return redirect(
        url_for("homecare.beneficiary", beneficiary_id=beneficiary_id, _anchor="life-book")
    )


# --- Care plans -------------------------------------------------------------------------


def _meal_context(plan, values: dict[str, Any] | None = None, errors=None) -> dict[str, Any]:
    """The plan page's meals-on-wheels form: shown when a meal service of the CPAS can
    take the order and the plan names none yet."""
    choices = None
    if plan is not None:
        try:
            choices = services.meal_choices(db.session(), actor(), plan.id)
        except Invalid:  # not hers to change: no form (the page itself answers 404)
            choices = None
    today = clock.to_local(clock.now()).date()
    defaults: dict[str, Any] = {}
    if plan is not None:
        defaults = {
            "weekdays": [str(d) for d in plan.weekdays],
            "meals": "1",
            "diet": "normal",
            "window_start": "10:00",
            "window_end": "12:00",
            "starts_on": max(plan.starts_on, today + timedelta(days=1)).isoformat(),
            "ends_on": plan.ends_on.isoformat() if plan.ends_on else "",
        }
    return {
        "meal_teams": choices[0] if choices else [],
        "meal_diets": choices[1] if choices else (),
        "meal_orderable": choices is not None,
        "meal_values": values if values is not None else defaults,
        "meal_errors": errors or {},
        "today": today,  # a suspension still running may end earlier
    }


def _flash_meals(followed: services.MealsFollowed | None) -> None:
    """What the plan's end (moved) or suspension did to its meal order, in a sentence."""
    if followed is None:
        return
    if followed.kind == "unknown":
        flash(
            _(
                "The meal service knows no order by the plan's meal order reference: "
                "tell it yourself that the meals stop."
            ),
            "warning",
        )
        return
    if followed.kind == "unknown_reopen":
        flash(
            _(
                "The meal service knows no order by the plan's meal order reference: "
                "tell it yourself that the meals go on."
            ),
            "warning",
        )
        return
    if followed.kind == "own_end":
        flash(
            _(
                "The meal order has an end of the mobile team's own, left as it is: "
                "ask the mobile team if the meals should follow the plan."
            ),
            "warning",
        )
        return
    if followed.kind == "not_paused":
        flash(_("The meal order had no pause for those days: nothing to change."), "info")
        return
    if followed.kind == "resumed":
        assert followed.first is not None and followed.last is not None
        if followed.last < followed.first:
            sentence = _(
                "The meal order's pause is lifted too. Deliveries made again: %(count)d.",
                count=followed.reopened,
            )
        else:
            sentence = _(
                "The meal order's pause ends on %(day)s too. Deliveries made again: %(count)d.",
                day=day(followed.last),
                count=followed.reopened,
            )
        flash(sentence, "success")
        return
    if followed.kind == "reopened":
        if followed.last is None:
            sentence = _(
                "The meal order runs again, with no end. Deliveries made again: %(count)d.",
                count=followed.reopened,
            )
        else:
            sentence = _(
                "The meal order runs again until %(day)s. Deliveries made again: %(count)d.",
                day=day(followed.last),
                count=followed.reopened,
            )
        flash(sentence, "success")
        return
    if followed.kind == "ended":
        sentence = _(
            "The meal order ends on %(day)s too. Deliveries cancelled: %(cancelled)d; "
            "kept, past the kitchen's cut-off: %(kept)d.",
            day=day(followed.last),
            cancelled=followed.cancelled,
            kept=followed.kept,
        )
    else:
        sentence = _(
            "The meal order pauses from %(first)s to %(last)s too. Deliveries cancelled: "
            "%(cancelled)d; kept, past the kitchen's cut-off: %(kept)d.",
            first=day(followed.first),
            last=day(followed.last),
            cancelled=followed.cancelled,
            kept=followed.kept,
        )
    flash(sentence, "success")


def _plan_values(plan) -> dict[str, Any]:
    if plan is None:
        return {
            "service": "family_aide",
            "weekdays": [],
            "tolerance_minutes": 0,
            "holiday_rule": "skip",
            "aides": 1,
            "skills": [],
            "preferred_aide_ids": [],
            "refused_aide_ids": [],
            "starts_on": clock.to_local(clock.now()).date().isoformat(),
        }
    return {
        "service": plan.service,
        "weekdays": [str(d) for d in plan.weekdays],
        "window_start": plan.window_start.strftime("%H:%M"),
        "window_end": plan.window_end.strftime("%H:%M"),
        "tolerance_minutes": plan.tolerance_minutes,
        "duration_minutes": plan.duration_minutes,
        "tasks": "\n".join(plan.tasks),
        "skills": list(plan.skills),
        "preferred_aide_ids": [str(a) for a in plan.preferred_aide_ids],
        "refused_aide_ids": [str(a) for a in plan.refused_aide_ids],
        "starts_on": plan.starts_on.isoformat(),
        "ends_on": plan.ends_on.isoformat() if plan.ends_on else "",
        "holiday_rule": plan.holiday_rule,
        "meal_order_ref": plan.meal_order_ref or "",
        "aides": plan.aides,
    }


def _read_plan(parsed: Form) -> PlanFields:
    start, end = parsed.clock("window_start"), parsed.clock("window_end")
    starts_on = parsed.day("starts_on")
    tasks = [line.strip() for line in parsed.text("tasks").splitlines() if line.strip()]
    meal = parsed.text("meal_order_ref").strip() or None
    aides = parsed.integer("aides")
    fields = PlanFields(
        service=parsed.text("service"),
        weekdays=parsed.integers("weekdays"),
        window_start=start or time(0),
        window_end=end or time(0),
        duration_minutes=parsed.required_integer("duration_minutes"),
        starts_on=starts_on or date.min,
        ends_on=parsed.day("ends_on", required=False),
        tolerance_minutes=parsed.integer("tolerance_minutes") or 0,
        tasks=tasks,
        skills=parsed.form.getlist("skills"),
        preferred_aide_ids=parsed.integers("preferred_aide_ids"),
        refused_aide_ids=parsed.integers("refused_aide_ids"),
        holiday_rule=parsed.text("holiday_rule"),
        meal_order_ref=meal,
        aides=1 if aides is None else aides,
    )
    return fields


def _plan_page(form: pages.PlanForm):
    session = db.session()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        values = _plan_values(form.plan)
    else:
        values = request.form.to_dict()
        for name in ("weekdays", "skills", "preferred_aide_ids", "refused_aide_ids"):
            values[name] = request.form.getlist(name)
        parsed = Form(request.form)
        try:
            fields = _read_plan(parsed)
            parsed.fail()
            if form.plan is None:
                pages.saved(
                    session, services.create_care_plan, actor(), form.beneficiary.id, fields
                )
            else:
                _plan, followed = pages.saved(
                    session, services.change_care_plan, actor(), form.plan.id, fields
                )
                _flash_meals(followed)
        except Invalid as invalid:
            errors, status = field_errors(invalid), 422
        else:
            flash(_("Care plan saved."), "success")
            return redirect(
                url_for("homecare.beneficiary", beneficiary_id=form.beneficiary.id, _anchor="plans")
            )
    return _page(
        "homecare/records/plan_form.html",
        status=status,
        form=form,
        values=values,
        errors=errors,
        suspension_values={},
        suspension_errors={},
        **_meal_context(form.plan),
    )


@bp.route("/beneficiaires/<uuid:beneficiary_id>/plans/nouveau", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def new_plan(beneficiary_id: uuid.UUID):
    form = pages.plan_form(db.session(), actor(), beneficiary_id=beneficiary_id)
    if form is None:
        return not_found()
    return _plan_page(form)


@bp.route("/plans/<uuid:plan_id>/modifier", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def edit_plan(plan_id: uuid.UUID):
    form = pages.plan_form(db.session(), actor(), plan_id=plan_id)
    if form is None:
        return not_found()
    return _plan_page(form)


@bp.post("/plans/<uuid:plan_id>/suspensions")
@requires(Permission.HOMECARE_RECORDS)
def suspend_plan(plan_id: uuid.UUID):
    session = db.session()
    form = pages.plan_form(session, actor(), plan_id=plan_id)
    if form is None or form.plan is None:
        return not_found()
    parsed = Form(request.form)
    try:
        starts_on, ends_on = parsed.day("starts_on"), parsed.day("ends_on")
        parsed.fail()
        assert starts_on is not None and ends_on is not None
        _suspension, followed = pages.saved(
            session,
            services.pause_care_plan,
            actor(),
            plan_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=parsed.text("reason"),
            note=parsed.text("note"),
        )
    except Invalid as invalid:
        return _page(
            "homecare/records/plan_form.html",
            status=422,
            form=form,
            values=_plan_values(form.plan),
            errors={},
            suspension_values=request.form.to_dict(),
            suspension_errors=field_errors(invalid),
            **_meal_context(form.plan),
        )
    flash(_("Suspension saved: the visits of those days are cancelled."), "success")
    _flash_meals(followed)
    return redirect(url_for("homecare.edit_plan", plan_id=plan_id, _anchor="suspensions"))


@bp.post("/plans/<uuid:plan_id>/suspensions/<uuid:suspension_id>/fin")
@requires(Permission.HOMECARE_RECORDS)
def end_suspension(plan_id: uuid.UUID, suspension_id: uuid.UUID):
    """End a suspension earlier (the day before its first: lifted); its meal pause too."""
    session = db.session()
    form = pages.plan_form(session, actor(), plan_id=plan_id)
    if form is None or form.plan is None:
        return not_found()
    if not any(s.id == suspension_id for s in form.suspensions):
        return not_found()
    parsed = Form(request.form)
    try:
        last = parsed.day("last_day")
        parsed.fail()
        assert last is not None
        kept, followed = pages.saved(
            session, services.end_suspension, actor(), plan_id, suspension_id, last
        )
    except Invalid as invalid:
        return _page(
            "homecare/records/plan_form.html",
            status=422,
            form=form,
            values=_plan_values(form.plan),
            errors={},
            suspension_values={},
            suspension_errors={},
            end_id=suspension_id,
            end_values=request.form.to_dict(),
            end_errors=field_errors(invalid),
            **_meal_context(form.plan),
        )
    if kept is None:
        flash(_("Suspension lifted: the visits of those days are planned again."), "success")
    else:
        flash(
            _(
                "The suspension ends on %(day)s: the visits of the days after are planned again.",
                day=day(kept.ends_on),
            ),
            "success",
        )
    _flash_meals(followed)
    return redirect(url_for("homecare.edit_plan", plan_id=plan_id, _anchor="suspensions"))


@bp.post("/plans/<uuid:plan_id>/repas")
@requires(Permission.HOMECARE_RECORDS)
def order_meals(plan_id: uuid.UUID):
    """Meals on wheels for the plan's household in one step: the meal service makes the
    weekly order, its reference becomes the plan's; refused: the sentences, nothing saved."""
    session = db.session()
    form = pages.plan_form(session, actor(), plan_id=plan_id)
    if form is None or form.plan is None:
        return not_found()
    data = request.form.to_dict()
    data["weekdays"] = request.form.getlist("weekdays")
    try:
        pages.saved(session, services.order_meals, actor(), plan_id, data)
    except Invalid as invalid:
        session.refresh(form.plan)
        return _page(
            "homecare/records/plan_form.html",
            status=422,
            form=form,
            values=_plan_values(form.plan),
            errors={},
            suspension_values={},
            suspension_errors={},
            **_meal_context(form.plan, data, field_errors(invalid)),
        )
    flash(_("Meals ordered: the meal service delivers them from the first day."), "success")
    return redirect(url_for("homecare.edit_plan", plan_id=plan_id, _anchor="meals"))


# --- Aides ------------------------------------------------------------------------------


@bp.get("/aides", endpoint="aides")
@requires(Permission.HOMECARE_RECORDS)
def aides_page():
    found = pages.aides_overview(db.session(), actor())
    if found is None:
        return not_found()
    return _page("homecare/records/aides.html", found=found)


def _aide_values(page: pages.AidePage) -> dict[str, Any]:
    profile = page.profile
    if profile is None:
        return {"transport_mode": "transit", "hours": []}
    hours = profile.contract_minutes / 60
    return {
        "contract_hours": f"{hours:g}",
        "home_latitude": profile.home_latitude,
        "home_longitude": profile.home_longitude,
        "transport_mode": profile.transport_mode,
        "speed_kmh": f"{profile.speed_kmh:g}" if profile.speed_kmh else "",
        "hours": [
            {"day": str(row[0]), "start": row[1], "end": row[2]} for row in profile.working_hours
        ],
    }


def _read_aide(parsed: Form) -> AideFields:
    hours = parsed.decimal("contract_hours")
    if hours is None and "contract_hours" not in parsed.errors:
        parsed.errors["contract_hours"] = FieldError("required")
    rows = []
    for n in range(HOURS_ROWS_MAX):
        start = parsed.text(f"start_{n}").strip()
        end = parsed.text(f"end_{n}").strip()
        weekday = parsed.text(f"day_{n}").strip()
        if not (start or end):
            continue
        rows.append((int(weekday) if weekday.isdigit() else -1, start, end))
    return AideFields(
        contract_minutes=round((hours or 0) * 60),
        working_hours=rows,
        home_latitude=parsed.decimal("home_latitude"),
        home_longitude=parsed.decimal("home_longitude"),
        transport_mode=parsed.text("transport_mode"),
        speed_kmh=parsed.decimal("speed_kmh"),
    )


def _aide_errors(invalid: Invalid) -> dict[str, str]:
    """Errors of the profile form, the contract said in hours as the form asks."""
    errors = field_errors(invalid)
    if "contract_minutes" in errors:
        errors["contract_hours"] = message(
            FieldError("out_of_range", {"min": 0, "max": services.MAX_CONTRACT // 60})
        )
        del errors["contract_minutes"]
    for name in ("home_latitude", "home_longitude"):
        if name[5:] in errors:  # the service checks them as latitude / longitude
            errors[name] = errors.pop(name[5:])
    return errors


def _aide_page(page: pages.AidePage, *, status: int = 200, **forms: Any):
    context: dict[str, Any] = {
        "values": _aide_values(page),
        "errors": {},
        "qualification_values": {},
        "qualification_errors": {},
        "absence_values": {"reason": "leave"},
        "absence_errors": {},
    }
    context.update(forms)
    rows = list(context["values"].get("hours") or [])
    context["hour_rows"] = rows + [{}] * min(HOURS_ROWS_EXTRA, HOURS_ROWS_MAX - len(rows))
    return _page(
        "homecare/records/aide.html",
        status=status,
        page=page,
        one_second=timedelta(seconds=1),
        **context,
    )


@bp.route("/aides/<int:aide_id>", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def aide(aide_id: int):
    session = db.session()
    page = pages.aide_page(session, actor(), aide_id)
    if page is None:
        return not_found()
    if request.method == "GET":
        return _aide_page(page)
    parsed = Form(request.form)
    try:
        fields = _read_aide(parsed)
        parsed.fail()
        pages.saved(session, services.set_aide_profile, actor(), aide_id, fields)
    except Invalid as invalid:
        values = request.form.to_dict()
        values["hours"] = [
            {
                "day": values.get(f"day_{n}"),
                "start": values.get(f"start_{n}"),
                "end": values.get(f"end_{n}"),
            }
            for n in range(HOURS_ROWS_MAX)
            if values.get(f"start_{n}") or values.get(f"end_{n}")
        ]
        return _aide_page(page, status=422, values=values, errors=_aide_errors(invalid))
    flash(_("Working terms saved."), "success")
    return redirect(url_for("homecare.aide", aide_id=aide_id))


@bp.post("/aides/<int:aide_id>/qualifications")
@requires(Permission.HOMECARE_RECORDS)
def qualification(aide_id: int):
    session = db.session()
    page = pages.aide_page(session, actor(), aide_id)
    if page is None:
        return not_found()
    parsed = Form(request.form)
    try:
        expires_on = parsed.day("expires_on", required=False)
        if page.profile is None:
            parsed.errors["skill"] = FieldError("profile_first")
        parsed.fail()
        pages.saved(
            session, services.set_qualification, actor(), aide_id, parsed.text("skill"), expires_on
        )
    except Invalid as invalid:
        return _aide_page(
            page,
            status=422,
            qualification_values=request.form.to_dict(),
            qualification_errors=field_errors(invalid),
        )
    flash(_("Qualification saved."), "success")
    return redirect(url_for("homecare.aide", aide_id=aide_id, _anchor="qualifications"))


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=clock.BRUSSELS)


@bp.post("/aides/<int:aide_id>/absences")
@requires(Permission.HOMECARE_RECORDS)
def absence(aide_id: int):
    session = db.session()
    page = pages.aide_page(session, actor(), aide_id)
    if page is None:
        return not_found()
    parsed = Form(request.form)
    try:
        first, last = parsed.day("starts_on"), parsed.day("ends_on")
        if page.profile is None:
            parsed.errors["reason"] = FieldError("profile_first")
        parsed.fail()
        assert first is not None and last is not None
        pages.saved(
            session,
            services.record_absence,
            actor(),
            aide_id,
            # Whole days in Brussels, the last one included.
            starts_at=_day_start(first),
            ends_at=_day_start(last + timedelta(days=1)),
            reason=parsed.text("reason"),
        )
    except Invalid as invalid:
        errors = field_errors(invalid)
        if "ends" in errors:
            errors["ends_on"] = errors.pop("ends")
        return _aide_page(
            page,
            status=422,
            absence_values=request.form.to_dict(),
            absence_errors=errors,
        )
    flash(_("Absence saved."), "success")
    return redirect(url_for("homecare.aide", aide_id=aide_id, _anchor="absences"))
