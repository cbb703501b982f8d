"""A minibus stop's public page on a phone (360 px, axe-core) and its poster: printed to
PDF by Chromium it is one A4 page, and its QR code, as Chromium draws it, decodes to
the page's address (decoded in the page with the vendored jsQR 1.4.0,
static/vendor/jsqr/jsQR.js; nothing leaves the machine).

The demo's stop "Charleroi, place de la Digue" (rounds/demo.py) on the shared live
server.
"""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.helpers import check_page, new_phone_context

pytestmark = pytest.mark.browser

SLUG = "charleroi-place-de-la-digue"

DECODE = """async (png) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const found = jsQR(pixels.data, pixels.width, pixels.height);
  return found ? found.data : null;
}"""


def test_the_stop_page_and_the_sms_form_at_360_px(page: Page, live_server: str):
    page.goto(f"{live_server}/arret/{SLUG}")
    assert page.locator("h1").inner_text().startswith("Le minibus à Charleroi")
    assert "CPAS de Charleroi" in page.inner_text("main")
    check_page(page)
    page.get_by_role("link", name="Recevoir des SMS pour cet arrêt").click()
    page.wait_for_url(f"**/arret/{SLUG}/sms")
    check_page(page)
    page.get_by_label("Votre numéro de GSM").fill("02 512 34 56")  # a landline
    page.get_by_role("button", name="M'envoyer un code par SMS").click()
    assert page.locator(".error").count() >= 1
    check_page(page)


def test_the_poster_prints_on_one_a4_page_with_a_qr_code_to_the_page(
    chromium: Browser, live_server: str
):
    context = new_phone_context(chromium, live_server, viewport={"width": 794, "height": 1123})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/arret/{SLUG}/affiche")
        pdf = page.pdf(format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
        assert pages == 1, f"the poster prints on {pages} pages"
        page.emulate_media(media="print")
        png = page.locator(".poster-qr svg").screenshot()
        page.add_script_tag(url=f"{live_server}/static/vendor/jsqr/jsQR.js")
        decoded = page.evaluate(DECODE, base64.b64encode(png).decode())
        assert decoded == f"{live_server}/arret/{SLUG}"
    finally:
        context.close()
