"""Home care's hours, at /aide-a-domicile/heures and /aide-a-domicile/indicateurs: the
month's hours done against the year's quota (projection and alert), the billing and
payroll files, a visit marked done (and undone), and the monthly indicators with charts.

Only the coordinator of a home-care team (homecare/access.py); another coordinator gets
404, other roles 403 (core/roles.py). The figures come from homecare/hours.py and
homecare/indicators.py; this module parses, calls one service, formats and renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import clock
from core.errors import Conflict, FieldError, Invalid
from core.roles import Permission
from homecare import hours, indicators, timesheets
from homecare.calendar import local_moment
from homecare.models import SERVICES
from web import charts, db
from web.common import actor, field_errors, not_found
from web.exports import csv_response, xlsx_response
from web.permissions import requires
from web.rendering import render

bp = Blueprint("homecare_hours", __name__, url_prefix="/aide-a-domicile")

MONTHS_SHOWN = 12
MONTHS_OFFERED = 24

SERVICE_LABELS = {
    "family_aide": _l("Family aide"),
    "home_help": _l("Home help"),
    "day_care": _l("Day sitting"),
    "night_care": _l("Night sitting"),
}


def service_label(code: str) -> str:
    return str(SERVICE_LABELS.get(code, code))


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _this_month() -> date:
    return clock.to_local(clock.now()).date().replace(day=1)


def _month() -> tuple[date, dict[str, str]]:
    """The month asked for (?month=2026-11), this month by default; errors for bad input."""
    raw = request.args.get("month", "").strip()
    if not raw:
        return _this_month(), {}
    month = clock.parse_month(raw)
    if month is None or month.year < 2000 or month > _add_months(_this_month(), 12):
        return _this_month(), {"month": _("Choose a month like 2026-11.")}
    return month, {}


def _month_label(month: date, short: bool = False) -> str:
    return format_date(month, "MMM yy" if short else "MMMM y")


def _month_options(month: date) -> list[tuple[str, str]]:
    months = [_add_months(_this_month(), -back) for back in range(MONTHS_OFFERED)]
    if month not in months:
        months.append(month)
    return [(f"{one:%Y-%m}", _month_label(one)) for one in months]


def _day_label(day: date) -> str:
    return format_date(day, "full")


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


def _number(value: float | None) -> str:
    return "—" if value is None else format_decimal(round(value, 1))


@dataclass
class Chart:
    key: str
    title: str
    svg: Any
    header: list[str]
    rows: list[list[Any]]


def _quota_chart(line: hours.QuotaLine) -> Chart:
    months = [_month_label(date(line.year, m, 1), short=True) for m in range(1, 13)]
    title = _(
        "%(service)s, %(year)s: hours per month",
        service=service_label(line.service),
        year=line.year,
    )
    svg = charts.columns(
        f"chart-quota-{line.service}",
        title,
        months,
        [
            charts.Series(_("Hours delivered"), line.delivered),
            charts.Series(_("Hours expected"), line.projected),
        ],
        number=_number,
    )
    rows = [
        [_month_label(date(line.year, m + 1, 1)), _number(done), _number(expected)]
        for m, (done, expected) in enumerate(zip(line.delivered, line.projected, strict=True))
    ]
    header = [_("Month"), _("Hours delivered"), _("Hours expected")]
    return Chart(f"quota-{line.service}", title, svg, header, rows)


def _index(
    month: date,
    errors: dict[str, str],
    *,
    quota_errors: dict[str, str] | None = None,
    kept: dict[str, str] | None = None,
    status: int = 200,
):
    session = db.session()
    try:
        month_hours, lines = hours.overview(session, actor(), month)
    except Invalid:
        return not_found()
    return render(
        "homecare/hours/index.html",
        status=422 if errors or quota_errors else status,
        month=month,
        month_label=_month_label(month),
        month_options=_month_options(month),
        kept={"month": f"{month:%Y-%m}"},
        errors=errors,
        quota_errors=quota_errors or {},
        quota_kept=kept or {"year": str(month.year), "service": "family_aide", "hours": ""},
        hours=month_hours,
        lines=lines,
        charts={line.service: _quota_chart(line) for line in lines},
        services=SERVICES,
        service_label=service_label,
        minutes=_hours,
        number=_number,
        day_label=_day_label,
    )


@bp.get("/heures", endpoint="index")
@requires(Permission.HOMECARE_HOURS)
def index():
    month, errors = _month()
    return _index(month, errors)


def _int(raw: str | None) -> int | None:
    try:
        return int(str(raw or "").strip())
    except ValueError:
        return None


@bp.post("/heures/quota", endpoint="set_quota")
@requires(Permission.HOMECARE_HOURS)
def set_quota():
    form = request.form
    year, hours_value = _int(form.get("year")), _int(form.get("hours"))
    service = form.get("service", "")
    session = db.session()
    try:
        hours.save_quota(session, actor(), year, service, hours_value)
    except Invalid as invalid:
        if "team_id" in invalid.errors:
            return not_found()
        kept = {"year": form.get("year", ""), "service": service, "hours": form.get("hours", "")}
        month = date(year, 1, 1) if year and 2000 <= year <= 2100 else _this_month()
        return _index(month, {}, quota_errors=field_errors(invalid), kept=kept)
    shown = None if year == _this_month().year else f"{year:04d}-01"
    return redirect(url_for("homecare_hours.index", month=shown))


# --- Exports -----------------------------------------------------------------------------


def _billing(month_hours: hours.MonthHours) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Month"),
        _("Household"),
        _("Contribution category"),
        *(_("Hours: %(service)s", service=service_label(code)) for code in SERVICES),
        _("Hours in all"),
        _("Visits"),
        _("Meals delivered"),
    ]
    rows = [
        [
            f"{month_hours.month:%Y-%m}",
            row.name,
            row.contribution_category.upper(),
            *(_hours(row.minutes.get(code, 0.0)) for code in SERVICES),
            _hours(row.total),
            row.visits,
            row.meals,
        ]
        for row in month_hours.households
    ]
    return header, rows


def sheet_state_label(state: str) -> str:
    return {
        "signed": _("Signed"),
        "changed": _("Changed after signing"),
        "unsigned": _("Not signed"),
    }.get(state, state)


def _payroll(
    month_hours: hours.MonthHours, states: dict[int, str] | None = None
) -> tuple[list[str], list[list[Any]]]:
    states = states or {}
    header = [
        _("Month"),
        _("Aide"),
        _("Hours"),
        _("Early hours (6:00-8:00)"),
        _("Late hours (18:00-22:00)"),
        _("Night hours (22:00-6:00)"),
        _("Weekend hours"),
        _("Holiday hours"),
        _("Kilometres"),
        _("Visits"),
        _("Timesheet"),
    ]
    rows = [
        [
            f"{month_hours.month:%Y-%m}",
            row.name,
            _hours(row.bands.total),
            _hours(row.bands.early),
            _hours(row.bands.late),
            _hours(row.bands.night),
            _hours(row.bands.weekend),
            _hours(row.bands.holiday),
            round(row.km, 1),
            row.visits,
            sheet_state_label(states.get(row.aide_id, "unsigned")),
        ]
        for row in month_hours.aides
    ]
    return header, rows


def _export(kind: str, extension: str):
    month, errors = _month()
    if errors:
        return _index(month, errors)
    try:
        if kind == "payroll":
            # With each aide's signed (or not) timesheet of the month.
            month_hours, states = timesheets.payroll(db.session(), actor(), month, extension)
        else:
            month_hours = hours.export(db.session(), actor(), kind, month, extension)
    except Invalid:
        return not_found()
    if kind == "payroll":
        header, rows = _payroll(month_hours, states)
    else:
        header, rows = _billing(month_hours)
    label = "facturation" if kind == "billing" else "paie"
    name = f"terrain-aide-{label}-{month:%Y-%m}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=f"{month:%Y-%m}")


@bp.get("/heures/facturation.csv", endpoint="billing_csv")
@requires(Permission.HOMECARE_HOURS)
def billing_csv():
    return _export("billing", "csv")


@bp.get("/heures/facturation.xlsx", endpoint="billing_xlsx")
@requires(Permission.HOMECARE_HOURS)
def billing_xlsx():
    return _export("billing", "xlsx")


@bp.get("/heures/paie.csv", endpoint="payroll_csv")
@requires(Permission.HOMECARE_HOURS)
def payroll_csv():
    return _export("payroll", "csv")


@bp.get("/heures/paie.xlsx", endpoint="payroll_xlsx")
@requires(Permission.HOMECARE_HOURS)
def payroll_xlsx():
    return _export("payroll", "xlsx")


# --- A visit marked done ------------------------------------------------------------------


def _clock(raw: str) -> time | None:
    try:
        parsed = datetime.strptime(raw.strip(), "%H:%M")
    except ValueError:
        return None
    return parsed.time()


def done_form(form) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """The form's day, start, end (past midnight when before the start) and km."""
    errors: dict[str, FieldError] = {}
    day = clock.parse_day(form.get("day", "").strip())
    start, end = _clock(form.get("start", "")), _clock(form.get("end", ""))
    if day is None:
        errors["day"] = FieldError("invalid_date")
    if start is None:
        errors["started_at"] = FieldError("invalid_time")
    if end is None:
        errors["ended_at"] = FieldError("invalid_time")
    km: float | None = None
    raw_km = form.get("km", "").strip().replace(",", ".")
    if raw_km:
        try:
            km = float(raw_km)
        except ValueError:
            errors["km"] = FieldError("not_a_number")
    values: dict[str, Any] = {"started_at": None, "ended_at": None, "km": km}
    if day is not None and start is not None and end is not None:
        values["started_at"] = local_moment(day, start)
        values["ended_at"] = local_moment(day + timedelta(days=1) if end <= start else day, end)
    return values, errors


