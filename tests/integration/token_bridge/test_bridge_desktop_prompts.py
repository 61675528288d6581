"""The desktop PIN and consent dialogs (tkinter) on a real X server (Xvfb), typed into with xdotool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json, sys
from token_bridge.consent import ConsentRequest, DesktopConsent
from token_bridge.errors import PinState
from token_bridge.pin import DesktopPinPrompt, PinRequest
pins, consent = DesktopPinPrompt(), DesktopConsent()
pins._zenity = consent._zenity = None  # the tkinter dialogs
request = PinRequest(label="an-token", serial="0001", pin_state=PinState.FINAL_TRY, purpose="Quyết định 12/QĐ-UBND")
pin = pins.ask_pin(request)
answers = {"pin": pin.reveal() if pin else None, "final_try": pins.confirm_final_try(request)}
answers["consent"] = consent.ask_consent(ConsentRequest(
    description="Quyết định 12/QĐ-UBND", origin="https://vanban.hanoi.gov.vn", signer="Nguyễn Văn An",
    certificate_kind="personal", token_label="an-token", digest_algorithm="sha256",
    signature_algorithm="rsassa_pkcs1v15"))
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def display():
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    number = server.stdout.readline().strip()
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def _xdotool(display: str, *args: str) -> str:
    result = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                            text=True, timeout=30)
    # `search` exits 1 when no window matches: that is an answer, not a failure
    assert result.returncode == 0 or args[0] == "search", result.stderr
    return result.stdout


def _answer_next_dialog(display: str, *keys: str, text: str | None = None) -> str:
    """Wait for the next kyso dialog, focus it, type `text` and press `keys`; returns its window id."""
    deadline = time.monotonic() + 20
    while True:
        windows = _xdotool(display, "search", "--onlyvisible", "--name", "kyso").split()
        if windows:
            break
        assert time.monotonic() < deadline, "no kyso dialog appeared"
        time.sleep(0.1)
    window = windows[-1]
    time.sleep(0.3)  # let Tk finish mapping the dialog and focusing its entry before keys arrive
    _xdotool(display, "windowfocus", "--sync", window)
    if text is not None:
        _xdotool(display, "type", "--delay", "10", text)
    _xdotool(display, "key", *keys)
    # wait for this dialog to close before the next one is looked for
    while window in _xdotool(display, "search", "--name", "kyso").split():
        assert time.monotonic() < deadline + 20, "the dialog did not close"
        time.sleep(0.05)
    return window


def _run(display: str, answers) -> dict:
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], env={**os.environ, "DISPLAY": display},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for keys, text in answers:
            _answer_next_dialog(display, *keys, text=text)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    return json.loads(out)


def test_dialogs_return_the_typed_pin_and_default_to_no(display):
    # PIN typed and confirmed with Return; the final-try and consent questions answered with Return,
    # which is their default button: "no"
    assert _run(display, [(["Return"], "246810"), (["Return"], None), (["Return"], None)]) == {
        "pin": "246810", "final_try": False, "consent": False}


def test_dialogs_say_yes_only_when_yes_is_chosen(display):
    # Tab moves from the default "no" to "yes"; space presses it
    assert _run(display, [(["Return"], "1357"), (["Tab", "space"], None), (["Tab", "space"], None)]) == {
        "pin": "1357", "final_try": True, "consent": True}


def test_cancelled_pin_dialog_gives_no_pin(display):
    assert _run(display, [(["Escape"], None), (["Return"], None), (["Return"], None)]) == {
        "pin": None, "final_try": False, "consent": False}
