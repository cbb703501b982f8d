"""What the offline JavaScript needs from the server: which scripts a page loads, and
their texts in the page's language.

The phone's offline app is the outbox engine (static/js/offline/engine.js, generic) and
one module per domain that declares its op types and screens (MODULES). A page loads
the engine and the modules of the user's role only when that role's work is synced:
the other roles' pages carry none of it.

The texts travel in each page as a JSON data block (not a script: the CSP allows none
inline), so a page the service worker kept offline speaks the language it was
loaded in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import sync
from core.roles import Permission, can

# The generic engine: the outbox, sending, downloading, the indicator, the wipe.
ENGINE = "js/offline/engine.js"


@dataclass(frozen=True)
class OfflineModule:
    """A domain's part of the phone's offline app: its script, who loads it, its words."""

    script: str  # under static/, loaded after the engine
    permission: Permission  # the roles holding it load the module
    texts: Callable[[], dict[str, str]]  # its sentences, added to the engine's
    labels: Callable[[], dict[str, dict[str, Any]]]  # {"fields": …, "choices": …} of its ops
    pages: Callable[[], list[str]]  # the offline views the worker keeps for its users


def modules_for(role: str) -> list[OfflineModule]:
    return [module for module in MODULES if can(role, module.permission)]


def scripts() -> list[str]:
    """The offline scripts of this page (under static/): the engine, then the modules of
    the user's role; none for a role whose work is not synced, but on /sync."""
    if not current_user.is_authenticated:
        return []
    mine = [module.script for module in modules_for(current_user.role)]
    if mine or sync.role_syncs(current_user.role) or request.endpoint == "sync.outbox":
        return [ENGINE, *mine]
    return []


def all_scripts() -> list[str]:
    """Every offline script, whoever the user (the service worker's version follows them)."""
    return [ENGINE, *(module.script for module in MODULES)]


def texts(part: str = "sentences") -> dict[str, Any]:
    """Sentences of the engine and of the user's modules; "{n}" and "{time}" are filled
    in by the JS.

    `texts("labels")` gives instead the names of the fields and choices of the ops,
    for the pages that show an op's content (/sync, /outreach/).
    """
    if part == "labels":
        return labels()
    words = engine_texts()
    for module in modules_for(current_user.role) if current_user.is_authenticated else []:
        words.update(module.texts())
    words["pages"] = offline_pages()
    return words


def engine_texts() -> dict[str, str]:
    """Sentences of static/js/offline/engine.js."""
    return {
        "all_sent": _("Everything is sent"),
        "pending_one": _("1 waiting"),
        "pending_many": _("%(count)s waiting", count="{n}"),
        "problems_one": _("1 to correct"),
        "problems_many": _("%(count)s to correct", count="{n}"),
        "offline_since": _("Offline since %(time)s", time="{time}"),
        "saved_offline": _("Saved on this phone. It is sent as soon as there is a network."),
        "sent": _("Saved and sent."),
        "sending": _("Sending…"),
        "nothing_waiting": _("Nothing is waiting on this phone."),
        "login_again": _(
            "Your session has ended. Log in again to send what this phone holds: nothing is lost."
        ),
        "log_in": _("Log in"),
        "logout_blocked": _(
            "This phone holds changes that are not sent yet. Send them first, or "
            "discard them knowingly before logging out."
        ),
        "discard_and_logout": _("Discard them and log out"),
        "discard": _("Discard"),
        "discard_confirm": _("Discard this change for good? It will not be sent."),
        "rejected": _("Not accepted"),
        "conflict": _("Changed by somebody else meanwhile"),
        "keep_mine": _("Keep my version"),
        "keep_theirs": _("Keep the saved version"),
        "your_version": _("Your version"),
        "their_version": _("Version on the server"),
        "waiting": _("Waiting"),
        "error_retry": _("Sending failed; it will be tried again."),
        # Reused msgids of the pages (already translated there).
        "send_now": _("Send now"),
        "required": _("This is needed."),
        "fix_fields": _("Some fields need a correction. Nothing was lost."),
        # New sentences of the offline JS.
        "cancel": _("Cancel"),
        "correct": _("Correct"),
        "correct_title": _("Correct the change"),
        "made_at": _("Made on %(time)s", time="{time}"),
        "draft_missing": _("This change is no longer on this phone."),
        "sent_all": _("Everything this phone held is sent."),
        "not_sent_yet": _("Not sent yet: there is no network. It is tried again on its own."),
        "problems_to_correct": _("Some changes need you: see below."),
        "kept_theirs": _("The saved version is kept; your change is discarded."),
        "kept_mine": _("Your version is saved; it is sent now."),
        "too_large": _("This change is too large to be sent."),
        # The header's words on a phone ("Offline · 3 waiting").
        "state_online": _("Online"),
        "state_offline": _("Offline"),
        "all_sent_short": _("all sent"),
        # Numbers and durations, for the modules' pages.
        "minutes": _("%(minutes)s min", minutes="{n}"),
        "hours_minutes": _("%(hours)s h %(minutes)s", hours="{h}", minutes="{m}"),
    }


def offline_pages() -> list[str]:
    """The per-user offline views the service worker keeps ready for this user."""
    if not current_user.is_authenticated:
        return []
    pages = []
    for module in modules_for(current_user.role):
        pages += module.pages()
    if can(current_user.role, Permission.SYNC):
        pages.append(url_for("sync.outbox"))
    return pages


def labels() -> dict[str, Any]:
    """Field names and choice labels of the user's modules' ops, for showing an op."""
    merged: dict[str, Any] = {"fields": {}, "choices": {}}
    for module in modules_for(current_user.role) if current_user.is_authenticated else []:
        for part, names in module.labels().items():
            merged[part].update(names)
    return merged


# Each domain's offline module, from its WebDomain (web/plugins.install_web).
MODULES: list[OfflineModule] = []


def install(modules: list[OfflineModule]) -> None:
    """Take the domains' offline modules (idempotent)."""
    MODULES[:] = modules