def _visit_page(visit_id: uuid.UUID, *, errors=None, kept=None, conflict=False, status=200):
    card = hours.visit_card(db.session(), actor(), visit_id)
    if card is None:
        return not_found()
    visit = card.visit
    start = visit.actual_start or visit.planned_start or visit.earliest_start
    end = visit.actual_end or (start + timedelta(minutes=visit.duration_minutes))
    defaults = {
        "day": (clock.to_local(start).date()).isoformat(),
        "start": f"{clock.to_local(start):%H:%M}",
        "end": f"{clock.to_local(end):%H:%M}",
        "km": "" if visit.km is None else format_decimal(visit.km),
    }
    return render(
        "homecare/hours/visit.html",
        status=status,
        card=card,
        visit=visit,
        service=service_label(card.service),
        kept=kept or defaults,
        errors=errors or {},
        conflict=conflict,
        real_hours=_number(hours.real_minutes(visit) / 60),
        day_label=_day_label,
    )


@bp.get("/heures/visites/<uuid:visit_id>", endpoint="visit")
@requires(Permission.HOMECARE_HOURS)
def visit(visit_id: uuid.UUID):
    return _visit_page(visit_id)


def _version() -> int:
    """The version the form was drawn from (-1, never a version, when missing)."""
    version = _int(request.form.get("version"))
    return -1 if version is None else version


