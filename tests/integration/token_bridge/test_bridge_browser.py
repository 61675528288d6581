"""A real headless Chromium: a page of an allowed origin lists certificates and signs through
kyso-bridge.js; the same page from a foreign origin is refused; a rebinding name (foreign Host) is refused."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from werkzeug.wrappers import Response

from tests.support.servers import free_port, serve_wsgi
from token_bridge.catalogue import certificate_id

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DOCUMENT = "Quyết định 88/QĐ-UBND về kế hoạch chuyển đổi số".encode()
DIGEST_B64 = base64.b64encode(hashlib.sha256(DOCUMENT).digest()).decode()
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _page_app(bridge_url: str):
    html = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Văn bản</title>
<script src="{bridge_url}/kyso-bridge.js"></script></head>
<body><h1>Ký văn bản</h1><ul id="certificates"></ul><p id="result"></p>
<script>
async function signFirst(kind, scheme) {{
  const bridge = new KysoBridge({{ baseUrl: "{bridge_url}", lang: "vi" }});
  try {{
    const certificates = await bridge.listCertificates();
    for (const c of certificates) {{
      const li = document.createElement("li"); li.textContent = c.kind + ": " + c.identity.common_name;
      document.getElementById("certificates").appendChild(li);
    }}
    const chosen = certificates.find(c => c.kind === kind);
    const result = await bridge.signDigest({{ certificateId: chosen.id, digest: "{DIGEST_B64}",
      digestAlgorithm: "sha256", signatureAlgorithm: scheme,
      description: "Quyết định 88/QĐ-UBND (trang thử nghiệm)" }});
    document.getElementById("result").textContent = "Đã ký";
    return {{ ok: true, id: chosen.id, names: certificates.map(c => c.identity.common_name), result }};
  }} catch (error) {{
    document.getElementById("result").textContent = error.message;
    return {{ ok: false, code: error.code, message: error.message, messageEn: error.messageEn,
              isBridgeError: error instanceof KysoBridgeError, status: error.status }};
  }}
}}
async function signText(text) {{
  // the page hashes with WebCrypto and hands kyso-bridge.js an ArrayBuffer
  const bridge = new KysoBridge({{ baseUrl: "{bridge_url}", lang: "en" }});
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const chosen = (await bridge.listCertificates()).find(c => c.kind === "agency");
  return await bridge.signDigest({{ certificateId: chosen.id, digest: digest, digestAlgorithm: "sha256",
    signatureAlgorithm: "ecdsa", description: "Công văn (WebCrypto)" }});
}}
</script></body></html>"""

    def app(environ, start_response):
        return Response(html, mimetype="text/html")(environ, start_response)

    return app


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=CHROMIUM_ARGS + ["--host-resolver-rules=MAP rebind.example 127.0.0.1"])
        yield browser
        browser.close()


def test_allowed_page_lists_certificates_and_gets_a_signature(browser, token_bridge, personal_rsa_token):
    with serve_wsgi(_page_app(token_bridge.url), port=token_bridge.page_port) as page_url:
        page = browser.new_page()
        try:
            page.goto(page_url + "/")
            outcome = page.evaluate("signFirst('personal', 'rsassa_pkcs1v15')")
            assert outcome["ok"] is True, outcome
            assert "Nguyễn Thị Thu Hà" in outcome["names"]
            assert outcome["id"] == certificate_id(personal_rsa_token.certificate)
            signature = base64.b64decode(outcome["result"]["signature"])
            cx509.load_der_x509_certificate(personal_rsa_token.certificate_der).public_key().verify(
                signature, DOCUMENT, padding.PKCS1v15(), hashes.SHA256())
            assert page.text_content("#result") == "Đã ký"
            assert "personal: Nguyễn Thị Thu Hà" in page.text_content("#certificates")
        finally:
            page.close()
    record = token_bridge.audit.records()[-1]
    assert (record.outcome, record.origin) == ("signed", token_bridge.page_origin)
    assert "Chrome" in record.client
    assert token_bridge.consent.requests[-1].description == "Quyết định 88/QĐ-UBND (trang thử nghiệm)"


