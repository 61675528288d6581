"""Debian's Chromium through Playwright: a document system's page, with a small client written from the
protocol, opens `new WebSocket("wss://127.0.0.1:PORT/SignApproved")` then `/SignIssued`; Chromium trusts the
loopback CA because `kyso bridge trust --nssdb` put it in the NSS database of the browser's HOME."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.support import documents
from tests.support.softhsm import PERSONAL_SUBJECT
from tests.support.vgca import JWT, SESSION

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SIGNER = dict(PERSONAL_SUBJECT)["common_name"]
TITLE = dict(PERSONAL_SUBJECT)["title"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _page(world) -> str:
    port = world.server.port
    common = {"FileUploadHandler": f"{world.dms.origin}/upload", "SessionId": SESSION, "JWTToken": JWT}
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>QLVB</title>
<script src="/plugin-client.js"></script></head><body><p id="result"></p>
<script>
const COMMON = {json.dumps(common)};
async function approveThenIssue(issuedDate) {{
  const approved = await TestPlugin.promised({port}, "SignApproved",
    Object.assign({{FileName: "{world.dms.origin}/files/qd.pdf"}}, COMMON));
  if (approved.Status !== 0) return {{approved}};
  const issued = await TestPlugin.promised({port}, "SignIssued", Object.assign({{
    FileName: "{world.dms.origin}/stored-as/" + approved.FileName, DocNumber: "21/QĐ-UBND",
    IssuedDate: issuedDate}}, COMMON));
  document.getElementById("result").textContent = issued.Status === 0 ? "Đã phát hành" : issued.Message;
  return {{approved, issued}};
}}
</script></body></html>"""


@pytest.fixture
def browser(tmp_path, vgca_world):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "browser-home"
    nssdb = home / ".pki" / "nssdb"
    kyso_home = tmp_path / "kyso-home"
    (kyso_home / "bridge").mkdir(parents=True)
    for item in (vgca_world.identity.ca_certificate.parent).iterdir():  # the world's loopback CA
        (kyso_home / "bridge" / item.name).write_bytes(item.read_bytes())
    done = subprocess.run([sys.executable, "-m", "kyso", "--home", str(kyso_home), "bridge", "trust", "--nssdb",
                           str(nssdb)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"trusted in sql:{nssdb}" in done.stdout
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                     env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
        yield launched
        launched.close()


def test_an_unmodified_style_page_approves_then_issues_through_chromium(vgca_world, browser, pki, tmp_path):
    vgca_world.dms.files["qd.pdf"] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)
    vgca_world.dms.page_html = _page(vgca_world)
    vgca_world.dms.serve_stored = True
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(microsecond=0)
    page = browser.new_page()
    try:
        page.goto(f"{vgca_world.dms.origin}/page")
        outcome = page.evaluate(f"approveThenIssue({json.dumps(today.isoformat())})")
        assert outcome["approved"]["Status"] == 0, outcome
        assert outcome["issued"]["Status"] == 0, outcome
        assert outcome["issued"]["DocumentNumber"] == "21/QĐ-UBND"
        assert page.text_content("#result") == "Đã phát hành"
    finally:
        page.close()
    assert [c.certificate_kind for c in vgca_world.consent.requests] == ["personal", "agency"]
    assert all(c.origin == vgca_world.dms.origin for c in vgca_world.consent.requests)
    assert "Chrome" in [r for r in vgca_world.audit.records() if r.outcome == "signed"][-1].client
    from tests.support.verifier import nss_database

    nss = nss_database(tmp_path, pki)
    final = tmp_path / "final.pdf"
    final.write_bytes(vgca_world.dms.uploads[-1]["data"])
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(final)], capture_output=True, text=True, timeout=120)
    assert out.stdout.count("Signature Validation: Signature is Valid.") == 2, out.stdout
    assert out.stdout.count("Certificate Validation: Certificate is Trusted.") == 2, out.stdout


def test_without_the_loopback_ca_chromium_does_not_connect(vgca_world):
    from playwright.sync_api import sync_playwright

    vgca_world.dms.files["qd.pdf"] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)
    vgca_world.dms.page_html = _page(vgca_world)
    with sync_playwright() as p:
        untrusting = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = untrusting.new_page()
            page.goto(f"{vgca_world.dms.origin}/page")
            outcome = page.evaluate("approveThenIssue('')")
        finally:
            untrusting.close()
    assert outcome == {"approved": {"Status": -1, "Message": "connection failed"}}
    assert vgca_world.dms.downloads == [] and vgca_world.consent.requests == []
