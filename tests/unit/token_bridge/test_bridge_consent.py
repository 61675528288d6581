"""Consent prompts show what is signed and who asks; only an explicit yes signs."""

from __future__ import annotations

import io

from token_bridge.consent import ConsentRequest, ConsoleConsent, ScriptedConsent

REQUEST = ConsentRequest(
    description="Quyết định 12/QĐ-UBND", origin="https://vanban.hanoi.gov.vn", signer="Nguyễn Văn An",
    certificate_kind="personal", token_label="an-token", digest_algorithm="sha256",
    signature_algorithm="rsassa_pkcs1v15",
)


def test_messages_name_the_origin_the_signer_and_the_document():
    assert REQUEST.message_vi == (
        "https://vanban.hanoi.gov.vn yêu cầu chữ ký cá nhân của Nguyễn Văn An (thiết bị 'an-token').\n"
        "Nội dung: Quyết định 12/QĐ-UBND\nĐồng ý ký?"
    )
    assert REQUEST.message_en.startswith("https://vanban.hanoi.gov.vn asks for the personal signature of Nguyễn Văn An")


def test_console_consent_needs_a_typed_yes():
    out = io.StringIO()
    assert ConsoleConsent(output=out, input_stream=io.StringIO("\n")).ask_consent(REQUEST) is False
    assert ConsoleConsent(output=out, input_stream=io.StringIO("y\n")).ask_consent(REQUEST) is False
    assert ConsoleConsent(output=out, input_stream=io.StringIO("Có\n")).ask_consent(REQUEST) is True
    assert "Nội dung: Quyết định 12/QĐ-UBND" in out.getvalue()


def test_scripted_consent_refuses_when_it_runs_out():
    consent = ScriptedConsent([True])
    assert consent.ask_consent(REQUEST) is True
    assert consent.ask_consent(REQUEST) is False
    assert consent.requests == [REQUEST, REQUEST]
