"""Token enrolment from the browser through a real bridge and a SoftHSM token: the administrator starts it
on the certificates page, the official's page has the bridge generate the key on the token (consent and PIN
by the bridge) and sign the CSR, the service issues for the ticket, the bridge writes the certificate and
chain back; coverage rises; the certificate revoked, `openssl ocsp` answers revoked and coverage falls."""

from __future__ import annotations

import base64

import pytest

from tests.integration.service.test_console_certificates import openssl_ocsp
from tests.support.accessibility import low_contrast_texts, save_screenshot, unlabelled_controls
from tests.support.ledger import ROSTER_CSV
from tests.support.pki import build_small_authority
from tests.support.service import PASSWORD, build_service_world
from tests.support.servers import serve_wsgi

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "console-enrol"


@pytest.fixture
def enrol_world(database_url, token_bridge, softhsm):
    from service.wiring import Components

    token = softhsm.create_token(TOKEN)
    authority = build_small_authority(database_url, base_url=token_bridge.page_origin)
    components = Components.build(database_url=database_url, trust_roots=(authority.issuer("root").certificate,),
                                  intermediates=(authority.issuer("gov").certificate,), authority=authority)
    world = build_service_world(database_url, components=components, roster=ROSTER_CSV, mount_pki=True,
                                bridge_url=token_bridge.url)
    world.authority = authority
    world.token = token
    with serve_wsgi(world.app, port=token_bridge.page_port) as url:
        world.base_url = url
        yield world
    # Take the enrolled key and certificate off the shared token, so other tests' bridges list what they expect.
    from token_bridge.keys import delete_objects, list_objects

    for obj in list_objects(token.session):
        if obj.label.startswith("kyso "):
            delete_objects(token.session, key_id=obj.key_id, label=obj.label)
    token_bridge.bridge.catalogue.scan()
    components.dispose()
    authority.store.close()


def test_enrol_a_softhsm_token_from_the_browser_then_revoke(enrol_world, token_bridge, tmp_path):
    from playwright.sync_api import sync_playwright

    base = enrol_world.base_url
    admin = enrol_world.logged_in("admin")

    def department():
        report = admin.get("/api/v1/coverage").json
        return next(a for a in report["levels"][0]["agencies"] if a["code"] == "H26.10")
    assert (department()["covered"], department()["uncovered"]) == (0, 0)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/login?next=/console/certificates")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#enrol-agency option[value='H26.10']", state="attached")
        page.fill("#enrol-cn", "Vũ Minh Khoa")
        page.fill("#enrol-uid", "CCCD:001090077777")
        page.fill("#enrol-o", "Sở Nội vụ Thành phố Hà Nội")
        page.fill("#enrol-t", "Chuyên viên")
        page.fill("#enrol-l", "Hà Nội")
        page.select_option("#enrol-agency", "H26.10")
        page.click("#enrol-start-submit")
        page.wait_for_selector("#enrol-link")
        link = page.inner_text("#enrol-link")

        # On the official's computer (another browser context, logged in as the official).
        official = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        official.goto(f"{base}/login?next=" + link.removeprefix(base).replace("?", "%3F").replace("=", "%3D"))
        official.fill("#username", "official")
        official.fill("#password", PASSWORD)
        official.click("#login-submit")
        official.wait_for_selector(f"#enrol-token option[value='{TOKEN}']", state="attached")
        assert official.inner_text("#enrol-subject dd[data-attribute='common_name']") == "Vũ Minh Khoa"
        assert unlabelled_controls(official) == []
        official.select_option("#enrol-token", TOKEN)
        official.click("#enrol-submit")
        official.wait_for_selector("#enrol-status[data-serial]", timeout=120_000)
        serial = official.get_attribute("#enrol-status", "data-serial")
        assert official.inner_text("#enrol-status") == f"Đã đăng ký xong; chứng thư số {serial}"
        assert low_contrast_texts(official) == []
        save_screenshot(official, "enrolment")
        browser.close()

    # The bridge asked consent naming the page's origin and the holder; the key and certificate are on the token.
    asked = [r for r in token_bridge.consent.requests if r.token_label == TOKEN][-1]
    assert (asked.origin, asked.signer) == (token_bridge.page_origin, "Vũ Minh Khoa")
    assert asked.description.startswith("Tạo cặp khóa mới và ký yêu cầu cấp chứng thư cho Vũ Minh Khoa")
    on_token = [e for e in token_bridge.bridge.certificates() if e.token_label == TOKEN]
    assert [format(e.certificate.serial_number, "x") for e in on_token] == [serial]
    assert [c.subject.native["common_name"] for c in on_token[0].chain] == ["Demo Gov CA (small)", "Demo Root (small)"]
    assert (department()["covered"], department()["uncovered"]) == (1, 0)

    # One ticket, one certificate.
    ticket = link.split("ticket=", 1)[1]
    again = enrol_world.logged_in("official").post(f"/api/v1/enrolments/{ticket}/certificate",
                                                   json={"csr": base64.b64encode(b"x").decode()})
    assert (again.status_code, again.json["message"]) == (409, "this enrolment ticket was already used")

    # The certificate now signs through the bridge like any other (the key never left the token).
    revoked = admin.post(f"/api/v1/certificates/{serial}/revocation", json={"reason": "affiliation_changed"})
    assert revoked.status_code == 200
    judged = openssl_ocsp(enrol_world, admin.get(f"/api/v1/certificates/{serial}").json["pem"], tmp_path)
    assert "cert.pem: revoked" in judged and "Reason: affiliationChanged" in judged
    assert (department()["covered"], department()["uncovered"], department()["revoked"]) == (0, 1, 1)


