"""Issue 9, item 6, on SoftHSM: the bridge spent PIN tries on the wrong token. It lists and signs with personal
and agency signing certificates only (never a CA, TSA or OCSP key); a PIN from the environment refused once by
a token is never offered to it again until the bridge restarts; repeated failed logins back off."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools

import pytest

from tests.support.softhsm import PERSONAL_SUBJECT, TEST_SO_PIN, TEST_USER_PIN, TestToken, provision_key
from token_bridge.audit import AuditLog
from token_bridge.catalogue import certificate_id
from token_bridge.consent import ScriptedConsent
from token_bridge.errors import CertificateNotFound, EnvironmentPinRejected, TokenPinBackoff, TokenPinIncorrect
from token_bridge.pin import EnvironmentPinPrompt, Pin, ScriptedPinPrompt
from token_bridge.signing import Bridge, Requester, SignatureRequest
from token_bridge.softhsm import initialise_token

pytestmark = pytest.mark.integration

_counter = itertools.count(1)
SERVICE_SUBJECT = [("country_name", "VN"), ("organization_name", "Sở Nội vụ Thành phố Hà Nội")]
PIN_VARIABLE = "KYSO_TEST_BRIDGE_PIN_SPENDING"


class Clock:
    def __init__(self):
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self):
        return self.now


@pytest.fixture
def service_token(softhsm, pki):
    """A fresh token, logged out, holding a personal key and certificate (id 01), a TSA key (02) and an OCSP
    responder key (03), each with its certificate from the test PKI's issuing CA, and the CA chain."""
    label = f"test-bridge-spend-{next(_counter)}"
    initialise_token(softhsm.module, label=label, so_pin=TEST_SO_PIN, user_pin=TEST_USER_PIN)
    session = softhsm.module.session(label, pin_prompt=ScriptedPinPrompt([TEST_USER_PIN]))
    token = TestToken(label=label, user_pin=TEST_USER_PIN, so_pin=TEST_SO_PIN, session=session)
    keys = {
        "personal": provision_key(token, kind="ec", key_label="person", key_id=b"\x01", subject=PERSONAL_SUBJECT,
                                  pki=pki, profile="personal"),
        "tsa": provision_key(token, kind="ec", key_label="tsa", key_id=b"\x02", pki=pki, profile="tsa",
                             subject=SERVICE_SUBJECT + [("common_name", f"TSA {label}")]),
        "ocsp": provision_key(token, kind="ec", key_label="ocsp", key_id=b"\x03", pki=pki, profile="ocsp",
                              subject=SERVICE_SUBJECT + [("common_name", f"OCSP {label}")]),
    }
    session.close()  # logs the token out: the bridge's login is the one under test
    softhsm.module.forget_session(label)
    yield label, keys
    softhsm.module.forget_session(label)


def _bridge(softhsm, prompt, clock=None):
    return Bridge([softhsm.module], pin_prompt=prompt, consent=ScriptedConsent(default=True), audit=AuditLog(),
                  clock=clock)


def _request(provisioned) -> SignatureRequest:
    return SignatureRequest.from_json({
        "certificate_id": certificate_id(provisioned.certificate),
        "digest": base64.b64encode(hashlib.sha256(b"to sign").digest()).decode(), "digest_algorithm": "sha256",
        "signature_algorithm": "ecdsa", "description": "Tờ trình 3/TTr-VP"})


LOCAL = Requester(origin=None, client="test")


def test_request_naming_a_tsa_or_ocsp_key_never_reaches_the_pin(softhsm, service_token):
    label, keys = service_token
    prompt = ScriptedPinPrompt([TEST_USER_PIN])
    bridge = _bridge(softhsm, prompt)
    listed = {(entry.key_id, entry.kind) for entry in bridge.certificates() if entry.token_label == label}
    assert listed == {(b"\x01", "personal")}
    for name in ("tsa", "ocsp"):
        with pytest.raises(CertificateNotFound) as caught:
            bridge.sign(_request(keys[name]), requester=LOCAL)
        assert caught.value.http_status == 404
    assert prompt.requests == []  # no PIN was asked for, so none was spent
    assert bridge.sign(_request(keys["personal"]), requester=LOCAL).certificate == keys["personal"].certificate_der


def test_environment_pin_refused_once_is_not_tried_again_until_restart(softhsm, service_token, monkeypatch):
    label, keys = service_token
    monkeypatch.setenv(PIN_VARIABLE, "000000")  # the PIN of another token
    clock = Clock()
    prompt = EnvironmentPinPrompt(PIN_VARIABLE)
    bridge = _bridge(softhsm, prompt, clock)
    with pytest.raises(TokenPinIncorrect):
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    clock.now += dt.timedelta(hours=1)  # past any back-off
    monkeypatch.setenv(PIN_VARIABLE, TEST_USER_PIN)  # even a PIN that would now be right is not offered
    with pytest.raises(EnvironmentPinRejected) as caught:
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    assert str(caught.value) == (
        f"The PIN from environment variable {PIN_VARIABLE} was refused by token '{label}'; the bridge does not try"
        " it on this token again until it is restarted.")
    assert caught.value.http_status == 403
    # A restarted bridge (a new prompt) reads the environment again.
    restarted = _bridge(softhsm, EnvironmentPinPrompt(PIN_VARIABLE))
    assert restarted.sign(_request(keys["personal"]), requester=LOCAL).certificate == keys["personal"].certificate_der


def test_repeated_failed_logins_back_off(softhsm, service_token):
    label, keys = service_token
    clock = Clock()
    prompt = ScriptedPinPrompt(["000001"])
    bridge = _bridge(softhsm, prompt, clock)
    with pytest.raises(TokenPinIncorrect):
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    asked = len(prompt.requests)
    with pytest.raises(TokenPinBackoff) as caught:
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    assert str(caught.value) == (f"After 1 failed login(s) on token '{label}', the next attempt waits: try again "
                                 "in 1 seconds.")
    assert (caught.value.http_status, len(prompt.requests)) == (429, asked)  # the token was not touched
    clock.now += dt.timedelta(seconds=1)
    prompt.pins.append(Pin("000002"))
    with pytest.raises(TokenPinIncorrect):
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    clock.now += dt.timedelta(seconds=1)
    with pytest.raises(TokenPinBackoff) as caught:
        bridge.sign(_request(keys["personal"]), requester=LOCAL)
    assert caught.value.retry_after_seconds == 1 and "After 2 failed login(s)" in str(caught.value)
    clock.now += dt.timedelta(seconds=1)
    prompt.pins.append(Pin(TEST_USER_PIN))
    assert bridge.sign(_request(keys["personal"]), requester=LOCAL).certificate == keys["personal"].certificate_der
    assert bridge._login_failures == {}
