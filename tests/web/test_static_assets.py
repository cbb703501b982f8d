"""Issue 20's app shell: static files minified under content-hashed names with a year's
cache, gzip when the browser takes it, the service worker's list on the hashed names."""

from __future__ import annotations

import gzip
import json
import re

from core.config import PROJECT_ROOT
from web import assets
from web.pwa import SHELL_STATIC, shell_version

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
STATIC = re.compile(r'(?:src|href)="(/static/[^"#]+)')
HASHED = re.compile(r"\.[0-9a-f]{10}\.\w+$")


def hashed_url(app, name: str) -> str:
    """The address pages give static/`name` (the build's manifest)."""
    return "/static/" + app.extensions["terrain_assets"].names[name]


def test_pages_load_every_static_file_by_its_hashed_name(login, client):
    for response in (client.get("/login"), login("rue1").get("/")):
        files = STATIC.findall(response.get_data(as_text=True))
        assert files and all(HASHED.search(path) for path in files), files


def test_a_hashed_file_is_cached_for_a_year_and_sent_gzipped_when_asked(app, client):
    url = hashed_url(app, "js/offline/engine.js")
    assert HASHED.search(url), url
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert plain.mimetype == "text/javascript"
    packed = client.get(url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Cache-Control"] == plain.headers["Cache-Control"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    # Revalidation of the compressed copy answers 304.
    again = client.get(url, headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


def test_built_scripts_and_styles_are_minified(app):
    for name in ("js/offline/engine.js", "js/app.js", "css/terrain.css"):
        source = (PROJECT_ROOT / "static" / name).read_bytes()
        built = (assets.BUILD_DIR / hashed_url(app, name).removeprefix("/static/")).read_bytes()
        assert len(built) < len(source) * 0.85, name
        assert b"/*" not in built.replace(b"/*!", b""), name


def test_the_plain_address_still_works_and_is_revalidated(app, client):
    response = client.get("/static/js/app.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    hashed = client.get(hashed_url(app, "js/app.js"), headers=GZIP)
    assert response.get_data() == hashed.get_data()
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/js/app.0000000000.js").status_code == 404


def test_pages_are_gzipped_when_asked_and_tiny_answers_are_not(client, login):
    page = client.get("/login", headers=GZIP)
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert b"<html" in gzip.decompress(page.get_data())
    assert "Content-Encoding" not in client.get("/login").headers
    home = login("rue1").client.get("/", headers=GZIP)
    assert home.headers["Content-Encoding"] == "gzip"
    tiny = client.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in tiny.headers and tiny.get_json()["status"] == "ok"


def test_the_service_worker_caches_the_hashed_names(app, client):
    worker = client.get("/sw.js", headers=GZIP)
    body = gzip.decompress(worker.get_data()).decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert shell == [hashed_url(app, name) for name in SHELL_STATIC]
    assert all(HASHED.search(url) for url in shell), shell
    for url in shell:
        assert client.get(url).status_code == 200, url
    with app.test_request_context():
        assert f'const VERSION = "{shell_version()}";' in body
    # The version follows the manifest: another build, another cache name.
    manifest = app.extensions["terrain_assets"]
    digest, manifest.digest = manifest.digest, "0123456789ab"
    try:
        with app.test_request_context():
            assert f'const VERSION = "{shell_version()}";' not in body
    finally:
        manifest.digest = digest


def test_the_build_picks_up_new_and_changed_files(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "js" / "new").mkdir(parents=True)
    (source / "js" / "new" / "page.js").write_text("// a comment\nvar answer = 42 ;\n" * 40)
    first = assets.build(source, target)
    name = first.names["js/new/page.js"]
    assert HASHED.search(name) and (target / name).read_text().startswith("var answer=42;")
    assert (target / f"{name}.gz").is_file()
    (source / "css").mkdir()
    (source / "css" / "extra.css").write_text("a { color : red ; }\n")
    (source / "js" / "new" / "page.js").write_text("var answer = 43;\n")
    second = assets.build(source, target)
    assert "css/extra.css" in second.names and second.digest != first.digest
    assert second.names["js/new/page.js"] != name
    assert (target / second.names["css/extra.css"]).read_text() == "a{color:red}"
    assert assets.build(source, target).digest == second.digest


def test_pages_of_nobody_may_enter_the_back_forward_cache_and_personal_ones_not(client, login):
    assert client.get("/login").headers["Cache-Control"] == "private, no-cache"
    assert client.get("/offline").headers["Cache-Control"] == "no-cache"
    # A refused login shows the typed name; a user's page, their data.
    refused = client.post("/login", data={"username": "nobody", "password": "x"})
    assert refused.headers["Cache-Control"] == "no-store"
    assert login("rue1").client.get("/").headers["Cache-Control"] == "no-store"


def test_the_shell_scripts_come_in_one_file_in_their_order(app, client):
    """app.js and the small page scripts every page loads: one request (web/assets.py
    BUNDLES), their minified code one after the other; the parts stay served alone."""
    page = client.get("/login").get_data(as_text=True)
    scripts = re.findall(r'<script src="(/static/[^"]+)"', page)
    bundle = hashed_url(app, "js/shell.js")
    assert bundle in scripts and not any("/app." in src or "/desk." in src for src in scripts)
    body = client.get(bundle, headers=GZIP)
    assert body.headers["Content-Encoding"] == "gzip"
    assert body.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    code = gzip.decompress(body.get_data())
    parts = [
        (assets.BUILD_DIR / hashed_url(app, part).removeprefix("/static/")).read_bytes().strip()
        for part in assets.BUNDLES["js/shell.js"]
    ]
    assert code == b"\n".join(parts)
    assert client.get(hashed_url(app, "js/appointments/desk.js")).status_code == 200
