"""With one CPAS nothing is of no CPAS: a contact of no team and an SMS of no contact are
that CPAS's, seen by its local roles too (as before), and an SMS from an unknown number
gets the neutral answer (docs/cpas.md, "Contacts and SMS of no CPAS")."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core import accounts, clock, organisations
from core.db import make_engine, make_session_factory
from core.roles import Role
from notifications import contacts, orphans, replies, scope, texts
from notifications.models import Contact, InboundSms
from tests.support import migrated_database, staff_member


def test_with_one_cpas_a_contact_of_no_team_stays_its_own():
    with (
        migrated_database("orphans-one") as url,
        clock.frozen(datetime(2026, 3, 10, 9, tzinfo=UTC)),
    ):
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            organisations.create_cpas(
                session,
                code="ottignies",
                name_fr="CPAS d'Ottignies",
                region="wallonia",
                language_regime="fr",
            )
            for code in ("ott-centre", "ott-nord"):
                accounts.create_team(
                    session,
                    code=code,
                    name=code,
                    kind="antenne",
                    cpas_code="ottignies",
                    city="Ottignies",
                )
            reception = staff_member(
                session, "ott-accueil", Role.RECEPTION, "ott-centre", "Accueil"
            )
            admin = staff_member(session, "ott-admin", Role.ADMIN, "ott-centre", "Admin")
            orphan = contacts.create_contact(
                session,
                actor=None,
                display_name="Sans équipe",
                language="fr",
                phones=["0470 97 88 01"],
            )
            other = contacts.create_contact(
                session,
                actor=None,
                display_name="Nord",
                language="fr",
                phones=["0470 97 88 02"],
                team_ids=[accounts.get_team(session, "ott-nord").id],
            )
            result = replies.handle_inbound(
                session, provider_id="SMone-1", from_number="+32470978803", body="Bonjour"
            )
            old = InboundSms(
                provider_id="SMone-old", from_e164="+32470978804", body="Avant", outcome="inbox"
            )  # an SMS kept from before this rule: no CPAS on it
            session.add(old)
            session.commit()
            assert result.inbound.cpas_id == organisations.get_cpas(session, "ottignies").id
            assert result.reply == texts.render(session, "reply_received", None, {})[0]
            seen = set(session.scalars(scope.visible_contact_ids(session, reception)))
            assert orphan.id in seen and other.id not in seen  # its antenne's, and no team's
            inbox = set(
                session.scalars(
                    select(InboundSms.id).where(scope.inbound_filter(session, reception))
                )
            )
            assert {result.inbound.id, old.id} <= inbox
            # Nothing is of no CPAS: no page lists them (the administrator sees them).
            assert orphans.orphans_page(session, admin) is None
            assert orphans.orphans_page(session, reception) is None
            assert orphan.id in set(session.scalars(scope.visible_contact_ids(session, admin)))
            assert session.get(Contact, orphan.id).teams == []
        engine.dispose()
