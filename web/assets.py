"""Static files as browsers get them: minified, named after their content, precompressed.

`build()` copies every file under static/ into BUILD_DIR as `name.<hash>.ext` (scripts and
style sheets minified with rjsmin/rcssmin, text files also gzip-compressed beside them as
`.gz`) and writes manifest.json, {"js/app.js": "js/app.1a2b3c4d5e.js", …}. It runs at app
start (only the files whose source changed are built again: a new file of a domain is
picked up by the next start) and from `make assets` / `terrain assets`; no network.
The build is not committed (.gitignore): a clean clone builds it on first start.

`url_for("static", filename="js/app.js")` (or `asset_url` in templates) then gives the
hashed address, served with a year-long immutable cache; the plain address keeps working
with a revalidated cache (old service workers, an old page). A file missing from the
manifest (added while the server runs) is served from static/ as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mimetypes
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    request,
    send_file,
    send_from_directory,
    url_for,
)

from core.config import PROJECT_ROOT

log = logging.getLogger(__name__)

SOURCE_DIR = PROJECT_ROOT / "static"
BUILD_DIR = PROJECT_ROOT / ".static-build"
# Bump when the build's output changes for the same sources (minifier options…).
BUILD_FORMAT = "1"
YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
# Text worth compressing; images (PNG) already are.
COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".txt", ".map", ".webmanifest", ".html"}
# Below this, gzip saves less than a packet's worth and costs a header.
MIN_COMPRESS = 512
# Scripts every page loads, built into one file (one request instead of six: on a slow
# phone network each request costs a round trip before the page is complete, and
# Lighthouse's LCP counts every script asked for before the largest paint). In order.
BUNDLES = {
    "js/shell.js": (
        "js/app.js",
        # Small page scripts: a boosted swap runs no page <script>, so they are loaded
        # everywhere, and each does nothing on pages without its markup.
        "js/appointments/desk.js",
        "js/appointments/booking.js",
        "js/print.js",
        "js/homecare/records.js",
        "js/homecare/board.js",
        "js/homecare/live.js",
        "js/rounds/live.js",
    ),
}


@dataclass
class Manifest:
    """What the build made: source path → hashed path, and the way back."""

    names: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # source path → source digest
    hashed: dict[str, str] = field(default_factory=dict)  # hashed path → source path
    digest: str = ""  # changes whenever any built file does

    @classmethod
    def of(cls, names: dict[str, str], sources: dict[str, str]) -> Manifest:
        hashed = {built: source for source, built in names.items()}
        digest = hashlib.sha256(json.dumps(names, sort_keys=True).encode()).hexdigest()[:12]
        return cls(names=names, sources=sources, hashed=hashed, digest=digest)


def _minify(path: Path, body: bytes) -> bytes:
    """A script or style sheet without comments and spaces (licence comments kept)."""
    name = path.name
    if name.endswith(".min.js") or name.endswith(".min.css"):
        return body
    if path.suffix == ".js":
        import rjsmin

        return rjsmin.jsmin(body.decode("utf-8"), keep_bang_comments=True).encode("utf-8")
    if path.suffix == ".css":
        import rcssmin

        return rcssmin.cssmin(body.decode("utf-8"), keep_bang_comments=True).encode("utf-8")
    return body


def _hashed_name(relative: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:10]
    stem, dot, suffix = relative.rpartition(".")
    if not dot or "/" in suffix:
        return f"{relative}.{digest}"
    return f"{stem}.{digest}.{suffix}"


def _write(path: Path, body: bytes) -> None:
    """Write atomically: two workers building at once never show a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(body)
    os.chmod(temporary, 0o644)  # mkstemp makes it private; any server user reads it
    os.replace(temporary, path)


def _source_files(source: Path) -> list[Path]:
    return sorted(
        path
        for path in source.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(source).parts)
    )


