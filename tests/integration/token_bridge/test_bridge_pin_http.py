"""PIN trouble seen through the HTTP API: what a page shows after a wrong PIN, at the final try, when locked."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
import sys

import pytest
import requests

from tests.support.servers import free_port
from tests.support.softhsm import (
    PERSONAL_SUBJECT,
    TEST_SO_PIN,
    TEST_USER_PIN,
    TestToken,
    provision_key,
    unsafe_set_pin_flags,
)
from token_bridge.audit import AuditLog
from token_bridge.catalogue import certificate_id
from token_bridge.consent import ScriptedConsent
from token_bridge.http import serving
from token_bridge.pin import Pin, ScriptedPinPrompt
from token_bridge.settings import BridgeSettings
from token_bridge.signing import Bridge
from token_bridge.softhsm import initialise_token

pytestmark = pytest.mark.integration

_counter = itertools.count(1)


@pytest.fixture
def pin_bridge(softhsm):
    """A fresh token nobody is logged in to, with an EC key and certificate, and a bridge whose PIN prompt
    the test scripts (`prompt.pins`)."""
    label = f"test-bridge-http-pin-{next(_counter)}"
    initialise_token(softhsm.module, label=label, so_pin=TEST_SO_PIN, user_pin=TEST_USER_PIN)
    # provision with a login of its own, then log out, so that the bridge's login is the one under test
    session = softhsm.module.session(label, pin_prompt=ScriptedPinPrompt([TEST_USER_PIN]))
    token = TestToken(label=label, user_pin=TEST_USER_PIN, so_pin=TEST_SO_PIN, session=session)
    provisioned = provision_key(token, kind="ec", key_label="pin", key_id=b"\x09", subject=PERSONAL_SUBJECT)
    session.close()  # logs the token out
    prompt = ScriptedPinPrompt([])
    settings = BridgeSettings.from_config({"port": free_port(), "hosts": ["127.0.0.1"]})
    bridge = Bridge([softhsm.module], pin_prompt=prompt, consent=ScriptedConsent(default=True), audit=AuditLog())
    with serving(bridge, settings):
        yield settings.base_url, label, provisioned, prompt, bridge


def _sign(url, provisioned):
    return requests.post(f"{url}/v1/signatures", json={
        "certificate_id": certificate_id(provisioned.certificate),
        "digest": base64.b64encode(hashlib.sha256(b"x").digest()).decode(), "digest_algorithm": "sha256",
        "signature_algorithm": "ecdsa", "description": "Tờ trình 3/TTr-VP"}, timeout=30)


def test_wrong_pin_answer_says_what_remains(pin_bridge):
    url, label, provisioned, prompt, bridge = pin_bridge
    prompt.pins.extend(Pin(p) for p in ["0000", "1111", "2222"])
    answer = _sign(url, provisioned)
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "code": "pin_incorrect",
        "message": f"Wrong PIN for token '{label}': the token has recorded wrong PIN attempts; it will lock after a few more.",
        "message_vi": f"Mã PIN của thiết bị '{label}' không đúng: thiết bị đã ghi nhận lần nhập sai mã PIN; "
                      "thêm vài lần sai nữa sẽ bị khóa.",
        "pin_state": "count_low",
    }
    assert [r.purpose for r in prompt.requests] == ["Tờ trình 3/TTr-VP"] * 3  # the prompt shows what is signed
    record = bridge.audit.records()[-1]
    assert (record.outcome, record.error_code) == ("refused", "pin_incorrect")
    assert not any(p in json.dumps(record.__dict__) for p in ("0000", "1111", "2222"))
    tokens = {t["label"]: t for t in requests.get(f"{url}/v1/tokens", timeout=10).json()["tokens"]}
    assert tokens[label]["pin_state"] == "count_low" and tokens[label]["flags"]["pin_count_low"] is True


def test_final_try_and_locked_tokens_are_not_tried(softhsm, pin_bridge):
    url, label, provisioned, prompt, bridge = pin_bridge
    unsafe_set_pin_flags(softhsm.directory, label, final_try=True)
    answer = _sign(url, provisioned)
    assert (answer.status_code, answer.json()["error"]["code"], answer.json()["error"]["pin_state"]) == (
        403, "pin_final_try_not_confirmed", "final_try")
    assert prompt.requests == [] and len(prompt.final_try_questions) == 1
    unsafe_set_pin_flags(softhsm.directory, label, locked=True)
    answer = _sign(url, provisioned)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "pin_locked")
    assert answer.json()["error"]["message"].startswith(f"The PIN of token '{label}' is locked;")
    assert len(prompt.final_try_questions) == 1 and prompt.requests == []


def test_cli_lists_tokens_and_certificates_without_a_pin(softhsm, personal_rsa_token, tmp_path):
    env = {k: v for k, v in softhsm.directory.environment().items() if k != "KYSO_HOME"}
    listing = subprocess.run([sys.executable, "-m", "kyso", "--home", str(tmp_path), "bridge", "certificates",
                              "--format", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    entries = {c["id"]: c for c in json.loads(listing.stdout)["certificates"]}
    entry = entries[certificate_id(personal_rsa_token.certificate)]
    assert (entry["kind"], entry["token"], entry["identity"]["common_name"]) == (
        "personal", "test-personal-rsa", "Nguyễn Thị Thu Hà")
    tokens = subprocess.run([sys.executable, "-m", "kyso", "--home", str(tmp_path), "bridge", "tokens"],
                            env=env, capture_output=True, text=True, timeout=60)
    line = next(l for l in tokens.stdout.splitlines() if l.startswith("test-personal-rsa\t"))
    assert line.endswith("SoftHSM project / SoftHSM v2\tPIN: ok")
