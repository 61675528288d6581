"""The console's certificate page and API on a real CA (EC root, issuing CA "gov", delegated OCSP) served
with the service: the profile's checks of a CSR shown before issuing (a bad subject refused, nothing
issued), issue, see coverage rise, view (identity, extensions, chain, OCSP now), revoke with an RFC 5280
reason after a confirmation naming the holder, `openssl ocsp` answers revoked, coverage falls; renew;
publish a CRL; every action in the history. Chromium drives the page (Playwright)."""

from __future__ import annotations

import subprocess

import pytest
from asn1crypto import pem

from ca.requests import build_csr
from signer.keys import InMemoryKey
from tests.support.accessibility import low_contrast_texts, save_screenshot, unlabelled_controls
from tests.support.ledger import ROSTER_CSV
from tests.support.pki import build_small_authority
from tests.support.service import PASSWORD, build_service_world
from tests.support.servers import free_port, serve_wsgi

pytestmark = [pytest.mark.integration]

SUBJECT = [("country_name", "VN"), ("organization_name", "Sở Nội vụ Thành phố Hà Nội"),
           ("title", "Chuyên viên"), ("common_name", "Đỗ Thị Hoa"), ("user_id", "CCCD:001190011111")]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def make_csr(subject=SUBJECT) -> bytes:
    return pem.armor("CERTIFICATE REQUEST", build_csr(subject, InMemoryKey.generate_ec()))


@pytest.fixture
def ca_console(sqlite_url):
    from service.wiring import Components

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    authority = build_small_authority(sqlite_url, base_url=base_url)
    components = Components.build(database_url=sqlite_url, trust_roots=(authority.issuer("root").certificate,),
                                  intermediates=(authority.issuer("gov").certificate,), authority=authority)
    world = build_service_world(sqlite_url, components=components, roster=ROSTER_CSV, mount_pki=True)
    world.authority = authority
    with serve_wsgi(world.app, port=port) as url:
        world.base_url = url
        yield world
    components.dispose()
    authority.store.close()


def openssl_ocsp(world, certificate_pem: str, tmp_path) -> str:
    authority = world.authority
    (tmp_path / "cert.pem").write_text(certificate_pem)
    (tmp_path / "gov.pem").write_bytes(pem.armor("CERTIFICATE", authority.issuer("gov").certificate.dump()))
    (tmp_path / "chain.pem").write_bytes(pem.armor("CERTIFICATE", authority.issuer("root").certificate.dump())
                                         + pem.armor("CERTIFICATE", authority.issuer("gov").certificate.dump()))
    answer = subprocess.run(["openssl", "ocsp", "-issuer", str(tmp_path / "gov.pem"), "-cert", str(tmp_path / "cert.pem"),
                             "-url", f"{world.base_url}/pki/ocsp", "-CAfile", str(tmp_path / "chain.pem")],
                            capture_output=True, text=True, timeout=60)
    assert "Response verify OK" in answer.stderr, answer.stderr
    return answer.stdout


def test_checks_shown_before_issuing_and_nothing_issued_on_refusal(ca_console):
    admin = ca_console.logged_in("admin")
    bad = make_csr([("country_name", "VN"), ("common_name", "Đỗ Thị Hoa")]).decode()
    checks = admin.post("/api/v1/certificates/checks", json={"csr": bad, "profile": "personal", "validity_days": 4000}).json
    assert [(c["check"], c["ok"], c["message"]) for c in checks["checks"]] == [
        ("csr_signature", True, None),
        ("subject", False, "profile personal requires the subject attribute UID"),
        ("key", True, None),
        ("validity", False, "validity must be 1 to 1826 days (profile personal)"),
    ]
    assert checks["may_issue"] is False
    broken = admin.post("/api/v1/certificates/checks", json={"csr": "bm90IGEgY3Ny", "profile": "agency"}).json
    assert [(c["check"], c["ok"]) for c in broken["checks"]] == [("csr_signature", False), ("validity", True)]
    assert broken["checks"][0]["message"] == "the certificate request is not a readable PKCS#10 CSR"
    good = admin.post("/api/v1/certificates/checks", json={"csr": make_csr().decode(), "profile": "personal"}).json
    assert good["may_issue"] is True
    listed = admin.get("/api/v1/certificates?q=Hoa").json["certificates"]
    assert listed == []  # checking issues nothing


