"""The web pages in a real headless Chromium (Playwright): log in, sign a registered document with SoftHSM
tokens through the real token bridge (prepare -> bridge -> complete, approve then issue), download it,
verify a file by dropping it, and read the dashboard's charts with their drill-down."""

from __future__ import annotations

import base64
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests

from signer import sign_cades
from tests.support.documents import decision_pdf, seal_png, signature_png
from tests.support.ledger import ROSTER_CSV
from tests.support.service import PASSWORD, build_service_world, pki_components
from tests.support.servers import serve_wsgi

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web(sqlite_url, pki, token_bridge):
    """The service served at the origin the bridge allows, on the test PKI, with the sample roster."""
    components = pki_components(sqlite_url, pki)
    world = build_service_world(sqlite_url, components=components, roster=ROSTER_CSV, bridge_url=token_bridge.url)
    with serve_wsgi(world.app, port=token_bridge.page_port) as base_url:
        world.base_url = base_url
        yield world
    components.dispose()


def in_thread(function):
    """Run `function` in a thread of its own: Playwright's event loop runs in this one, and the signer
    runs its own."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def store_signature_image(web, certificate) -> None:
    """Put the token's personal certificate on the roster and store its holder's signature image (as the
    administrator), so the page can approve without choosing a file."""
    from ledger import enrol_certificate

    official = enrol_certificate(web.app.extensions["kyso"].components.ledger, serial=certificate.serial_number,
                                 agency_code="H26.10", kind="personal", full_name="Nguyễn Thị Thu Hà",
                                 not_before=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                 not_after=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
                                 identifiers=["CCCD:001190012345"])
    stored = web.logged_in("admin").put(f"/api/v1/officials/{official.official_id}/signature-image",
                                        json={"image": base64.b64encode(signature_png()).decode()})
    assert stored.status_code == 200, stored.json


def test_sign_through_the_bridge_then_download(web, browser, token_bridge, personal_rsa_token, tmp_path):
    dms = web.api("dms")
    pdf = decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà")
    document = dms.post("/api/v1/documents", json={
        "agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định", "title": "Quy chế ký số",
        "file": base64.b64encode(pdf).decode(), "filename": "quyet-dinh.pdf"}).json
    page = browser.new_page(accept_downloads=True)
    log_in(page, web.base_url, "clerk")  # a clerk may approve on the page and issue with the seal token
    page.wait_for_url(f"{web.base_url}/sign")
    page.wait_for_selector(f"#document option[value='{document['id']}']", state="attached")
    assert "Ký văn bản bằng thiết bị ký số" in page.inner_text("h1")

    # No file chosen and no stored signature image: the service says which one is missing, nothing is signed.
    page.select_option("#kind", "approve")
    page.fill("#title-line", "PHÓ CHỦ TỊCH")
    page.click("#load-certificates")
    page.wait_for_selector("#certificate option[data-kind='personal']", state="attached")
    personal = page.get_attribute("#certificate option[data-kind='personal']", "value")
    page.select_option("#certificate", personal)
    page.click("#sign-submit")
    page.wait_for_selector("#sign-status.bad", timeout=60_000)
    serial = format(personal_rsa_token.certificate.serial_number, "x")
    assert page.inner_text("#sign-status") == (
        f"Ký số không thành công: Không gửi ảnh chữ ký và chứng thư {serial} không thuộc cán bộ nào trong danh "
        "sách, nên không có ảnh chữ ký đã lưu")
    # With the holder's image stored, the page approves without any file chosen.
    store_signature_image(web, personal_rsa_token.certificate)
    page.click("#sign-submit")
    page.wait_for_selector("#sign-status.ok", timeout=60_000)
    assert page.inner_text("#sign-status") == "Ký số thành công"

    page.select_option("#kind", "issue")
    page.set_input_files("#image", {"name": "con-dau.png", "mimeType": "image/png", "buffer": seal_png()})
    agency = page.get_attribute("#certificate option[data-kind='agency']", "value")
    page.select_option("#certificate", agency)
    page.click("#sign-submit")
    page.wait_for_selector("#sign-status.ok:has-text('01/QĐ-UBND')", timeout=60_000)
    with page.expect_download() as download_info:
        page.click("#download")
    saved = tmp_path / "signed.pdf"
    download_info.value.save_as(saved)
    signed = saved.read_bytes()
    assert signed == dms.get(f"/api/v1/documents/{document['id']}/file").data

    # Through HTTP: Playwright's event loop runs in this thread, and the verifier runs its own.
    answer = requests.post(f"{web.base_url}/api/v1/validations", data=signed, timeout=60,
                           headers={"Authorization": f"Bearer {web.keys['dms']}", "Content-Type": "application/pdf"})
    report = answer.json()["files"][0]
    assert report["indication"] == "TOTAL_PASSED"
    assert [(s["kind"], s["signer"]["common_name"]) for s in report["signatures"]] == [
        ("personal", "Nguyễn Thị Thu Hà"), ("agency", "UBND Phường Hoàn Kiếm")]
    records = web.api("reader").get(f"/api/v1/ledger/documents/{document['id']}/records").json["records"]
    assert [r["purpose"] for r in records] == ["approve", "issue"]
    # The bridge saw only digests and the descriptions the service wrote.
    descriptions = [entry.description for entry in token_bridge.audit.records()][-2:]
    assert all("Quy chế ký số" in d for d in descriptions), descriptions


def test_verification_page_reads_a_dropped_file(web, browser, pki):
    page = browser.new_page()
    log_in(page, web.base_url, "official")
    page.goto(f"{web.base_url}/verify?lang=en")
    page.set_input_files("#file", {"name": "khong-phai-pdf.pdf", "mimeType": "application/pdf",
                                   "buffer": b"this is not a PDF"})
    page.wait_for_selector("#report:not([hidden])")
    assert page.inner_text("#file-indication") == "Invalid"
    assert page.get_attribute("#file-indication", "data-indication") == "TOTAL_FAILED"
    page.goto(f"{web.base_url}/verify?lang=vi")
    page.set_input_files("#file", {"name": "chua-ky.pdf", "mimeType": "application/pdf", "buffer": decision_pdf()})
    page.wait_for_selector("#report:not([hidden])")
    assert page.inner_text("#file-indication") == "Không có chữ ký số"

    # A detached .p7s: the page asks for the signed file, then shows the agency signature.
    content = "Tờ trình 12/TTr-SNV".encode()
    p7s = in_thread(lambda: sign_cades(content, key=pki.agency_ec.key, certificate=pki.agency_ec.certificate,
                                       chain=pki.agency_ec.chain))
    page.set_input_files("#file", {"name": "to-trinh.txt.p7s", "mimeType": "application/pkcs7-signature",
                                   "buffer": p7s})
    page.wait_for_selector("#content-field:not([hidden])")
    page.set_input_files("#content", {"name": "to-trinh.txt", "mimeType": "text/plain", "buffer": content})
    page.wait_for_selector("#signatures tbody tr")
    cells = page.locator("#signatures tbody tr td").all_inner_texts()
    assert cells[:2] == ["UBND Phường Hoàn Kiếm", "agency"]


def test_dashboard_draws_rates_against_targets_with_drilldown(web, browser, pki):
    dms = web.api("dms")
    for title in ("Văn bản chưa ký", "Văn bản thứ hai"):
        dms.post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "outgoing",
                                            "doc_type": "Công văn", "title": title})
    month = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    page = browser.new_page()
    log_in(page, web.base_url, "auditor")
    page.wait_for_url(f"{web.base_url}/dashboard")
    page.wait_for_selector("svg.chart rect.bar[data-agency='H26.10']", state="attached")
    bar = page.locator("svg.chart rect.bar[data-agency='H26.10']")
    assert bar.get_attribute("class") == "bar below"  # nothing signed: 0% against the 100% target
    assert bar.get_attribute("data-percent") == "0"
    assert page.locator("svg.chart line.target").count() >= 1
    bar.dispatch_event("click")
    page.wait_for_selector("#drilldown:not([hidden])")
    outgoing = page.locator("#drilldown tr[data-figure='outgoing'] td").all_inner_texts()
    assert outgoing[1] == "2"
    assert page.get_attribute("#download-csv", "href") == f"/api/v1/reports/monthly?month={month}&format=csv&lang=vi"
    page.select_option("#metric", "certificate_coverage")
    page.wait_for_selector("svg.chart[data-metric='certificate_coverage']", state="attached")
    coverage = page.locator("svg.chart[data-metric='certificate_coverage'] rect.bar[data-agency='H26.10']")
    assert coverage.get_attribute("data-percent") == "null"  # nobody on the roster: no rate, not 0%