@bp.post("/heures/visites/<uuid:visit_id>/effectuee", endpoint="mark_done")
@requires(Permission.HOMECARE_HOURS)
def mark_done(visit_id: uuid.UUID):
    session = db.session()
    values, errors = done_form(request.form)
    kept = {key: request.form.get(key, "") for key in ("day", "start", "end", "km")}
    try:
        if errors:
            raise Invalid(errors)
        hours.record_done(session, actor(), visit_id, _version(), **values)
    except Conflict:
        return _visit_page(visit_id, kept=kept, conflict=True, status=409)
    except Invalid as invalid:
        if "visit_id" in invalid.errors and invalid.errors["visit_id"].code == "unknown_visit":
            return not_found()
        return _visit_page(visit_id, errors=field_errors(invalid), kept=kept, status=422)
    return redirect(url_for("homecare_hours.visit", visit_id=visit_id))


@bp.post("/heures/visites/<uuid:visit_id>/annuler", endpoint="undo_done")
@requires(Permission.HOMECARE_HOURS)
def undo_done(visit_id: uuid.UUID):
    session = db.session()
    try:
        hours.cancel_done(session, actor(), visit_id, _version())
    except Conflict:
        return _visit_page(visit_id, conflict=True, status=409)
    except Invalid as invalid:
        if invalid.errors["visit_id"].code == "unknown_visit":
            return not_found()
        return _visit_page(visit_id, errors=field_errors(invalid), status=422)
    return redirect(url_for("homecare_hours.visit", visit_id=visit_id))


