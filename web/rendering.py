"""Full pages or htmx partials from the same view (Hypermedia Systems style)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request


def wants_partial() -> bool:
    """An htmx request that swaps part of a page (boosted navigations get whole pages)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def render(template: str, partial: str | None = None, status: int = 200, **context: Any) -> Any:
    """Render `template`, or only `partial` when htmx asked for a fragment."""
    chosen = partial if partial is not None and wants_partial() else template
    return render_template(chosen, **context), status


def _vary_on_htmx(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # Pages may hold personal data: never keep them in a shared or disk cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_htmx)
    app.after_request(_security_headers)