def test_same_page_from_a_foreign_origin_is_refused(browser, token_bridge):
    foreign_port = free_port()
    signed_before = len([r for r in token_bridge.audit.records() if r.outcome == "signed"])
    with serve_wsgi(_page_app(token_bridge.url), port=foreign_port):
        page = browser.new_page()
        statuses = []
        page.on("response", lambda response: statuses.append((response.url, response.status)))
        try:
            page.goto(f"http://localhost:{foreign_port}/")
            outcome = page.evaluate("signFirst('personal', 'rsassa_pkcs1v15')")
        finally:
            page.close()
    assert outcome == {
        "ok": False, "code": "bridge_unreachable", "isBridgeError": True, "status": 0,
        "message": f"Không kết nối được cầu nối ký số tại {token_bridge.url}: chương trình chưa chạy, "
                   "hoặc trang này không được phép sử dụng.",
        "messageEn": f"Cannot reach the token bridge at {token_bridge.url}: it is not running, "
                     "or this page is not allowed to use it.",
    }
    # fetch hides the 403 from the page (no CORS headers); the bridge's audit log shows it refused the origin
    refused = [r for r in token_bridge.audit.records() if r.event == "request_refused"][-1]
    assert (refused.origin, refused.error_code, refused.outcome) == (
        f"http://localhost:{foreign_port}", "origin_refused", "refused")
    assert refused.description == f"GET /v1/certificates (Host: {token_bridge.url[len('http://'):]})"
    assert (f"{token_bridge.url}/v1/certificates", 403) not in statuses
    assert len([r for r in token_bridge.audit.records() if r.outcome == "signed"]) == signed_before


def test_dns_rebinding_name_is_refused(browser, token_bridge):
    port = token_bridge.settings.port
    page = browser.new_page()
    try:
        response = page.goto(f"http://rebind.example:{port}/v1/certificates")
        assert response.status == 421
        assert response.json()["error"]["code"] == "host_refused"
        assert response.json()["error"]["message"] == (
            f"Host 'rebind.example:{port}' does not name this bridge; use {token_bridge.url}.")
        refused = [(r.error_code, r.description) for r in token_bridge.audit.records() if r.event == "request_refused"]
        assert ("host_refused", f"GET /v1/certificates (Host: rebind.example:{port})") in refused
    finally:
        page.close()


def test_refused_consent_reaches_the_page_as_a_vietnamese_error(browser, token_bridge):
    token_bridge.consent.answers.append(False)
    with serve_wsgi(_page_app(token_bridge.url), port=token_bridge.page_port) as page_url:
        page = browser.new_page()
        try:
            page.goto(page_url + "/")
            outcome = page.evaluate("signFirst('agency', 'ecdsa')")
            shown = page.text_content("#result")
        finally:
            page.close()
    assert outcome == {"ok": False, "code": "consent_refused", "message": "Người dùng đã từ chối ký.",
                       "messageEn": "The user refused to sign.", "isBridgeError": True, "status": 403}
    assert shown == "Người dùng đã từ chối ký."


def test_page_hashes_with_webcrypto_and_signs_an_array_buffer(browser, token_bridge, agency_ec_token):
    from cryptography.hazmat.primitives.asymmetric import ec

    text = "Công văn số 9/UBND-VP gửi các phường"
    with serve_wsgi(_page_app(token_bridge.url), port=token_bridge.page_port) as page_url:
        page = browser.new_page()
        try:
            page.goto(page_url + "/")
            result = page.evaluate("signText", text)
        finally:
            page.close()
    cx509.load_der_x509_certificate(agency_ec_token.certificate_der).public_key().verify(
        base64.b64decode(result["signature"]), text.encode(), ec.ECDSA(hashes.SHA256()))
    assert [base64.b64decode(c) for c in result["chain"]] == [c.dump() for c in agency_ec_token.chain]