# --- Indicators ---------------------------------------------------------------------------


def _indicator_charts(series: list[indicators.Month]) -> list[Chart]:
    labels = [_month_label(row.month, short=True) for row in series]

    def chart(key: str, title: str, columns: list[tuple[str, str]]) -> Chart:
        svg = charts.columns(
            f"chart-{key}",
            title,
            labels,
            [
                charts.Series(name, [getattr(row, attr) or 0 for row in series])
                for name, attr in columns
            ],
            number=_number,
        )
        rows = [
            [_month_label(row.month), *(_number(getattr(row, attr)) for _n, attr in columns)]
            for row in series
        ]
        return Chart(key, title, svg, [_("Month"), *(name for name, _a in columns)], rows)

    return [
        chart(
            "hours",
            _("Hours delivered and planned, last 12 months"),
            [(_("Hours planned"), "planned_hours"), (_("Hours delivered"), "delivered_hours")],
        ),
        chart("unassigned", _("Visits left unassigned"), [(_("Unassigned"), "unassigned")]),
        chart(
            "continuity",
            _("Different aides per household (mean)"),
            [(_("Aides per household"), "mean_aides")],
        ),
        chart(
            "travel",
            _("Share of time travelling (per cent)"),
            [(_("Travel (per cent)"), "travel_share")],
        ),
    ]


def _indicators_table(series: list[indicators.Month]) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Month"),
        _("Hours planned"),
        _("Hours delivered"),
        _("Visits"),
        _("Visits unassigned"),
        _("Households"),
        _("Different aides per household (mean)"),
        _("Households above the cap of aides"),
        _("Travel hours"),
        _("Share of time travelling (per cent)"),
    ]
    rows = [
        [
            f"{row.month:%Y-%m}",
            row.planned_hours,
            row.delivered_hours,
            row.visits,
            row.unassigned,
            row.households,
            row.mean_aides,
            row.above_cap,
            row.travel_hours,
            row.travel_share,
        ]
        for row in series
    ]
    return header, rows


def _series(month: date) -> list[indicators.Month] | None:
    try:
        return indicators.last_months(
            db.session(), actor(), _add_months(month, 1 - MONTHS_SHOWN), month
        )
    except Invalid:
        return None


@bp.get("/indicateurs", endpoint="indicators")
@requires(Permission.HOMECARE_REPORTS)
def indicators_page():
    month, errors = _month()
    series = _series(month)
    if series is None:
        return not_found()
    return render(
        "homecare/hours/indicators.html",
        status=422 if errors else 200,
        month=series[-1],
        month_label=_month_label(month),
        month_options=_month_options(month),
        kept={"month": f"{month:%Y-%m}"},
        errors=errors,
        charts=_indicator_charts(series),
        number=_number,
    )


def _indicators_download(extension: str):
    month, errors = _month()
    if errors:
        return indicators_page()
    series = _series(month)
    if series is None:
        return not_found()
    header, rows = _indicators_table(series)
    name = f"terrain-aide-indicateurs-{month:%Y-%m}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=f"{month:%Y-%m}")


@bp.get("/indicateurs.csv", endpoint="indicators_csv")
@requires(Permission.HOMECARE_REPORTS)
def indicators_csv():
    return _indicators_download("csv")


@bp.get("/indicateurs.xlsx", endpoint="indicators_xlsx")
@requires(Permission.HOMECARE_REPORTS)
def indicators_xlsx():
    return _indicators_download("xlsx")
