"""Accounts and keys in the console: change a user's role, deactivate, a one-time reset link (one use,
void after the password changes), a person's own password change, API keys with their last audited use,
and the pages (accounts, audit filters, reset link) in Chromium."""

from __future__ import annotations

import re

import pytest

from tests.support.accessibility import low_contrast_texts, save_screenshot, unlabelled_controls
from tests.support.service import PASSWORD, build_service_world
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.integration

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def accounts_world(database_url):
    world = build_service_world(database_url)
    yield world
    world.app.extensions["kyso"].engine.dispose()


def log_in_with(world, username: str, password: str):
    client = world.client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_change_role_deactivate_and_self_protection(accounts_world):
    admin = accounts_world.logged_in("admin")
    changed = admin.patch("/api/v1/users/official", json={"roles": ["clerk"], "agency_code": "H26"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["roles"], changed.json["agency_code"]) == (["clerk"], "H26")
    assert admin.patch("/api/v1/users/official", json={"active": False}).json["active"] is False
    assert log_in_with(accounts_world, "official", PASSWORD) == 401  # a deactivated account cannot log in
    selfish = admin.patch("/api/v1/users/admin", json={"active": False})
    assert (selfish.status_code, selfish.json["message"]) == (
        403, "you cannot deactivate yourself or drop your own administrator role")
    assert admin.patch("/api/v1/users/nobody", json={"active": False}).status_code == 404
    assert admin.patch("/api/v1/users/clerk", json={"roles": ["boss"]}).json["message"].startswith("unknown role 'boss'")
    assert accounts_world.logged_in("auditor").patch("/api/v1/users/clerk", json={"active": False}).status_code == 403
    events = admin.get("/api/v1/audit?action=user.update&target=official").json["events"]
    assert [e["detail"]["changes"] for e in events] == [
        {"active": [True, False]}, {"roles": ["official", "clerk"], "agency_code": ["H26.10", "H26"]}]


def test_reset_link_works_once(accounts_world):
    admin = accounts_world.logged_in("admin")
    link = admin.post("/api/v1/users/clerk/password-reset").json["link"]
    token = link.split("token=", 1)[1]
    anonymous = accounts_world.client()
    short = anonymous.post("/api/v1/password-resets", json={"token": token, "password": "short"})
    assert short.json["message"] == "password must have at least 10 characters"
    assert anonymous.post("/api/v1/password-resets", json={"token": token, "password": "mật-khẩu-mới-đủ-dài"}).status_code == 200
    again = anonymous.post("/api/v1/password-resets", json={"token": token, "password": "mật-khẩu-khác-nữa-1"})
    assert (again.status_code, again.json["message"]) == (400, "the password-reset link is invalid, used or expired")
    forged = anonymous.post("/api/v1/password-resets", json={"token": token[:-2] + "xx", "password": "mật-khẩu-khác-nữa-1"})
    assert forged.status_code == 400
    assert log_in_with(accounts_world, "clerk", "mật-khẩu-mới-đủ-dài") == 302
    assert log_in_with(accounts_world, "clerk", PASSWORD) == 401
    actions = [e["action"] for e in admin.get("/api/v1/audit?target=clerk").json["events"]]
    assert actions == ["user.password_reset", "user.password_reset_link"]
    # The link itself is never written to the audit trail.
    assert token not in str(admin.get("/api/v1/audit").json)


def test_own_password_change_and_api_keys_last_use(accounts_world):
    official = accounts_world.logged_in("official")
    wrong = official.post("/api/v1/account/password", json={"current_password": "sai-mật-khẩu", "new_password": "mật-khẩu-mới-đủ-dài"})
    assert (wrong.status_code, wrong.json["message"]) == (400, "the current password is wrong")
    assert official.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": "mật-khẩu-mới-đủ-dài"},
                         csrf=False).status_code == 403  # CSRF token required
    done = official.post("/api/v1/account/password", json={"current_password": PASSWORD, "new_password": "mật-khẩu-mới-đủ-dài"})
    assert done.json["changed"] is True
    assert log_in_with(accounts_world, "official", "mật-khẩu-mới-đủ-dài") == 302
    assert accounts_world.api("dms").post("/api/v1/account/password", json={}).status_code == 401

    admin = accounts_world.logged_in("admin")
    # A denied call is audited: the key's last use shows it.
    assert accounts_world.api("validator").get("/api/v1/reports/monthly?month=2026-11").status_code == 403
    keys = {k["name"]: k for k in admin.get("/api/v1/api-keys").json["api_keys"]}
    assert sorted(keys) == ["dms", "reader", "validator"]
    assert keys["validator"]["scopes"] == ["validate"]
    assert keys["validator"]["last_used_at"] is not None and keys["reader"]["last_used_at"] is None
    admin.post("/api/v1/api-keys/reader/revocation")
    assert admin.get("/api/v1/api-keys").json["api_keys"][1]["revoked_at"] is not None
    assert accounts_world.logged_in("clerk").get("/api/v1/api-keys").status_code == 403


@pytest.mark.browser
def test_accounts_and_audit_pages(sqlite_url):
    from playwright.sync_api import sync_playwright

    world = build_service_world(sqlite_url)
    with serve_wsgi(world.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/login?next=/console/accounts")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#users-table tr[data-user='clerk']")
        page.wait_for_selector("#keys-table tr[data-key='dms']")
        assert unlabelled_controls(page) == []
        assert low_contrast_texts(page) == []
        page.select_option("#users-table tr[data-user='clerk'] select.role", "auditor")
        page.click("#users-table tr[data-user='clerk'] button.save-role")
        page.wait_for_selector("#users-status.ok")
        page.click("#users-table tr[data-user='official'] button.reset-link")
        page.wait_for_selector("#reset-link")
        link = page.inner_text("#reset-link")
        assert link.startswith(f"{base}/password-reset?token=")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#keys-table tr[data-key='reader'] button.revoke")
        page.wait_for_selector("#keys-table tr[data-key='reader'] td.revoked:not(:empty)")
        save_screenshot(page, "accounts")

        page.goto(f"{base}/console/audit?lang=en")
        page.fill("#audit-action", "user.update")
        page.click("#audit-filter")
        page.wait_for_selector("#audit-table tr[data-action='user.update']")
        assert page.locator("#audit-table tbody tr").count() == 1
        assert low_contrast_texts(page) == []
        save_screenshot(page, "audit")

        other = browser.new_page(viewport={"width": 1280, "height": 800})
        other.goto(link)
        other.fill("#reset-password", "mật-khẩu-mới-đủ-dài")
        other.click("#reset-submit")
        other.wait_for_selector("#reset-status.ok")
        assert other.inner_text("#reset-status") == "Đã đặt mật khẩu mới; hãy đăng nhập"
        browser.close()
    assert world.client().get("/console/audit").status_code == 302  # to the login page
    assert world.api("dms").get("/console/audit").status_code == 403  # no audit scope
    world.app.extensions["kyso"].engine.dispose()
