"""Full pages or htmx partials from the same view (Hypermedia Systems style), and the
headers every response gets: security, cache, compression."""

from __future__ import annotations

import gzip
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
        # Pages may hold personal data (a user's, or a citizen's behind a public link):
        # never in a shared or disk cache, and so not in the back/forward cache either,
        # so that Back after logging out on a shared phone shows no one's file. The few
        # pages of nobody say otherwise themselves (/login, /offline).
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# What is worth compressing when the app answers itself (static files come precompressed,
# web/assets.py); event streams and file downloads are streamed and never touched.
COMPRESSIBLE = {
    "text/html",
    "text/plain",
    "text/css",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/problem+json",
    "image/svg+xml",
}
# Below this, gzip saves less than it costs (header, CPU); most htmx fragments stay plain.
MIN_COMPRESS = 1024


def _compress(response: Response) -> Response:
    """gzip a generated answer when the client takes it.

    BREACH (guessing a secret from compressed sizes) needs the attacker's requests to
    carry the victim's session: the session cookie is SameSite=Lax, so another site's
    requests reach only pages of nobody, and no page may be framed.
    """
    if response.mimetype not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or not 200 <= response.status_code < 300
        or request.method == "HEAD"
        or request.accept_encodings.quality("gzip") <= 0
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESS:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-gzip", weak)
    return response


def init_app(app: Flask) -> None:
    # after_request runs last-registered first: compression comes after every header.
    app.after_request(_compress)
    app.after_request(_vary_on_htmx)
    app.after_request(_security_headers)
