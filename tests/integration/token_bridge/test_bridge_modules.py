"""More than one PKCS#11 module: SoftHSM beside OpenSC's module (a real vendor-style library, no reader
attached here), and libraries that are not PKCS#11 modules at all."""

from __future__ import annotations

import pytest

from token_bridge.consent import ScriptedConsent
from token_bridge.errors import ModuleLoadError
from token_bridge.module import Pkcs11Module
from token_bridge.pin import RepeatingPinPrompt
from token_bridge.signing import Bridge

pytestmark = pytest.mark.integration

OPENSC = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def test_a_second_module_without_tokens_changes_nothing(softhsm, personal_rsa_token):
    opensc = Pkcs11Module.load(OPENSC)
    assert opensc.slots() == [] and opensc.tokens() == []
    bridge = Bridge([opensc, softhsm.module], pin_prompt=RepeatingPinPrompt("123456"),
                    consent=ScriptedConsent(default=True))
    labels = [t.label for t in bridge.tokens()]
    assert "test-personal-rsa" in labels
    entries = [e for e in bridge.certificates() if e.token_label == "test-personal-rsa"]
    assert [e.module_path for e in entries] == [softhsm.module.path]


def test_missing_module_and_non_pkcs11_library_are_refused_clearly(tmp_path):
    with pytest.raises(ModuleLoadError) as caught:
        Pkcs11Module.load(tmp_path / "vendor.so")
    assert str(caught.value) == f"PKCS#11 module {tmp_path / 'vendor.so'} does not exist."
    assert caught.value.message_vi == f"Không có thư viện PKCS#11 {tmp_path / 'vendor.so'}."
    with pytest.raises(ModuleLoadError, match=r"^PKCS#11 module /usr/lib/x86_64-linux-gnu/libz\.so\.1 cannot be loaded: "):
        Pkcs11Module.load("/usr/lib/x86_64-linux-gnu/libz.so.1")
