"""Tokens, slots and logins on real SoftHSM tokens: flags, wrong PINs, final try, locked PINs."""

from __future__ import annotations

import itertools
import threading

import pytest

from tests.support.softhsm import TEST_SO_PIN, TEST_USER_PIN, unsafe_set_pin_flags
from token_bridge.errors import (
    PinEntryCancelled,
    PinState,
    TokenNotPresent,
    TokenPinFinalTryNotConfirmed,
    TokenPinIncorrect,
    TokenPinLocked,
)
from token_bridge.keys import list_objects
from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.pin import Pin, ScriptedPinPrompt
from token_bridge.softhsm import initialise_token

pytestmark = pytest.mark.integration

_counter = itertools.count(1)


@pytest.fixture
def fresh_label(softhsm) -> str:
    """A newly initialised token nobody has logged in to yet."""
    label = f"test-bridge-pin-{next(_counter)}"
    initialise_token(softhsm.module, label=label, so_pin=TEST_SO_PIN, user_pin=TEST_USER_PIN)
    return label


def test_tokens_are_listed_with_their_flags(softhsm, personal_rsa_token, agency_ec_token):
    tokens = {t.label: t for t in softhsm.module.tokens()}
    personal = tokens["test-personal-rsa"]
    assert (personal.manufacturer, personal.model) == ("SoftHSM project", "SoftHSM v2")
    assert len(personal.serial) == 16
    assert personal.flags.initialised and personal.flags.login_required and personal.flags.user_pin_initialised
    assert (personal.flags.pin_count_low, personal.flags.pin_final_try, personal.flags.pin_locked) == (False, False, False)
    assert personal.pin_state is PinState.OK
    assert "test-agency-ec" in tokens
    # SoftHSM's spare slot holds a token that is not initialised: a slot, not a token
    spare = [s for s in softhsm.module.slots() if s.token is not None and not s.token.flags.initialised]
    assert len(spare) == 1 and spare[0].token.label not in tokens


def test_token_json_has_no_secret(softhsm, personal_rsa_token):
    info = softhsm.module.token_info("test-personal-rsa").to_json()
    assert set(info) == {"slot_id", "label", "serial", "manufacturer", "model", "flags", "pin_state"}
    assert TEST_USER_PIN not in repr(info) and TEST_SO_PIN not in repr(info)


def test_wrong_pin_reports_the_remaining_state_then_the_right_pin_logs_in(softhsm, fresh_label):
    prompt = ScriptedPinPrompt(["000000", TEST_USER_PIN])
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    assert [o.kind for o in list_objects(session)] == []
    first, second = prompt.requests
    assert (first.attempt, first.previous_attempt_failed, first.pin_state) == (1, False, PinState.OK)
    assert (second.attempt, second.previous_attempt_failed, second.pin_state) == (2, True, PinState.COUNT_LOW)
    assert "The previous PIN was wrong." in second.message_en
    assert "Mã PIN vừa nhập không đúng." in second.message_vi
    assert softhsm.module.token_info(fresh_label).pin_state is PinState.OK  # success clears COUNT_LOW


def test_wrong_pin_only_gives_a_clear_error(softhsm, fresh_label):
    session = softhsm.module.session(fresh_label, pin_prompt=ScriptedPinPrompt(["000000"]))
    with pytest.raises(TokenPinIncorrect) as caught:
        list_objects(session)
    assert str(caught.value) == (
        f"Wrong PIN for token '{fresh_label}': the token has recorded wrong PIN attempts; it will lock after a few more."
    )
    assert caught.value.pin_state is PinState.COUNT_LOW
    assert caught.value.to_json()["pin_state"] == "count_low"
    assert "000000" not in repr(caught.value.to_json())


def test_three_wrong_pins_stop_after_the_configured_attempts(softhsm, fresh_label):
    prompt = ScriptedPinPrompt(["1", "2", "3", TEST_USER_PIN])
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    with pytest.raises(TokenPinIncorrect):
        list_objects(session)
    assert len(prompt.requests) == 3 and len(prompt.pins) == 1  # the fourth PIN was never asked for


def test_final_try_is_not_attempted_without_confirmation(softhsm, fresh_label):
    unsafe_set_pin_flags(softhsm.directory, fresh_label, final_try=True)
    assert softhsm.module.token_info(fresh_label).pin_state is PinState.FINAL_TRY
    prompt = ScriptedPinPrompt([TEST_USER_PIN], confirm_final_try=False)
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    with pytest.raises(TokenPinFinalTryNotConfirmed) as caught:
        list_objects(session)
    assert str(caught.value) == (
        f"Token '{fresh_label}' is at its final PIN try (a wrong PIN locks it) and the attempt was not confirmed, "
        "so no PIN was sent."
    )
    assert len(prompt.final_try_questions) == 1 and prompt.requests == []  # no PIN was even asked for
    assert prompt.final_try_questions[0].pin_state is PinState.FINAL_TRY


