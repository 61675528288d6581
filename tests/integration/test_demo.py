"""`kyso demo` end to end, twice in the same fresh KYSO_HOME: every step works, the second run reuses the PKI,
the roster and the tokens and numbers the next document."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.integration

KYSO = Path(sys.executable).with_name("kyso")


def run_demo(home: Path, port: int) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("KYSO_", "SOFTHSM2_CONF"))}
    environment.update(KYSO_HOME=str(home), KYSO_DEMO_PORT=str(port))
    return subprocess.run([str(KYSO), "demo"], env=environment, capture_output=True, text=True, timeout=600)


def test_demo_runs_twice(tmp_path):
    home = tmp_path / "kyso-home"
    port = free_port()
    first = run_demo(home, port)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "created the demo PKI" in out
    assert "enrolled token 'demo-leader'" in out and "enrolled token 'demo-seal'" in out
    assert re.search(r"approved \(ký duyệt\) through service \+ bridge: TOTAL_PASSED, PAdES B-T", out)
    assert "number 01/QĐ-UBND" in out
    assert "verified the signed document: TOTAL_PASSED — personal (Nguyễn Văn An), agency (UBND Phường Hoàn Kiếm)" in out
    assert "packed the issued document as an edXML package for Sở Nội vụ (H26.10)" in out
    assert ("Sở Nội vụ verified the package: TOTAL_PASSED (package signature TOTAL_PASSED; personal TOTAL_PASSED, "
            "agency TOTAL_PASSED)") in out
    assert "status message 03 (đã tiếp nhận) signed" in out
    assert "TOTAL_FAILED, marked for return to the sender" in out
    assert "signed by UBND Phường Hoàn Kiếm: TOTAL_PASSED" in out
    # 2 signatures, 3 for the package, 2 for the tampered copy; and 11 covering records (ledger.covered): the
    # issued document's registration, number and revisions (6), the package's document and file (2), the
    # tampered copy's document, its return and its file (3).
    assert "ledger chain intact: 18 records" in out
    assert re.search(r"H26\.90\.01\s+UBND phường Hoàn Kiếm\s+ký số\s+100\.0%", out)
    assert out.rstrip().endswith("kyso demo: all 19 steps worked / mọi bước đều thành công.")
    assert "demo-user-1234" not in out + first.stderr and "demo-ca-1234" not in out + first.stderr
    assert (home / "pki" / "root.crt").exists() and (home / "kyso.db").exists()

    second = run_demo(home, port)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "reused the demo PKI" in second.stdout
    assert "reused token 'demo-leader'" in second.stdout and "reused the roster" in second.stdout
    assert "number 02/QĐ-UBND" in second.stdout
    assert "ledger chain intact: 36 records" in second.stdout


def test_the_demo_document_verifies_offline_once_the_pki_has_stopped(tmp_path):
    """Issue 15: the issued document carries everything needed for both signatures; after the demo (its PKI
    and service stopped) `kyso verify --offline` with the demo home trusts the demo root by default, and
    pdfsig -no-ocsp trusts both signatures."""
    import json
    import shutil

    home = tmp_path / "kyso-home"
    done = run_demo(home, free_port())
    assert done.returncode == 0, done.stdout + done.stderr
    issued = home / "demo" / "issued.pdf"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KYSO_")}
    environment["KYSO_HOME"] = str(home)
    verified = subprocess.run([str(KYSO), "verify", "--offline", "--format", "json", str(issued)], env=environment,
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    (entry,) = json.loads(verified.stdout)["files"]
    assert entry["indication"] == "TOTAL_PASSED"
    assert [(s["kind"], s["indication"]) for s in entry["signatures"]] == [
        ("personal", "TOTAL_PASSED"), ("agency", "TOTAL_PASSED")]
    assert {s["trust_anchor"] for s in entry["signatures"]} == {
        "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)"}

    if not (shutil.which("pdfsig") and shutil.which("certutil") and shutil.which("crlutil")):
        pytest.skip("pdfsig / NSS tools not installed")
    nss = f"sql:{tmp_path / 'nss'}"
    (tmp_path / "nss").mkdir()
    pki = home / "pki"
    for command in (["certutil", "-N", "-d", nss, "--empty-password"],
                    ["certutil", "-A", "-d", nss, "-n", "root", "-t", "C,C,C", "-i", str(pki / "root.crt")],
                    ["certutil", "-A", "-d", nss, "-n", "gov", "-t", ",,", "-i", str(pki / "gov.crt")],
                    ["crlutil", "-I", "-d", nss, "-i", str(pki / "root.crl"), "-B"],
                    ["crlutil", "-I", "-d", nss, "-i", str(pki / "gov.crl"), "-B"]):
        subprocess.run(command, check=True, capture_output=True)
    judged = subprocess.run(["pdfsig", "-nssdir", nss, "-no-ocsp", str(issued)], capture_output=True, text=True,
                            timeout=120).stdout
    assert judged.count("Signature Validation: Signature is Valid.") == 2, judged
    assert judged.count("Certificate Validation: Certificate is Trusted.") == 2, judged
