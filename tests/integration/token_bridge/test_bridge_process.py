"""`kyso bridge serve` as its own process: a token pulled out mid-session gives a clear error, no crash,
and the bridge signs again once the token is back; settings come from kyso.toml."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time

import pytest
import requests
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.servers import free_port
from tests.support.softhsm import AGENCY_SUBJECT, TEST_USER_PIN, provision_key
from token_bridge.catalogue import certificate_id

pytestmark = pytest.mark.integration

LABEL = "test-bridge-removable"
DOCUMENT = "Công văn 77/UBND-VP".encode()


@pytest.fixture
def bridge_process(softhsm, personal_rsa_token, tmp_path):
    token = softhsm.create_token(LABEL)
    provisioned = provision_key(token, kind="ec", key_label="removable", key_id=b"\x05", subject=AGENCY_SUBJECT)
    port = free_port()
    env = {**softhsm.directory.environment(), "KYSO_TEST_BRIDGE_PIN": TEST_USER_PIN}
    env.pop("KYSO_HOME", None)
    error_log = (tmp_path / "bridge.err").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kyso", "--home", str(tmp_path / "home"), "bridge", "serve", "--port", str(port),
         "--host", "127.0.0.1", "--pin-env", "KYSO_TEST_BRIDGE_PIN", "--unsafe-auto-consent",
         "--audit-log", str(tmp_path / "audit.jsonl")],
        env=env, stdout=subprocess.DEVNULL, stderr=error_log, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/v1/status", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            assert process.poll() is None, (tmp_path / "bridge.err").read_text()
            time.sleep(0.1)
    try:
        yield url, provisioned, process, tmp_path
    finally:
        process.terminate()
        process.wait(timeout=10)
        error_log.close()


def _sign(url, provisioned):
    return requests.post(f"{url}/v1/signatures", json={
        "certificate_id": certificate_id(provisioned.certificate),
        "digest": base64.b64encode(hashlib.sha256(DOCUMENT).digest()).decode(),
        "digest_algorithm": "sha256", "signature_algorithm": "ecdsa", "description": "Công văn 77/UBND-VP",
    }, timeout=30)


def _verify(answer, provisioned):
    assert answer.status_code == 200, answer.text
    cx509.load_der_x509_certificate(provisioned.certificate_der).public_key().verify(
        base64.b64decode(answer.json()["signature"]), DOCUMENT, ec.ECDSA(hashes.SHA256()))


def test_token_removed_while_the_bridge_runs_then_put_back(softhsm, bridge_process):
    url, provisioned, process, tmp_path = bridge_process
    _verify(_sign(url, provisioned), provisioned)

    unplugged = softhsm.directory.unplug_token(LABEL, parking=tmp_path / "pulled-out")
    try:
        first = _sign(url, provisioned)
        assert first.status_code == 503, first.text
        error = first.json()["error"]
        assert error["code"] == "token_not_present"
        assert error["message"] == (
            f"Token '{LABEL}' is not present: the token stopped answering while signing a digest "
            "(ObjectHandleInvalid). Insert it and try again."
        )
        second = _sign(url, provisioned)
        assert (second.status_code, second.json()["error"]["message"]) == (
            503, f"Token '{LABEL}' is not present. Insert it and try again.")
        assert process.poll() is None  # no crash
        labels = [t["label"] for t in requests.get(f"{url}/v1/tokens", timeout=10).json()["tokens"]]
        assert LABEL not in labels and "test-personal-rsa" in labels
    finally:
        unplugged.plug_back()

    _verify(_sign(url, provisioned), provisioned)
    labels = [t["label"] for t in requests.get(f"{url}/v1/tokens", timeout=10).json()["tokens"]]
    assert LABEL in labels
    outcomes = [line for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [('"outcome": "signed"' in o, '"token_not_present"' in o) for o in outcomes] == [
        (True, False), (False, True), (False, True), (True, False)]
    assert TEST_USER_PIN not in (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    shown = subprocess.run([sys.executable, "-m", "kyso", "--home", str(tmp_path / "home"), "bridge", "audit",
                            "--audit-log", str(tmp_path / "audit.jsonl")], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "KYSO_HOME"})
    lines = shown.stdout.splitlines()
    assert [line.split("\t")[1:4] for line in lines] == [
        ["signed", "local application", LABEL], ["failed", "local application", LABEL],
        ["failed", "local application", LABEL], ["signed", "local application", LABEL]]
    assert lines[1].endswith("\tCông văn 77/UBND-VP\ttoken_not_present")


def test_served_process_reads_its_settings_from_kyso_toml(softhsm, tmp_path):
    port = free_port()
    home = tmp_path / "configured-home"
    home.mkdir()
    (home / "kyso.toml").write_text(
        f'[bridge]\nport = {port}\nhosts = ["127.0.0.1"]\nallowed_origins = ["https://vanban.hanoi.gov.vn"]\n'
        f'audit_log = "{tmp_path / "configured-audit.jsonl"}"\n', encoding="utf-8")
    env = {k: v for k, v in softhsm.directory.environment().items() if k != "KYSO_HOME"}
    with (tmp_path / "configured.err").open("w") as error_log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kyso", "--home", str(home), "bridge", "serve", "--pin-env", "KYSO_TEST_NONE",
             "--unsafe-auto-consent"], env=env, stdout=subprocess.DEVNULL, stderr=error_log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    allowed = requests.get(f"{url}/v1/status", headers={"Origin": "https://vanban.hanoi.gov.vn"},
                                           timeout=2)
                    break
                except requests.ConnectionError:
                    assert process.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            assert allowed.headers["Access-Control-Allow-Origin"] == "https://vanban.hanoi.gov.vn"
            foreign = requests.get(f"{url}/v1/status", headers={"Origin": "https://vanban.other.vn"}, timeout=5)
            assert foreign.status_code == 403
        finally:
            process.terminate()
            process.wait(timeout=10)
    refused = (tmp_path / "configured-audit.jsonl").read_text(encoding="utf-8")
    assert '"origin": "https://vanban.other.vn"' in refused and '"error_code": "origin_refused"' in refused
    assert "allowed origins: https://vanban.hanoi.gov.vn" in (tmp_path / "configured.err").read_text(encoding="utf-8")