def test_bridge_refuses_a_certificate_that_is_not_for_the_key(enrol_world, token_bridge):
    import requests

    # A key generated through the HTTP API as a local application would (consent scripted yes).
    answer = requests.post(f"{token_bridge.url}/v1/enrolments/keys", json={
        "token_label": TOKEN, "key_type": "ec",
        "subject": [["country_name", "VN"], ["common_name", "Thử nghiệm"]]}, timeout=60)
    assert answer.status_code == 200, answer.text
    other = enrol_world.authority.issuer("gov").certificate  # any certificate of another key
    refused = requests.post(f"{token_bridge.url}/v1/enrolments/certificates", json={
        "token_label": TOKEN, "key_id": answer.json()["key_id"],
        "certificate": base64.b64encode(other.dump()).decode(), "chain": []}, timeout=60)
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "key_certificate_mismatch"
    bad = requests.post(f"{token_bridge.url}/v1/enrolments/keys", json={"token_label": TOKEN, "subject": [["cn", "x"]]},
                        timeout=60)
    assert (bad.status_code, bad.json()["error"]["message"]) == (400, "Unknown name attribute 'cn'.")
    assert [(r.event, r.outcome, r.error_code) for r in token_bridge.audit.records()[-2:]] == [
        ("enrolment", "key_generated", None), ("enrolment", "failed", "key_certificate_mismatch")]


def test_ticket_needs_its_subject_and_issues_once(enrol_world):

    from ca.requests import build_csr
    from signer.keys import InMemoryKey

    subject = [["country_name", "VN"], ["organization_name", "Sở Nội vụ Thành phố Hà Nội"],
               ["common_name", "Lý Thị Mai"], ["user_id", "CCCD:001090066666"]]
    admin = enrol_world.logged_in("admin")
    refused = admin.post("/api/v1/enrolments", json={"subject": subject[2:], "profile": "personal", "agency_code": "H26.10"})
    assert (refused.status_code, refused.json["message"]) == (
        400, "profile personal requires the subject attribute O")
    started = admin.post("/api/v1/enrolments", json={"subject": subject, "profile": "personal", "agency_code": "H26.10"})
    assert started.status_code == 201, started.json
    ticket = started.json["ticket"]
    official = enrol_world.logged_in("official")
    other = base64.b64encode(build_csr([tuple(p) for p in subject[:3]] + [("user_id", "CCCD:001090055555")],
                                       InMemoryKey.generate_ec())).decode()
    wrong = official.post(f"/api/v1/enrolments/{ticket}/certificate", json={"csr": other})
    assert (wrong.status_code, wrong.json["message"]) == (400, "the CSR's subject differs from the enrolment ticket")
    assert official.get(f"/api/v1/enrolments/{ticket}").json["used"] is False  # a refusal does not use it
    good = base64.b64encode(build_csr([tuple(p) for p in subject], InMemoryKey.generate_ec())).decode()
    issued = official.post(f"/api/v1/enrolments/{ticket}/certificate", json={"csr": good})
    assert issued.status_code == 201, issued.json
    again = official.post(f"/api/v1/enrolments/{ticket}/certificate", json={"csr": good})
    assert (again.status_code, again.json["message"]) == (409, "this enrolment ticket was already used")
    forged = official.post(f"/api/v1/enrolments/{ticket[:-3]}abc/certificate", json={"csr": good})
    assert (forged.status_code, forged.json["message"]) == (400, "the enrolment ticket is invalid or expired")
    assert enrol_world.client().post(f"/api/v1/enrolments/{ticket}/certificate", json={"csr": good}).status_code == 401
    assert official.post("/api/v1/enrolments", json={"subject": subject, "profile": "personal",
                                                     "agency_code": "H26.10"}).status_code == 403
