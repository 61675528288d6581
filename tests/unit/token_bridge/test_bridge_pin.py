"""PINs never show themselves; prompts say what the token's PIN state means."""

from __future__ import annotations

import io
import pickle

import pytest

from token_bridge.errors import PinState, TokenPinIncorrect
from token_bridge.pin import ConsolePinPrompt, EnvironmentPinPrompt, Pin, PinRequest, RepeatingPinPrompt, ScriptedPinPrompt


def test_pin_repr_and_str_hide_the_value():
    pin = Pin("246810")
    assert repr(pin) == "Pin(***)" and str(pin) == "Pin(***)" and f"{pin}" == "Pin(***)"
    assert pin.reveal() == "246810"
    assert "246810" not in repr([pin, {"pin": pin}])


def test_pin_cannot_be_pickled_compared_or_empty():
    with pytest.raises(TypeError, match="a Pin cannot be pickled"):
        pickle.dumps(Pin("1"))
    assert (Pin("1") == Pin("1")) is False
    with pytest.raises(ValueError, match="a PIN is a non-empty string"):
        Pin("")


def test_prompts_reprs_hide_pins():
    assert repr(ScriptedPinPrompt(["99887766"])) == "ScriptedPinPrompt(1 PIN(s) left)"
    assert repr(RepeatingPinPrompt("99887766")) == "RepeatingPinPrompt(Pin(***))"


def test_pin_request_messages_in_both_languages():
    request = PinRequest(label="hk-ubnd", serial="abc", pin_state=PinState.FINAL_TRY, attempt=2,
                         previous_attempt_failed=True, purpose="Quyết định 12/QĐ-UBND")
    assert request.message_en.splitlines() == [
        "Enter the PIN of token 'hk-ubnd' (serial abc).",
        "For: Quyết định 12/QĐ-UBND",
        "The previous PIN was wrong.",
        "Token PIN state: one try remains: the next wrong PIN locks the token.",
    ]
    assert request.message_vi.splitlines()[-1] == (
        "Trạng thái PIN: chỉ còn một lần thử: nhập sai lần nữa thiết bị sẽ bị khóa."
    )


def test_repeating_and_environment_prompts_never_repeat_a_wrong_pin(monkeypatch):
    failed = PinRequest(label="t", serial="s", pin_state=PinState.COUNT_LOW, attempt=2, previous_attempt_failed=True)
    first = PinRequest(label="t", serial="s", pin_state=PinState.OK)
    assert RepeatingPinPrompt("1234").ask_pin(failed) is None
    monkeypatch.setenv("KYSO_TEST_PIN_VAR", "4321")
    prompt = EnvironmentPinPrompt("KYSO_TEST_PIN_VAR")
    assert prompt.ask_pin(first).reveal() == "4321"
    assert prompt.ask_pin(failed) is None
    assert prompt.confirm_final_try(first) is False


def test_console_prompt_needs_an_explicit_yes_for_the_final_try():
    request = PinRequest(label="t", serial="s", pin_state=PinState.FINAL_TRY)
    out = io.StringIO()
    assert ConsolePinPrompt(output=out, input_stream=io.StringIO("y\n")).confirm_final_try(request) is False
    assert ConsolePinPrompt(output=out, input_stream=io.StringIO("có\n")).confirm_final_try(request) is True
    assert "CẢNH BÁO: chỉ còn MỘT lần thử." in out.getvalue()


def test_pin_errors_serialise_without_secrets():
    error = TokenPinIncorrect("hk-ubnd", PinState.COUNT_LOW)
    assert error.to_json() == {
        "code": "pin_incorrect",
        "message": "Wrong PIN for token 'hk-ubnd': the token has recorded wrong PIN attempts; it will lock after a few more.",
        "message_vi": "Mã PIN của thiết bị 'hk-ubnd' không đúng: thiết bị đã ghi nhận lần nhập sai mã PIN; "
        "thêm vài lần sai nữa sẽ bị khóa.",
        "pin_state": "count_low",
    }
