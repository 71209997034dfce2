"""The app key's settings QR code in a real headless Chromium (issue 18).

One ``inspect-app serve`` on the demo data. The office opens an inspector's page and
issues a key; the QR code the page draws is read back with a QR decoder (jsQR, in the
page, from the pixels Chromium renders), and what it holds is what ODK Collect takes:
its settings JSON, zlib-deflated and base64-encoded, whose server URL then answers
formList over real HTTP. The pages pass the accessibility check and fit a phone.
"""

import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inspect_app.openrosa import keys
from tests.support.browser import DemoSite, checked, log_in

JSQR = Path(__file__).parent / "xform_engine" / "node_modules" / "jsqr" / "dist" / "jsQR.js"

# Draws the page's QR code (its SVG) on a white canvas at twice its size and decodes it.
DECODE = """async () => {
    const svg = document.querySelector('.app-key-qr svg');
    const xml = new XMLSerializer().serializeToString(svg);
    const image = new Image();
    image.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(xml)));
    await image.decode();
    const size = image.width * 2;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, size, size);
    context.imageSmoothingEnabled = false;
    context.drawImage(image, 0, 0, size, size);
    const pixels = context.getImageData(0, 0, size, size);
    const code = jsQR(pixels.data, size, size);
    return code ? code.data : null;
}"""


@pytest.fixture(scope="module")
def demo(chromium, tmp_path_factory):
    site = DemoSite(tmp_path_factory.mktemp("app_keys")).start()
    yield site
    site.stop()


def test_office_issues_a_key_and_its_qr_code_configures_collect(page, demo):
    if not JSQR.is_file():
        pytest.fail("the QR decoder is not installed: run `make test` (it runs npm ci)")
    # One inspector per screen: each starts without a key.
    username = {"desktop": "insp_east", "phone": "insp_west"}[page.device]
    [(user_id,)] = demo.query("SELECT id FROM users WHERE username = ?", username)
    assert log_in(page, demo.base, "office").status == 302
    page.goto(f"/dashboard/users/{user_id}")
    checked(page, "user-app-key")
    page.get_by_role("button", name="签发采集密钥并显示二维码").click()
    page.wait_for_load_state()
    checked(page, "app-key-shown")
    key_url = page.locator("#key-url").inner_text()
    assert key_url.startswith(f"{demo.base}/openrosa/key/")

    page.add_script_tag(path=str(JSQR))
    payload = page.evaluate(DECODE)
    assert payload, "the QR code on the page did not decode"
    settings = keys.read_settings_payload(payload)
    assert settings["general"]["server_url"] == key_url
    assert settings["general"]["username"] == username

    # What Collect does next: the form list at the server URL it was given.
    request = urllib.request.Request(f"{key_url}/formList", headers={"X-OpenRosa-Version": "1.0"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.headers["X-OpenRosa-Version"] == "1.0"
        forms = ET.fromstring(answer.read())
    assert len(forms) == 5

    # The user page no longer shows the key, and says it is live.
    page.goto(f"/dashboard/users/{user_id}")
    assert "采集密钥有效" in page.locator("#app-key-state").inner_text()
    assert key_url not in page.content()
