"""Street outreach indicators, at /outreach/indicateurs: a street team's month and its
last 12 months, with charts (web/charts.py), their tables, and CSV/XLSX downloads.

Which teams: a street educator sees their own team, a coordinator their team when it is
a street team, an admin every street team. Asking for another team answers 403. The
figures come from outreach/indicators.py (counts only, no person, no place); this module
only chooses the team and month, formats and renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from core import clock
from core.accounts import Team, TeamKind, get_team
from core.roles import Permission
from outreach import ethos, indicators
from outreach.models import AGE_BANDS, NEEDS
from web import charts, db
from web.exports import csv_response, xlsx_response
from web.outreach.labels import label
from web.permissions import requires
from web.rendering import render
from web.validation import message as error_message

bp = Blueprint("outreach_reports", __name__, url_prefix="/outreach")

MONTHS_SHOWN = 12  # the chart and the downloads: the chosen month and the 11 before it
MONTHS_OFFERED = 24  # the month picker's list (any earlier month can still be typed)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Choice:
    """The team and month asked for, the teams offered, and what was wrong."""

    teams: list[Team]
    team: Team | None
    month: date
    errors: dict[str, str]

    @property
    def first(self) -> date:
        return _add_months(self.month, 1 - MONTHS_SHOWN)

    @property
    def kept(self) -> dict[str, str]:
        return {"team": self.team.code if self.team else "", "month": f"{self.month:%Y-%m}"}


def _choice(session: Session) -> Choice:
    """The query string read: 403 for a team the user may not see, errors for bad input."""
    teams = indicators.street_teams(session, current_user)
    this_month = clock.to_local(clock.now()).date().replace(day=1)
    errors: dict[str, str] = {}
    month = this_month
    raw = request.args.get("month", "").strip()
    if raw:
        parsed = clock.parse_month(raw)
        if parsed is None:
            errors["month"] = _("Choose a month like 2026-11.")
        else:
            month = parsed
            if month > this_month:
                errors["month"] = _("Choose this month or an earlier one.")
                month = this_month
            elif month.year < 2000:
                errors["month"] = _("Choose a month like 2026-11.")
                month = this_month
    team = teams[0] if teams else None
    code = request.args.get("team", "").strip()
    if code:
        asked = get_team(session, code)
        if asked is None or asked.kind != TeamKind.STREET:
            errors["team"] = error_message({"code": "unknown_choice"})
        elif asked not in teams:
            abort(403)  # a team of someone else: not theirs to see
        else:
            team = asked
    return Choice(teams=teams, team=team, month=month, errors=errors)


def _number(value: float | None) -> str:
    return "—" if value is None else format_decimal(value)


def _month_label(month: date, short: bool = False) -> str:
    return format_date(month, "MMM yy" if short else "MMMM y")


@dataclass
class Chart:
    """A chart and the table holding its figures (header row, then rows)."""

    key: str
    title: str
    svg: Any
    header: list[str]
    rows: list[list[Any]]


def _category_rows(kind: str, codes: tuple[str, ...], counts: dict[str, int]) -> list[list[Any]]:
    return [[str(label(kind, code)), counts.get(code, 0)] for code in codes]


def _category_chart(key: str, title: str, header: list[str], rows: list[list[Any]]) -> Chart:
    """Horizontal bars of a month's categories (first cell the label, last the count);
    the chart leaves out the zeros of long lists, the table keeps every row."""
    shown = [(row[0], row[-1]) for row in rows if row[-1] or len(rows) <= 10]
    svg = charts.bars(
        f"chart-{key}", title, shown, number=_number, empty=_("Nobody met this month.")
    )
    return Chart(key, title, svg, header, rows)


def _monthly_chart(
    key: str,
    title: str,
    series: list[indicators.Month],
    columns: list[tuple[str, str]],
    extra: list[tuple[str, Any]],
) -> Chart:
    """Columns of the 12 months, two series (`columns`: name and Month field), and a
    table with `extra` columns too (name and a function of the Month)."""
    months = [_month_label(row.month, short=True) for row in series]
    bars_of = [
        charts.Series(name, [getattr(row, field) for row in series]) for name, field in columns
    ]
    svg = charts.columns(f"chart-{key}", title, months, bars_of, number=_number)
    header = [_("Month"), *(name for name, _field in columns), *(name for name, _f in extra)]
    rows = [
        [
            _month_label(row.month),
            *(getattr(row, field) for _name, field in columns),
            *(value(row) for _name, value in extra),
        ]
        for row in series
    ]
    return Chart(key, title, svg, header, rows)


def _charts(series: list[indicators.Month]) -> list[Chart]:
    month = series[-1]
    name = _month_label(month.month)
    people = _("Distinct people")
    ethos_rows = [
        [
            str(label("ethos", code)),
            str(label("ethos_group", ethos.GROUPS[code])) if code in ethos.GROUPS else "",
            month.ethos.get(code, 0),
        ]
        for code in ethos.CODES
    ]
    return [
        _monthly_chart(
            "contacts",
            _("Contacts and distinct people, last 12 months"),
            series,
            [(_("Contacts"), "contacts"), (people, "distinct_people")],
            [
                (_("New people"), lambda row: row.new_people),
                (_("Maraudes"), lambda row: row.maraudes),
                (_("Hours out"), lambda row: _number(row.hours_out)),
            ],
        ),
        _category_chart(
            "needs",
            _("Requests by need, %(month)s", month=name),
            [_("Need"), _("Encounters raising it")],
            _category_rows("needs", NEEDS, month.requests),
        ),
        _category_chart(
            "ethos",
            _("Living situation (ETHOS), %(month)s", month=name),
            [_("Living situation"), _("ETHOS group"), people],
            ethos_rows,
        ),
        _category_chart(
            "ages",
            _("Age bands, %(month)s", month=name),
            [_("Age band"), people],
            _category_rows("age_band", AGE_BANDS, month.age_bands),
        ),
        _monthly_chart(
            "referrals",
            _("Referrals, last 12 months"),
            series,
            [
                (_("Referrals made"), "referrals_made"),
                (_("Referrals completed"), "referrals_completed"),
            ],
            [
                (
                    _("Median days, first contact to first referral"),
                    lambda row: _number(row.median_days_to_first_referral),
                )
            ],
        ),
    ]


def _figures(session: Session, choice: Choice) -> tuple[list[indicators.Month], list[int]]:
    """The 12 months ending at the chosen one (oldest first) and their homeless counts."""
    assert choice.team is not None
    return indicators.last_months(session, choice.team.id, choice.first, choice.month)


def _month_options(choice: Choice) -> list[tuple[str, str]]:
    this_month = clock.to_local(clock.now()).date().replace(day=1)
    months = [_add_months(this_month, -back) for back in range(MONTHS_OFFERED)]
    if choice.month not in months:
        months.append(choice.month)
    return [(f"{month:%Y-%m}", _month_label(month)) for month in months]


@bp.get("/indicateurs", endpoint="index")
@requires(Permission.OUTREACH_REPORTS)
def index():
    session = db.session()
    choice = _choice(session)
    context: dict[str, Any] = {
        "choice": choice,
        "errors": choice.errors,
        "kept": choice.kept,
        "month_options": _month_options(choice),
        "month_label": _month_label(choice.month),
        "number": _number,
    }
    if choice.team is not None:
        series, homeless = _figures(session, choice)
        context |= {
            "month": series[-1],
            "homeless": homeless[-1],
            "charts": _charts(series),
            "first_label": _month_label(choice.first),
        }
    return render("outreach/reports/index.html", status=422 if choice.errors else 200, **context)


def _table(choice: Choice, series: list[indicators.Month], homeless: list[int]):
    """The downloads' table: one row per month, one column per figure (counts only)."""
    header = [
        _("Month"),
        _("Team"),
        _("Maraudes"),
        _("Hours out"),
        _("Contacts"),
        _("Distinct people"),
        _("New people"),
        _("Referrals made"),
        _("Referrals completed"),
        _("Median days, first contact to first referral"),
        _("Homeless (roofless or houseless)"),
        *(_("Requests: %(need)s", need=label("needs", code)) for code in NEEDS),
        *(_("Age band: %(band)s", band=label("age_band", code)) for code in AGE_BANDS),
        *(_("ETHOS: %(category)s", category=label("ethos", code)) for code in ethos.CODES),
    ]
    assert choice.team is not None
    rows = [
        [
            f"{row.month:%Y-%m}",
            choice.team.name,
            row.maraudes,
            row.hours_out,
            row.contacts,
            row.distinct_people,
            row.new_people,
            row.referrals_made,
            row.referrals_completed,
            row.median_days_to_first_referral,
            count,
            *(row.requests.get(code, 0) for code in NEEDS),
            *(row.age_bands.get(code, 0) for code in AGE_BANDS),
            *(row.ethos.get(code, 0) for code in ethos.CODES),
        ]
        for row, count in zip(series, homeless, strict=True)
    ]
    return header, rows


def _download(extension: str):
    session = db.session()
    choice = _choice(session)
    if choice.errors or choice.team is None:
        return index()
    series, homeless = _figures(session, choice)
    header, rows = _table(choice, series, homeless)
    name = f"terrain-rue-{choice.team.code}-{choice.first:%Y-%m}-{choice.month:%Y-%m}.{extension}"
    if extension == "csv":
        return csv_response(name, header, rows)
    return xlsx_response(name, header, rows, title=f"{choice.month:%Y-%m}")


@bp.get("/indicateurs.csv", endpoint="download_csv")
@requires(Permission.OUTREACH_REPORTS)
def download_csv():
    return _download("csv")


@bp.get("/indicateurs.xlsx", endpoint="download_xlsx")
@requires(Permission.OUTREACH_REPORTS)
def download_xlsx():
    return _download("xlsx")
