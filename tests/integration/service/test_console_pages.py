"""The console pages in a real headless Chromium (Playwright with Debian's chromium): coverage with its
drill-down and exports, officials and agencies (CSV import refused with the line named, fixed, imported;
edit, deactivate, history), the roles (a clerk sees only their agency, an auditor has no buttons and the
API refuses), and the accessibility basics (labels, keyboard, contrast 4.5:1). Each page is saved as a
1280x800 screenshot under tests/support/accessibility.SCREENSHOTS."""

from __future__ import annotations

import pytest
import requests

from tests.support.accessibility import focus_by_tab, low_contrast_texts, save_screenshot, unlabelled_controls
from tests.support.ledger import ROSTER_CSV
from tests.support.service import PASSWORD, build_service_world
from tests.support.servers import serve_wsgi

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

OFFICIALS_CSV = """agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after
H26.10,Nguyễn Văn An,Giám đốc,CCCD:001085012345,a1,2026-01-01T00:00:00+00:00,2031-01-01T00:00:00+00:00
H26.10,Lê Văn Cường,Chuyên viên,CCCD:001085012347,,,
H26,Phạm Thị Dung,Chánh Văn phòng,CCCD:001085012348,,,
"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console(sqlite_url):
    world = build_service_world(sqlite_url, roster=ROSTER_CSV)
    answer = world.logged_in("admin").post("/api/v1/roster/officials", data=OFFICIALS_CSV.encode(),
                                           headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.json
    with serve_wsgi(world.app) as base_url:
        world.base_url = base_url
        yield world
    world.app.extensions["kyso"].components.dispose()


def open_as(browser, world, username: str, path: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page.goto(f"{world.base_url}/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{world.base_url}{path}")
    return page


def cells(page, selector: str) -> list[str]:
    return page.locator(selector).all_inner_texts()


def test_coverage_page_counts_drills_down_and_exports(console, browser):
    page = open_as(browser, console, "admin", "/console/coverage")
    page.wait_for_selector("table.coverage tr[data-agency='H26.10']")
    row = "table.coverage tr[data-agency='H26.10']"
    assert cells(page, f"{row} td") == ["2", "1", "1", "50%", "0", "0", "0"]
    assert page.get_attribute(f"{row} td.seal", "class") == "seal bad"  # no valid seal certificate
    # The keyboard alone reaches the number and opens the people behind it.
    focus_by_tab(page, f"{row} button[data-group='without_certificate']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#coverage-drilldown:not([hidden])")
    assert page.inner_text("#coverage-drilldown-title") == "Chưa có chứng thư — Sở Nội vụ"
    assert cells(page, "#coverage-people tbody td") == ["Lê Văn Cường", "Chuyên viên", "CCCD:001085012347"]
    assert unlabelled_controls(page) == []
    assert low_contrast_texts(page) == []
    save_screenshot(page, "coverage")
    with page.expect_download() as download:
        page.click("#coverage-csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "city,H26.10,Sở Nội vụ,2,1,1,50.0,không,0,0" in text.splitlines()
    assert page.get_attribute("#coverage-xlsx", "href").endswith("window_days=60&format=xlsx&lang=vi")
    page.goto(f"{console.base_url}/console/coverage?lang=en")
    page.wait_for_selector("table.coverage tr[data-agency='H26.10']")
    assert page.inner_text("h1") == "Certificate coverage of officials and agencies"


def test_coverage_page_of_a_clerk_shows_only_their_agency(console, browser):
    page = open_as(browser, console, "clerk", "/console/coverage")
    page.wait_for_selector("table.coverage tr[data-agency]")
    assert page.locator("table.coverage tr[data-agency]").evaluate_all("rows => rows.map(r => r.dataset.agency)") == ["H26.10"]
    assert page.locator("#nav-certificates").count() == 0
    assert page.locator("#nav-audit").count() == 0


BAD_IMPORT = ("agency_code,full_name,title,identifiers\n"
              "H26.10,Đỗ Văn Em,Chuyên viên,CCCD:001085099999\n"
              "H26.99,Hoàng Thị Gấm,Chuyên viên,CCCD:001085099998\n")


def department_row(page, base_url: str) -> list[str]:
    page.goto(f"{base_url}/console/coverage")
    page.wait_for_selector("table.coverage tr[data-agency='H26.10']")
    return cells(page, "table.coverage tr[data-agency='H26.10'] td")


def test_officials_page_import_refused_then_fixed_edit_deactivate_history(console, browser):
    page = open_as(browser, console, "admin", "/console/officials")
    page.wait_for_selector("#officials-table tbody tr[data-official]")
    assert unlabelled_controls(page) == []
    # A file with one bad line: refused with the line and column named, and nothing stored.
    page.set_input_files("#import-file", {"name": "can-bo.csv", "mimeType": "text/csv", "buffer": BAD_IMPORT.encode()})
    page.click("#import-check")
    page.wait_for_selector("#import-problems:not([hidden])")
    assert cells(page, "#import-problems tbody td") == ["3", "agency_code", "cơ quan H26.99 không có trong danh bạ"]
    assert page.inner_text("#import-status").startswith("Tệp bị từ chối, chưa lưu gì")
    assert page.is_disabled("#import-store")
    assert low_contrast_texts(page) == []
    save_screenshot(page, "officials-import-refused")
    assert console.logged_in("admin").get("/api/v1/roster/officials?q=Hoàng").json["officials"] == []
    fixed = BAD_IMPORT.replace("H26.99", "H26.10")
    page.set_input_files("#import-file", {"name": "can-bo.csv", "mimeType": "text/csv", "buffer": fixed.encode()})
    page.click("#import-check")
    page.wait_for_selector("#import-status.ok")
    assert page.inner_text("#import-status") == "Tệp hợp lệ; số dòng sẽ nhập: 2"
    page.click("#import-store")
    page.wait_for_selector("#import-status:has-text('Đã nhập: 2')")
    assert department_row(page, console.base_url)[:3] == ["4", "1", "3"]  # two more officials, none covered

    page.goto(f"{console.base_url}/console/officials")
    page.fill("#officials-q", "Hoàng")
    page.click("#officials-find")
    page.wait_for_selector("#officials-table tbody tr[data-official] td:has-text('Hoàng Thị Gấm')")
    page.click("#officials-table button.view")
    page.wait_for_selector("#official:not([hidden])")
    page.fill("#edit-title", "Trưởng phòng")
    page.click("#edit-save")
    page.wait_for_selector("#official-status.ok")
    assert page.inner_text("#official-fields dd[data-field='officials.role']") == "Trưởng phòng"
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#official-deactivate")
    page.wait_for_selector("#official-history tr[data-action='official.deactivate']")
    assert dialogs == ["Cho thôi công tác: Hoàng Thị Gấm (CCCD:001085099998)"]
    history = page.locator("#official-history tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert history == ["official.deactivate", "official.update"]
    assert cells(page, "#official-history tr[data-action='official.update'] td")[1:] == [
        "user:admin", "official.update", "title: Chuyên viên → Trưởng phòng"]
    save_screenshot(page, "officials-history")


def test_auditor_has_no_buttons_and_the_api_refuses(console, browser):
    page = open_as(browser, console, "auditor", "/console/officials")
    page.wait_for_selector("#officials-table tbody tr[data-official]")
    assert page.locator("#import").count() == 0
    page.click("#officials-table button.view >> nth=0")
    page.wait_for_selector("#official:not([hidden])")
    assert page.locator("#official-edit").count() == 0
    assert page.locator("#official-deactivate").count() == 0
    official = page.get_attribute("#officials-table tbody tr[data-official] >> nth=0", "data-official")
    status = page.evaluate("""async (id) => {
        const r = await fetch('/api/v1/roster/officials/' + id + '/deactivation', {method: 'POST',
          headers: {'X-CSRF-Token': Kyso.csrf, 'Content-Type': 'application/json'}, body: '{}'});
        return [r.status, (await r.json()).message];
    }""", official)
    assert status == [403, "you may not change the roster of agency H26"]
    save_screenshot(page, "officials-auditor")


def test_clerk_cannot_see_another_agencys_people(console, browser):
    page = open_as(browser, console, "clerk", "/console/officials")
    page.wait_for_selector("#officials-table tbody tr[data-official]")
    names = page.locator("#officials-table tbody tr td:first-child").all_inner_texts()
    assert names == ["Lê Văn Cường", "Nguyễn Văn An"]  # not Phạm Thị Dung of H26
    other = console.logged_in("admin").get("/api/v1/roster/officials?q=Dung").json["officials"][0]["id"]
    status = page.evaluate("async (id) => (await fetch('/api/v1/roster/officials/' + id)).status", other)
    assert status == 404
    assert page.locator("#import").count() == 0  # imports are the administrators'


def test_an_official_sees_their_own_certificates_and_stores_their_signature_image(console, browser):
    from tests.support.documents import signature_png

    admin = console.logged_in("admin")
    an = admin.get("/api/v1/roster/officials?q=Nguyễn Văn An").json["officials"][0]
    created = admin.post("/api/v1/users", json={"username": "an", "password": PASSWORD, "roles": ["official"],
                                                "agency_code": "H26.10", "official_id": an["id"]})
    assert created.status_code == 201, created.json
    page = open_as(browser, console, "an", "/console/me")
    page.wait_for_selector("#me-certificates tr[data-serial='a1']")
    assert cells(page, "#me-certificates tr[data-serial='a1'] td") == ["a1", "2031-01-01", "Còn hiệu lực"]
    assert page.locator("#nav-coverage").count() == 0  # an official has no roster pages
    page.set_input_files("#me-file", {"name": "chu-ky.png", "mimeType": "image/png", "buffer": signature_png()})
    page.click("#me-save")
    page.wait_for_selector("#me-image:not([hidden])")
    assert page.inner_text("#me-status") == "Đã lưu ảnh chữ ký"
    assert unlabelled_controls(page) == []
    assert low_contrast_texts(page) == []
    save_screenshot(page, "official-mine")
    other = admin.get("/api/v1/roster/officials?q=Dung").json["officials"][0]["id"]
    assert page.evaluate("async (id) => (await fetch('/api/v1/roster/officials/' + id)).status", other) == 403
    assert page.evaluate("async () => (await fetch('/console/coverage')).status") == 403


def test_officials_page_works_with_the_keyboard_alone(console, browser):
    page = open_as(browser, console, "admin", "/console/officials")
    page.wait_for_selector("#officials-table tbody tr[data-official]")
    focus_by_tab(page, "#officials-q")
    page.keyboard.type("Cường")
    page.keyboard.press("Enter")
    page.wait_for_selector("#officials-status:has-text('1')")
    focus_by_tab(page, "#officials-table button.view")
    page.keyboard.press("Enter")
    page.wait_for_selector("#official:not([hidden])")
    assert page.inner_text("#official-name") == "Lê Văn Cường"
    assert page.evaluate("document.activeElement.id") == "official"  # focus moved to the opened details