def _read_manifest(build: Path) -> dict[str, Any]:
    try:
        data = json.loads((build / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if data.get("format") == BUILD_FORMAT else {}


def build(source: Path = SOURCE_DIR, target: Path = BUILD_DIR) -> Manifest:
    """Build what changed since the last build, and return the manifest."""
    previous = _read_manifest(target)
    old_names: dict[str, str] = previous.get("files", {})
    old_sources: dict[str, str] = previous.get("sources", {})
    names: dict[str, str] = {}
    sources: dict[str, str] = {}
    for path in _source_files(source):
        relative = path.relative_to(source).as_posix()
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        sources[relative] = digest
        built = old_names.get(relative)
        if built and old_sources.get(relative) == digest and (target / built).is_file():
            names[relative] = built
            continue
        output = _minify(path, body)
        built = _hashed_name(relative, output)
        _write(target / built, output)
        if path.suffix in COMPRESSIBLE and len(output) >= MIN_COMPRESS:
            packed = gzip.compress(output, compresslevel=9, mtime=0)
            if len(packed) < len(output) * 0.9:
                _write(target / f"{built}.gz", packed)
        names[relative] = built
    for bundle, parts in BUNDLES.items():
        if not all(part in names for part in parts):
            continue
        digest = hashlib.sha256("".join(sources[part] for part in parts).encode()).hexdigest()
        sources[bundle] = digest
        built = old_names.get(bundle)
        if built and old_sources.get(bundle) == digest and (target / built).is_file():
            names[bundle] = built
            continue
        output = b"\n".join((target / names[part]).read_bytes().rstrip() for part in parts)
        built = _hashed_name(bundle, output)
        _write(target / built, output)
        _write(target / f"{built}.gz", gzip.compress(output, compresslevel=9, mtime=0))
        names[bundle] = built
    if names != old_names or sources != old_sources:
        body = {"format": BUILD_FORMAT, "files": names, "sources": sources}
        _write(target / "manifest.json", json.dumps(body, indent=1, sort_keys=True).encode())
    return Manifest.of(names, sources)


def _manifest() -> Manifest:
    return current_app.extensions["terrain_assets"]


def manifest_digest() -> str:
    """Changes whenever a built file does (the service worker's version follows it)."""
    return _manifest().digest or "unbuilt"


def _hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    # Every url_for("static", …) of the app gives the hashed name when there is one.
    if endpoint == "static" and not values.get("_plain"):
        filename = values.get("filename")
        built = _manifest().names.get(filename) if isinstance(filename, str) else None
        if built:
            values["filename"] = built
    values.pop("_plain", None)


def asset_url(path: str) -> str:
    """The address of static/`path`: its content-hashed name once built."""
    return url_for("static", filename=path)


def expand(path: str) -> list[str]:
    """A bundle (BUNDLES): itself once built, else its parts; any other path: itself."""
    if path not in BUNDLES or path in _manifest().names:
        return [path]
    return list(BUNDLES[path])


def plain_url(path: str) -> str:
    """The unhashed address of static/`path` (kept working for old pages and workers)."""
    return url_for("static", filename=path, _plain=True)


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _send_built(built: str, cache_control: str) -> Response:
    path = BUILD_DIR / built
    if not path.is_file():
        abort(404)
    mimetype = mimetypes.guess_type(built)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype == "application/javascript":
        mimetype += "; charset=utf-8"
    packed = path.with_name(path.name + ".gz")
    compressed = packed.is_file()
    if compressed and _accepts_gzip():
        response = send_file(packed, mimetype=mimetype, conditional=True, etag=True)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_file(path, mimetype=mimetype, conditional=True, etag=True)
    if compressed:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache_control
    return response


def serve_static(filename: str) -> Response:
    """/static/…: a hashed name for a year, a plain name revalidated, else static/ as is."""
    manifest = _manifest()
    if filename in manifest.hashed:
        return _send_built(filename, IMMUTABLE)
    built = manifest.names.get(filename)
    if built:
        return _send_built(built, "no-cache")
    response = send_from_directory(SOURCE_DIR, filename, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    """Build what changed, hash url_for("static") and serve the built files."""
    try:
        manifest = build()
    except (OSError, ImportError) as error:  # read-only install, minifier missing: plain files
        log.warning("static files not built (%s): served unhashed", error)
        sources = {
            path.relative_to(SOURCE_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in _source_files(SOURCE_DIR)
        }
        manifest = Manifest.of({}, sources)
        manifest.digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[
            :12
        ]
    app.extensions["terrain_assets"] = manifest
    app.url_defaults(_hash_static_urls)
    app.view_functions["static"] = serve_static
    app.jinja_env.globals["asset_url"] = asset_url
    app.jinja_env.globals["bundle_scripts"] = expand