def test_view_renew_crl_and_api_refusals(ca_console, tmp_path):
    admin = ca_console.logged_in("admin")
    issued = admin.post("/api/v1/certificates", json={"csr": make_csr().decode(), "profile": "personal",
                                                      "agency_code": "H26.10"}).json
    view = admin.get(f"/api/v1/certificates/{issued['serial']}").json
    assert view["identity"]["common_name"] == "Đỗ Thị Hoa"
    assert view["identity"]["identifiers"] == ["CCCD:001190011111"]
    assert view["chain"] == ["Common Name: Demo Gov CA (small), Organization: Ban Co yeu Chinh phu, Country: VN",
                             "Common Name: Demo Root (small), Organization: Ban Co yeu Chinh phu, Country: VN"]
    names = [e["name"] for e in view["extensions"]]
    assert "key_usage" in names and "authority_information_access" in names
    assert view["ocsp"]["status"] == "good"
    renewed = admin.post(f"/api/v1/certificates/{issued['serial']}/renewal", json={})
    assert renewed.status_code == 201, renewed.json
    assert renewed.json["renews"] == issued["serial"]
    history = admin.get(f"/api/v1/certificates/{issued['serial']}").json["history"]
    assert [(e["action"], e["detail"].get("renewed_by")) for e in history] == [
        ("certificate.renew", renewed.json["serial"]), ("certificate.issue", None)]
    crl = admin.post("/api/v1/crls/gov")
    assert crl.status_code == 201
    second = admin.post("/api/v1/crls/gov").json
    assert second["crl_number"] == crl.json["crl_number"] + 1
    assert admin.post("/api/v1/crls/nope").status_code == 404
    # An auditor and an API key may not: buttons aside, the API refuses.
    auditor = ca_console.logged_in("auditor")
    assert auditor.post("/api/v1/crls/gov").status_code == 403
    assert auditor.get(f"/api/v1/certificates/{issued['serial']}").status_code == 403
    assert ca_console.api("dms").post(f"/api/v1/certificates/{issued['serial']}/renewal", json={}).status_code == 403
    assert auditor.get("/console/certificates").status_code == 403


@pytest.mark.browser
def test_certificates_page_issue_revoke_ocsp_and_coverage(ca_console, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        base = ca_console.base_url
        page.goto(f"{base}/login?next=/console/certificates")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{base}/console/certificates")
        page.wait_for_selector("#issue-agency option[value='H26.10']", state="attached")
        assert unlabelled_controls(page) == []

        # A request outside the profile: the checks say why, the issue button stays off.
        bad = make_csr([("country_name", "VN"), ("common_name", "Đỗ Thị Hoa"), ("user_id", "CCCD:001190011111")])
        page.set_input_files("#issue-csr", {"name": "hoa.csr", "mimeType": "application/pkcs10", "buffer": bad})
        page.click("#issue-check")
        page.wait_for_selector("#issue-checks tr[data-check='subject'][data-ok='false']")
        assert page.inner_text("#issue-checks tr[data-check='subject'] td:nth-child(2)") == (
            "Không đạt: hồ sơ personal yêu cầu thuộc tính O")
        assert page.is_disabled("#issue-submit")
        page.set_input_files("#issue-csr", {"name": "hoa.csr", "mimeType": "application/pkcs10", "buffer": make_csr()})
        page.click("#issue-check")
        page.wait_for_selector("#issue-checks tr[data-check='subject'][data-ok='true']")
        page.select_option("#issue-agency", "H26.10")
        page.click("#issue-submit")
        page.wait_for_selector("#issue-status[data-serial]")
        serial = page.get_attribute("#issue-status", "data-serial")
        assert page.inner_text("#issue-status") == f"Đã cấp chứng thư {serial}"

        # Coverage rises: the holder is on the roster with a valid certificate.
        admin = ca_console.logged_in("admin")

        def department():
            report = admin.get("/api/v1/coverage").json
            return next(a for a in report["levels"][0]["agencies"] if a["code"] == "H26.10")
        assert (department()["covered"], department()["uncovered"]) == (1, 0)

        page.wait_for_selector(f"#certs-table button.view[data-serial='{serial}']")
        page.click(f"#certs-table button.view[data-serial='{serial}']")
        page.wait_for_selector("#cert-ocsp[data-status='good']")
        assert page.inner_text("#cert-identity dd[data-field='common_name']") == "Đỗ Thị Hoa"
        assert low_contrast_texts(page) == []
        save_screenshot(page, "certificate-view")
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.select_option("#cert-reason", "key_compromise")
        page.click("#cert-revoke")
        page.wait_for_selector("#cert-ocsp[data-status='revoked']")
        assert dialogs == [f"Thu hồi chứng thư của Đỗ Thị Hoa ({serial}): key_compromise?"]
        assert page.inner_text("#cert-ocsp").endswith("(key_compromise)")
        assert page.locator("#cert-history tr[data-action='certificate.revoke']").count() == 1
        page.click(".publish-crl[data-issuer='gov']")
        page.wait_for_selector("#crl-status.ok")
        assert page.inner_text("#crl-status").endswith("(gov, 1)")
        save_screenshot(page, "certificates")
        browser.close()

    certificate = admin.get(f"/api/v1/certificates/{serial}").json["pem"]
    judged = openssl_ocsp(ca_console, certificate, tmp_path)
    assert "cert.pem: revoked" in judged
    assert "Reason: keyCompromise" in judged
    assert (department()["covered"], department()["uncovered"], department()["revoked"]) == (0, 1, 1)
