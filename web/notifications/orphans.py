"""The platform administrator's page of what belongs to no CPAS: contacts of no team and
SMS received that no CPAS owns, given each to a CPAS (docs/cpas.md)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from core.errors import Invalid
from core.roles import Permission
from notifications import orphans
from web import db
from web.common import actor
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("notifications_orphans", __name__, url_prefix="/sms")


def _page(errors: dict[str, str] | None = None, status: int = 200):
    page = orphans.orphans_page(db.session(), actor())
    if page is None:
        abort(404)
    return render("notifications/orphans.html", page=page, errors=errors or {}, status=status)


@bp.get("/sans-cpas")
@requires(Permission.SMS_INBOX)
def index():
    return _page()


def _done(outcome: str | None, given: str):
    if outcome is None:
        abort(404)
    if outcome == "already":
        flash(_("This was already given to a CPAS: nothing changed."), "warning")
    else:
        flash(given, "success")
    return redirect(url_for("notifications_orphans.index"))


@bp.post("/sans-cpas/contacts/<int:contact_id>")
@requires(Permission.SMS_INBOX)
def give_contact(contact_id: int):
    try:
        outcome = orphans.give_contact(
            db.session(), contact_id, request.form.get("team", ""), actor=actor()
        )
    except Invalid as invalid:
        db.session().rollback()
        return _page({f"contact-{contact_id}": message(invalid.errors["team"])}, status=422)
    return _done(outcome, _("Contact no. %(id)s now belongs to the team chosen.", id=contact_id))


@bp.post("/sans-cpas/sms/<int:inbound_id>")
@requires(Permission.SMS_INBOX)
def route_sms(inbound_id: int):
    try:
        outcome = orphans.route_sms(
            db.session(), inbound_id, request.form.get("cpas", ""), actor=actor()
        )
    except Invalid as invalid:
        db.session().rollback()
        return _page({f"sms-{inbound_id}": message(invalid.errors["cpas"])}, status=422)
    return _done(outcome, _("SMS no. %(id)s is now read by the CPAS chosen.", id=inbound_id))