def test_final_try_confirmed_logs_in(softhsm, fresh_label):
    unsafe_set_pin_flags(softhsm.directory, fresh_label, final_try=True)
    prompt = ScriptedPinPrompt([TEST_USER_PIN], confirm_final_try=True)
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    assert list_objects(session) == []
    assert prompt.requests[0].pin_state is PinState.FINAL_TRY
    assert "one try remains" in prompt.requests[0].message_en


def test_locked_token_gets_a_clear_message_and_no_attempt(softhsm, fresh_label):
    unsafe_set_pin_flags(softhsm.directory, fresh_label, locked=True)
    prompt = ScriptedPinPrompt([TEST_USER_PIN], confirm_final_try=True)
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    with pytest.raises(TokenPinLocked) as caught:
        list_objects(session)
    assert str(caught.value).startswith(f"The PIN of token '{fresh_label}' is locked;")
    assert caught.value.message_vi.startswith(f"Mã PIN của thiết bị '{fresh_label}' đã bị khóa")
    assert prompt.requests == [] and prompt.final_try_questions == []


def test_cancelled_pin_entry(softhsm, fresh_label):
    session = softhsm.module.session(fresh_label, pin_prompt=ScriptedPinPrompt([]))
    with pytest.raises(PinEntryCancelled, match=f"^PIN entry for token '{fresh_label}' was cancelled\\.$"):
        list_objects(session)


def test_unknown_label_is_token_not_present(softhsm):
    with pytest.raises(TokenNotPresent) as caught:
        softhsm.module.token_info("no-such-token")
    assert str(caught.value) == "Token 'no-such-token' is not present. Insert it and try again."
    assert caught.value.message_vi == "Không tìm thấy thiết bị ký số 'no-such-token'. Hãy cắm thiết bị và thử lại."


class _WaitingPrompt:
    """A PIN prompt that holds its answer until the test releases it (a user slow to type)."""

    def __init__(self):
        self.asked = threading.Event()
        self.release = threading.Event()

    def ask_pin(self, request):
        self.asked.set()
        assert self.release.wait(timeout=30)
        return Pin(TEST_USER_PIN)

    def confirm_final_try(self, request):
        return False


def test_a_pin_prompt_waiting_on_one_token_does_not_block_the_others(softhsm, fresh_label, agency_ec_token):
    prompt = _WaitingPrompt()
    session = softhsm.module.session(fresh_label, pin_prompt=prompt)
    results = {}
    worker = threading.Thread(target=lambda: results.setdefault("slow", list_objects(session)))
    worker.start()
    try:
        assert prompt.asked.wait(timeout=30)
        # meanwhile another token signs and the module lists tokens
        signature = agency_ec_token.key.sign_digest(b"\x01" * 32, digest_algorithm=DigestAlgorithm.SHA256,
                                                    scheme=SignatureScheme.ECDSA)
        assert signature[0] == 0x30
        assert fresh_label in [t.label for t in softhsm.module.tokens()]
        assert "slow" not in results
    finally:
        prompt.release.set()
        worker.join(timeout=30)
    assert results["slow"] == []


FORK_SCRIPT = r"""
import hashlib, os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.keys import Pkcs11Key
from token_bridge.module import Pkcs11Module
from token_bridge.pin import RepeatingPinPrompt

def sign(tag):
    module = Pkcs11Module.load()
    key = Pkcs11Key(module.session("test-agency-ec", pin_prompt=RepeatingPinPrompt(sys.argv[1])), b"\x02")
    signature = key.sign_digest(hashlib.sha256(tag).digest(), digest_algorithm=DigestAlgorithm.SHA256,
                                scheme=SignatureScheme.ECDSA)
    public = serialization.load_der_public_key(key.public_key_info().dump())
    public.verify(signature, tag, ec.ECDSA(hashes.SHA256()))

sign(b"parent")                      # the parent logs in and signs (a preloading server master)
before = Pkcs11Module.load().generation
child = os.fork()
if child == 0:
    try:
        sign(b"child")               # the forked worker loads the module again and signs
        # PKCS#11: a child calls C_Initialize itself; the parent's sessions are not the child's
        assert Pkcs11Module.load().generation == before + 1, "the child did not re-initialise the module"
    except BaseException as exc:
        print("child failed:", type(exc).__name__, exc, flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(child, 0)
sign(b"parent again")
print("child exit", os.waitstatus_to_exitcode(status))
"""


def test_a_forked_worker_initialises_the_module_again_and_signs(softhsm, agency_ec_token):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", FORK_SCRIPT, agency_ec_token.token.user_pin],
                            env=softhsm.directory.environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"
