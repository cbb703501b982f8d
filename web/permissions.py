"""Every view declares who may see it; one before_request hook enforces it.

A view without a decision is refused (fail closed), create_app() refuses to start
with one, and tests/web/test_permissions.py walks every route with every role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from core.roles import Permission, can

PUBLIC = "public"
View = TypeVar("View", bound=Callable[..., Any])


def requires(permission: Permission) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: View) -> View:
    view.permission = PUBLIC  # type: ignore[attr-defined]
    return view


def decision(app: Flask, endpoint: str) -> Permission | str | None:
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "permission", None)


def undecided_endpoints(app: Flask) -> list[str]:
    return sorted(e for e in app.view_functions if decision(app, e) is None)


def _enforce() -> Any:
    from flask import current_app

    if request.endpoint is None:  # 404 and 405 are answered by the error handlers
        return None
    needed = decision(current_app, request.endpoint)
    if needed is None:
        abort(403)
    if needed == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not can(current_user.role, needed):
        abort(403)
    return None


def _api_login_first() -> None:
    """An API call without a session hears 401 (log in), not a CSRF error: the offline
    JS then knows to ask the user to log in again."""
    from flask import current_app

    if not request.path.startswith("/api/") or request.endpoint is None:
        return
    if decision(current_app, request.endpoint) != PUBLIC and not current_user.is_authenticated:
        abort(401)


def init_app(app: Flask) -> None:
    # Before every other hook, the CSRF check included.
    app.before_request_funcs.setdefault(None, []).insert(0, _api_login_first)
    app.before_request(_enforce)


def check_all_decided(app: Flask) -> None:
    missing = undecided_endpoints(app)
    if missing:
        raise RuntimeError(f"views without a permission decision: {', '.join(missing)}")
