"""Walk every route with every role and check the permission matrix of core/roles.py.

A new route without a decision fails here (and create_app() refuses to start); a new
route with URL arguments needs sample values in SAMPLE_ARGUMENTS below.
"""

from __future__ import annotations

import pytest

from core import accounts
from core.roles import Role, can
from homecare.demo import demo_id as homecare_id
from outreach.demo import demo_id
from tests.conftest import DEMO_USER_FOR_ROLE, log_in_directly, make_app
from tests.support import csrf_from
from web.permissions import PUBLIC, decision, undecided_endpoints

SAMPLE_ARGUMENTS: dict[str, dict[str, object]] = {
    "rounds.cancel_order": {"order_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.delivery_sheet": {"round_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.indicators_file": {"extension": "csv"},
    "rounds.delivered_file": {"extension": "csv"},
    "admin.set_active": {"user_id": 2},
    "admin.user_teams": {"user_id": 2},
    "cpas.edit": {"code": "bruxelles"},
    "cpas.holidays": {"code": "bruxelles"},
    "cpas.admins": {"code": "bruxelles"},
    "cpas.territory": {"code": "bruxelles"},
    "outreach.edit_encounter": {"encounter_id": str(demo_id("e1"))},
    "outreach_files.person": {"person_id": str(demo_id("momo"))},
    "outreach_files.propose_referral": {"person_id": str(demo_id("momo"))},
    "outreach_files.move_referral": {"referral_id": "00000000-0000-0000-0000-000000000000"},
    "outreach_files.record_consent": {"person_id": str(demo_id("momo"))},
    "outreach_files.withdraw_consent": {"consent_id": 999999},
    "outreach_files.attach_identity": {"person_id": str(demo_id("momo"))},
    "outreach_files.set_minor": {"person_id": str(demo_id("momo"))},
    "outreach_files.merge": {"person_id": str(demo_id("momo"))},
    "outreach_files.undo_merge": {"merge_id": 999999},
    "outreach_files.acknowledge_alert": {"alert_id": 999999},
    "outreach_admin.edit_partner": {"partner_id": 1},
    "outreach.maraude_summary": {"maraude_id": str(demo_id("m1"))},
    "outreach.place": {"place_id": str(demo_id("gare-nord"))},
    "notifications.message": {"message_id": 1},
    "notifications.cancel_message": {"message_id": 1},
    "notifications.contact": {"contact_id": 1},
    "notifications.edit_contact": {"contact_id": 1},
    "notifications.consent": {"contact_id": 1},
    "notifications.edit_template": {"code": "appointment_reminder", "language": "fr"},
    "notifications.reset_template": {"code": "appointment_reminder", "language": "fr"},
    "notifications_inbox.inbound": {"inbound_id": 1},
    "notifications_inbox.mark_handled": {"inbound_id": 1},
    "notifications_orphans.give_contact": {"contact_id": 1},
    "notifications_orphans.route_sms": {"inbound_id": 1},
    "notifications_broadcasts.broadcast": {"broadcast_id": 1},
    "notifications_broadcasts.progress": {"broadcast_id": 1},
    "notifications_broadcasts.cancel": {"broadcast_id": 1},
    "appointments_public.manage": {"token": "x"},
    **{
        f"rounds_public.{name}": {"slug": "charleroi-place-de-la-digue"}
        for name in ("page", "poster", "subscribe", "leave", "code", "done")
    },
    "appointments_setup.edit_service": {"service_id": 1},
    "appointments_setup.service_offer": {"service_id": 1},
    "appointments_setup.remove_service": {"service_id": 999999},
    "appointments_setup.give_shared_service": {"service_id": 999999},
    "appointments_setup.split_shared_service": {"service_id": 999999},
    "appointments_setup.edit_location": {"location_id": 1},
    "appointments_setup.end_plan": {"plan_id": 1},
    "appointments_setup.remove_closure": {"closure_id": 999999},
    "appointments_setup.remove_absence": {"absence_id": 999999},
    "appointments_desk.check_in": {"appointment_id": 1},
    "appointments_desk.no_show": {"appointment_id": 1},
    "appointments_desk.done": {"appointment_id": 1},
    "appointments_desk.cancel": {"appointment_id": 1},
    "appointments_desk.call": {"appointment_id": 1},
    "appointments_desk.left": {"appointment_id": 1},
    "appointments_desk.undo": {"appointment_id": 1},
    "appointments_desk.move": {"appointment_id": 1},
    "appointments_desk.slip": {"appointment_id": 1},
    "appointments_public.cancel": {"token": "x"},
    "appointments_public.calendar": {"token": "x"},
    "appointments_public.move": {"token": "x"},
    "homecare_hours.visit": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_hours.mark_done": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_hours.undo_done": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_day.step": {"step": "checkin"},
    "rounds_crew.step": {"step": "arrive"},
    "homecare_board.progress": {"run_id": 999999},
    "homecare_board.proposal": {"run_id": 999999},
    "homecare_board.accept": {"run_id": 999999},
    "homecare_board.change": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_board.warnings": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_board.save_change": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_live.tell_late": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_live.report": {"report_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_live.save_review": {"report_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_open.offer": {"visit_id": str(homecare_id("example-offer-visit"))},
    "homecare_open.make_offer": {"visit_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_open.withdraw": {"offer_id": "00000000-0000-0000-0000-000000000000"},
    "homecare_open.accept": {"offer_id": "00000000-0000-0000-0000-000000000000"},
    "appointments_booking.places": {"service_code": "permanence-sociale"},
    "appointments_booking.nearest": {"service_code": "permanence-sociale"},
    "appointments_booking.times": {
        "service_code": "permanence-sociale",
        "location_code": "bxl-marolles",
    },
    "appointments_booking.waiting": {
        "service_code": "permanence-sociale",
        "location_code": "bxl-marolles",
    },
    "homecare.beneficiary": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.edit_beneficiary": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.location_fix": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare_proof.card": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare_proof.new_card": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.life_book": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.life_book_agreement": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.new_plan": {"beneficiary_id": str(homecare_id("household-0"))},
    "homecare.edit_plan": {"plan_id": str(homecare_id("plan-0"))},
    "homecare.suspend_plan": {"plan_id": str(homecare_id("plan-0"))},
    "homecare.end_suspension": {
        "plan_id": str(homecare_id("plan-0")),
        "suspension_id": "00000000-0000-0000-0000-000000000000",
    },
    "homecare.order_meals": {"plan_id": str(homecare_id("plan-0"))},
    "homecare.aide": {"aide_id": 3},
    "homecare.qualification": {"aide_id": 3},
    "homecare.absence": {"aide_id": 3},
    "rounds.vehicle": {"vehicle_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.stop": {"stop_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.template": {"template_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.add_permanence": {"template_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.remove_permanence": {"permanence_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.meal": {"order_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.cancel_meal": {"order_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.ride": {"ride_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.cancel_ride": {"ride_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.round": {"round_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.round_etas": {"round_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.cancel_round": {"round_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.reoptimise": {"round_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.skip_stop": {
        "round_id": "00000000-0000-0000-0000-000000000000",
        "stop_id": "00000000-0000-0000-0000-000000000000",
    },
    "rounds.restore_stop": {
        "round_id": "00000000-0000-0000-0000-000000000000",
        "stop_id": "00000000-0000-0000-0000-000000000000",
    },
    "rounds.permanence": {"permanence_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.weekly_order": {"weekly_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.end_weekly": {"weekly_id": "00000000-0000-0000-0000-000000000000"},
    "rounds.move_stop": {
        "round_id": "00000000-0000-0000-0000-000000000000",
        "stop_id": "00000000-0000-0000-0000-000000000000",
    },
}


_ROUTES: list[tuple[str, str, str]] = []


def _routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with its sample values) of every route, listed once per
    module (the session's app: the same routes for every test)."""
    if not _ROUTES:
        _ROUTES.extend(_list_routes(app))
    return _ROUTES


def _list_routes(app):
    from flask import url_for

    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        assert set(rule.arguments) <= set(SAMPLE_ARGUMENTS.get(rule.endpoint, {})), (
            f"{rule.endpoint} takes {sorted(rule.arguments)}: add sample values to SAMPLE_ARGUMENTS"
        )
        with app.test_request_context():
            url = url_for(rule.endpoint, **SAMPLE_ARGUMENTS.get(rule.endpoint, {}))
        yield rule.endpoint, method, url


def test_every_view_has_a_decision(app):
    assert undecided_endpoints(app) == []


def test_a_view_without_decision_stops_the_app(connection, database_url, tmp_path):
    from web.permissions import check_all_decided

    app = make_app(connection, database_url, tmp_path)  # its own: a route is added to it
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    with pytest.raises(RuntimeError, match="forgotten"):
        check_all_decided(app)


class _Visitor:
    """A visitor's session cookie (logged in as `username`, or anonymous) and its CSRF
    token, taken once: each route is then requested by a new client carrying that cookie,
    as if just logged in. The login is made again only when a route ended its login
    session (logout)."""

    def __init__(self, app, db, username: str | None = None):
        self.app, self.db, self.username = app, db, username
        self._sign_in()

    def _sign_in(self) -> None:
        client = self.app.test_client()
        self.sid = self.user_id = None
        if self.username:
            self.sid = log_in_directly(client, self.db, self.username)
            self.user_id = accounts.find_user(self.db, self.username).id
        # Any ordinary page carries a token, for visitors and logged-in users alike.
        self.token = csrf_from(client.get("/no-such-page").get_data(as_text=True))
        self.cookie = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"]).value

    def request(self, method: str, url: str):
        client = self.app.test_client()
        client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookie)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={"csrf_token": self.token})
        # Only a POST ends a login session (logout, a password changed, someone deactivated);
        # a GET that did would send the next routes to the login page and fail them.
        if (
            self.sid
            and method != "GET"
            and accounts.login_session_end(self.db, self.user_id, self.sid)
        ):
            self._sign_in()
        return response


# Public, but only for requests signed by Twilio: an unsigned request hears 403.
SIGNED_BY_TWILIO = {"notifications_webhooks.status", "notifications_webhooks.inbound"}


def _public_answer_ok(endpoint: str, status: int) -> bool:
    if endpoint in SIGNED_BY_TWILIO:
        return status == 403
    return status not in (401, 403)


@pytest.mark.parametrize("role", list(Role))
def test_matrix_for_every_route(app, db, role):
    checked = 0
    visitor = _Visitor(app, db, DEMO_USER_FOR_ROLE[role.value])
    for endpoint, method, url in _routes(app):
        response = visitor.request(method, url)
        needed = decision(app, endpoint)
        where = f"{role.value} {method} {url} ({endpoint})"
        if needed == PUBLIC:
            assert _public_answer_ok(endpoint, response.status_code), where
        elif can(role, needed):
            assert response.status_code not in (401, 403), where
            # Sent to the login page to authenticate (logout's own redirect has no ?next=).
            assert not response.headers.get("Location", "").startswith("/login?next="), where
        else:
            assert response.status_code == 403, where
        checked += 1
    assert checked >= 10


def test_anonymous_visitors_reach_only_public_routes(app, db):
    visitor = _Visitor(app, db)
    for endpoint, method, url in _routes(app):
        response = visitor.request(method, url)
        where = f"anonymous {method} {url}"
        if decision(app, endpoint) == PUBLIC:
            assert _public_answer_ok(endpoint, response.status_code), where
        elif url.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.is_json, where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login?next="), where
