"""The proof of a visit (issue 18), the coordinator's side: a household's printable
proof card (short code + QR, drawn on the server), a new card replacing the old one;
and the proof each service of her team asks for (none, the card's code, GPS + radius)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from core.db import committed
from core.errors import FieldError, Invalid
from core.roles import Permission
from homecare import cards
from homecare.models import SERVICES
from web import db
from web.common import actor, not_found, visible_tabs
from web.homecare.labels import SERVICES as SERVICE_LABELS
from web.homecare.records import TABS
from web.permissions import requires
from web.rendering import render
from web.validation import message

bp = Blueprint("homecare_proof", __name__, url_prefix="/aide-a-domicile")


def proof_mode_labels() -> dict[str, str]:
    return {
        "none": _("No proof"),
        "code": _("The household's card (QR or code)"),
        "gps": _("A GPS fix at arrival and departure"),
    }


@bp.get("/beneficiaires/<uuid:beneficiary_id>/carte")
@requires(Permission.HOMECARE_RECORDS)
def card(beneficiary_id: uuid.UUID) -> Any:
    session = db.session()
    user = actor()
    try:
        household, current = cards.card_of(session, user, beneficiary_id)
    except Invalid:
        return not_found()
    return render(
        "homecare/proof/card.html",
        household=household,
        card=current,
        qr=Markup(cards.qr_svg(current.code)) if current else None,  # noqa: S704 - segno's SVG
    )


@bp.post("/beneficiaires/<uuid:beneficiary_id>/carte")
@requires(Permission.HOMECARE_RECORDS)
def new_card(beneficiary_id: uuid.UUID) -> Any:
    session = db.session()
    try:
        committed(session, lambda: cards.issue_card(session, actor(), beneficiary_id))
    except Invalid:
        return not_found()
    flash(
        _(
            "A new card is ready: print it and take it to the household. "
            "The old code no longer proves a visit."
        ),
        "success",
    )
    return redirect(url_for("homecare_proof.card", beneficiary_id=beneficiary_id))


def _radius(value: str, errors: dict[str, FieldError]) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 6:
        errors["radius_m"] = FieldError("not_a_whole_number")
        return None
    return int(value)


@bp.route("/preuves", methods=["GET", "POST"])
@requires(Permission.HOMECARE_RECORDS)
def rules() -> Any:
    session = db.session()
    user = actor()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        problems: dict[str, FieldError] = {}
        fields = cards.RuleFields(
            service=request.form.get("service", ""),
            mode=request.form.get("mode", ""),
            radius_m=_radius(request.form.get("radius_m", ""), problems),
        )
        try:
            if problems:
                raise Invalid(problems)
            committed(session, lambda: cards.set_rule(session, user, user.team_id, fields))
        except Invalid as invalid:
            errors = {name: message(error) for name, error in invalid.errors.items()}
            errors["_service"] = fields.service
            status = 422
        else:
            flash(_("The proof for this service is saved."), "success")
            return redirect(url_for("homecare_proof.rules"))
    try:
        found = cards.rules_of(session, user, user.team_id)
    except Invalid:
        return not_found()
    return render(
        "homecare/proof/rules.html",
        status=status,
        tabs=visible_tabs(TABS),
        rules=found,
        services=SERVICES,
        service_labels=SERVICE_LABELS,
        modes=proof_mode_labels(),
        errors=errors,
        radius_min=cards.RADIUS_MIN,
        radius_max=cards.RADIUS_MAX,
    )
