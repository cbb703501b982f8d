"""A minibus stop's public pages, without login (docs/rounds.md, "Public stop page"):
/arret/<slug> (next dates, today's live status, the CPAS's name and phone), the SMS
subscription (number → one-time code → subscribed; the same to leave), the poster to
print (A4, a QR code to the page made here with segno)."""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup

from appointments import services as appointments
from core.errors import Invalid
from rounds import public as stops
from web import db
from web.common import field_errors, national, page_language, public_base_url
from web.i18n import LANGUAGE_NAMES
from web.permissions import public
from web.rendering import render

bp = Blueprint("rounds_public", __name__, url_prefix="/arret")

FLOW = "stop_sms"


def _topic(code: str) -> str:
    labels = {
        "social": _("Social help"),
        "jobs": _("Work and training"),
        "housing": _("Housing"),
        "digital": _("Help with computers and papers online"),
        "other": _("Other questions"),
    }
    return labels.get(code, "")


def _status(status: stops.Status) -> str:
    at = status.expected.strftime("%H:%M") if status.expected else ""
    if status.code == "cancelled":
        return _("Cancelled: the minibus does not come this day.")
    if status.code == "skipped":
        return _("Cancelled: the minibus does not stop here this day.")
    if status.code == "moved":
        return _("Time changed: arrival at %(time)s.", time=at)
    if status.code == "en_route":
        if status.late_minutes:
            return _(
                "On its way, arrival expected at %(time)s (%(minutes)s minutes late).",
                time=at,
                minutes=status.late_minutes,
            )
        return _("On its way, arrival expected at %(time)s.", time=at)
    if status.code == "here":
        return _("The minibus is here until %(time)s.", time=at)
    if status.code == "left":
        return _("The minibus has left this stop.")
    if status.code == "finished":
        return _("The round is over for today.")
    return _("Planned: arrival at %(time)s.", time=at)


def _stop(slug: str):
    stop = stops.stop_by_slug(db.session(), slug)
    if stop is None:
        abort(404)
    return stop


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _page_url(stop) -> str:
    return f"{public_base_url()}{url_for('rounds_public.page', slug=stop.public_slug)}"


def _view(stop) -> dict[str, Any]:
    language = page_language()
    view = stops.public_stop(db.session(), stop, language)
    return {
        "view": view,
        "visits": [
            {
                "day": format_date(visit.day, "full"),
                "arrival": visit.arrival,
                "departure": visit.departure,
                "topic": _topic(visit.topic),
                "status": _status(visit.status),
                "status_code": visit.status.code,
            }
            for visit in view.visits
        ],
        "today": _status(view.today.status) if view.today is not None else "",
        "cpas_phone": national(view.cpas_phone),
        "cpas_phone_link": view.cpas_phone,
    }


@bp.route("/<slug>")
@public
def page(slug: str):
    stop = _stop(slug)
    return render("rounds/public/stop.html", stop=stop, **_view(stop))


@bp.route("/<slug>/affiche")
@public
def poster(slug: str):
    stop = _stop(slug)
    url = _page_url(stop)
    qr = segno.make(url, error="m")
    svg = Markup(qr.svg_inline(scale=8, title=_("QR code to the stop's page"), omitsize=True))  # noqa: S704 - segno's own SVG, the URL escaped by segno
    return render("rounds/public/poster.html", stop=stop, url=url, qr=svg, **_view(stop))


# --- SMS: subscribe or leave -------------------------------------------------------------


def _flow(slug: str) -> dict[str, Any]:
    flow = session.get(FLOW) or {}
    return flow if flow.get("slug") == slug else {}


def _form_page(stop, values, *, leave: bool, errors=None, status: int = 200, retry_after=None):
    body, _status_code = render(
        "rounds/public/sms.html",
        stop=stop,
        values=values,
        leave=leave,
        errors=errors or {},
        languages=stops.LANGUAGES,
        language_names=LANGUAGE_NAMES,
        **_view(stop),
    )
    response = make_response(body, status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _limited(limited: appointments.RateLimited) -> str:
    if limited.scope == "resend":
        return _(
            "A code was sent less than a minute ago. Wait %(seconds)s seconds, then ask again.",
            seconds=limited.retry_after,
        )
    if limited.scope == "number":
        return _("Too many codes were sent to this number. Try again in an hour, or call us.")
    return _("We cannot send more codes from here for now. Try again later, or call us.")


def _ask(slug: str, *, leave: bool):
    stop = _stop(slug)
    if request.method == "GET":
        values = {"phone": "", "sms_language": page_language()}
        return _form_page(stop, values, leave=leave)
    values = {
        "phone": request.form.get("phone", "")[:40],
        "sms_language": request.form.get("sms_language", "")[:4],
    }
    try:
        number = appointments.read_mobile(values["phone"])
        check = stops.send_code(
            db.session(),
            stop,
            raw_phone=number.e164,
            language=values["sms_language"],
            address=request.remote_addr or "unknown",
            secret=_secret(),
        )
    except appointments.RateLimited as limited:
        return _form_page(
            stop,
            values,
            leave=leave,
            errors={"form": _limited(limited)},
            status=429,
            retry_after=limited.retry_after,
        )
    except Invalid as invalid:
        return _form_page(stop, values, leave=leave, errors=field_errors(invalid), status=422)
    session[FLOW] = {
        "slug": slug,
        "phone": number.e164,
        "language": values["sms_language"],
        "leave": leave,
        "check": check.id,
    }
    return redirect(url_for("rounds_public.code", slug=slug))


@bp.route("/<slug>/sms", methods=["GET", "POST"])
@public
def subscribe(slug: str):
    return _ask(slug, leave=False)


@bp.route("/<slug>/quitter", methods=["GET", "POST"])
@public
def leave(slug: str):
    return _ask(slug, leave=True)


@bp.route("/<slug>/code", methods=["GET", "POST"])
@public
def code(slug: str):
    stop = _stop(slug)
    flow = _flow(slug)
    check = appointments.get_phone_check(db.session(), flow.get("check"))
    if check is None:
        return redirect(url_for("rounds_public.subscribe", slug=slug))
    context = {"stop": stop, "leave": bool(flow.get("leave")), **_view(stop)}
    if request.method == "GET":
        return render("rounds/public/code.html", errors={}, **context)
    try:
        proof = stops.check_code(
            db.session(), check, request.form.get("code", "")[:20], secret=_secret()
        )
        stops.finish(
            db.session(),
            stop,
            leave=bool(flow.get("leave")),
            check_id=check.id,
            proof=proof,
            e164=flow["phone"],
            language=flow["language"],
            secret=_secret(),
        )
    except Invalid as invalid:
        return render(
            "rounds/public/code.html", status=422, errors=field_errors(invalid), **context
        )
    session.pop(FLOW, None)
    return redirect(
        url_for("rounds_public.done", slug=slug, left="1" if flow.get("leave") else None)
    )


@bp.route("/<slug>/fait")
@public
def done(slug: str):
    stop = _stop(slug)
    return render(
        "rounds/public/done.html", stop=stop, left=request.args.get("left") == "1", **_view(stop)
    )
