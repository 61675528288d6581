from datetime import datetime, timezone

import pytest

from verifier import FileReport, Indication, Modifications, NotPassed, SignatureKind, SubIndication, TimeSource
from verifier.report import Message, SignatureReport


def _signature(indication, sub=None, field="Sig"):
    return SignatureReport(
        field=field, kind=SignatureKind.PERSONAL, indication=indication, sub_indication=sub, signer=None,
        certificate_sha256=None, signing_time=datetime(2026, 11, 29, 2, 37, 36, tzinfo=timezone.utc),
        signing_time_source=TimeSource.TIMESTAMP, claimed_time=None, timestamp=None, trust_anchor=None,
        revocation=(), coverage="entire_file", modifications=Modifications.NONE, change=None,
        digest_algorithm="sha256", signature_algorithm="sha256_ecdsa",
        messages=(Message("x", "valid", "hợp lệ"),),
    )


def test_the_file_indication_follows_the_worst_signature():
    passed = _signature(Indication.TOTAL_PASSED)
    doubt = _signature(Indication.INDETERMINATE, SubIndication.TRY_LATER)
    failed = _signature(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    assert FileReport.of("a", ()).indication is Indication.NO_SIGNATURE_FOUND
    assert FileReport.of("a", (passed,)).indication is Indication.TOTAL_PASSED
    assert FileReport.of("a", (passed, doubt)).indication is Indication.INDETERMINATE
    assert FileReport.of("a", (doubt, failed, passed)).indication is Indication.TOTAL_FAILED


def test_sub_indications_go_only_with_failures_and_doubts():
    with pytest.raises(ValueError, match="a sub-indication goes with TOTAL_FAILED or INDETERMINATE"):
        _signature(Indication.TOTAL_PASSED, SubIndication.REVOKED)
    with pytest.raises(ValueError, match="a TOTAL_FAILED signature needs its sub-indication"):
        _signature(Indication.TOTAL_FAILED)
    # INDETERMINATE without a sub-indication is the verifier's own internal error (no ETSI name for it).
    assert _signature(Indication.INDETERMINATE).sub_indication is None
    with pytest.raises(ValueError, match="cannot be NO_SIGNATURE_FOUND"):
        _signature(Indication.NO_SIGNATURE_FOUND, SubIndication.FORMAT_FAILURE)


def test_json_uses_the_vietnam_offset_and_the_chosen_language():
    data = FileReport.of("qd.pdf", (_signature(Indication.TOTAL_PASSED),)).to_json(lang="vi")
    signature = data["signatures"][0]
    assert signature["signing_time"] == "2026-11-29T09:37:36+07:00"
    assert (signature["messages"], signature["sub_indication"], signature["kind"]) == (["hợp lệ"], None, "personal")


def test_require_passed_is_the_gate():
    good = FileReport.of("a.pdf", (_signature(Indication.TOTAL_PASSED),))
    assert good.require_passed() is good
    bad = FileReport.of("b.pdf", (_signature(Indication.TOTAL_FAILED, SubIndication.REVOKED, field="Sig2"),))
    with pytest.raises(NotPassed, match="b.pdf: TOTAL_FAILED \\(Sig2: TOTAL_FAILED/REVOKED\\)") as caught:
        bad.require_passed()
    assert caught.value.report is bad


def test_format_failure_has_no_signatures():
    report = FileReport.format_failure("x.docx", Message("format.not-pdf", "not a PDF", "không phải PDF"))
    assert report.to_json("en") == {"path": "x.docx", "indication": "TOTAL_FAILED", "sub_indication": "FORMAT_FAILURE",
                                    "signatures": [], "messages": ["not a PDF"]}
