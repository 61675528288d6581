"""Hostile and odd inputs: never a crash, always FORMAT_FAILURE or a precise message; and CAdES detached."""

from __future__ import annotations

import asyncio

from tests.support.documents import decision_pdf, large_decision, sample_decision
from tests.support.verifier import sign_pdf
from verifier import Indication, SubIndication, Verifier


def _outcome(report):
    """What a file-level result is made of: (indication, sub-indication, signatures, English messages)."""
    return report.indication, report.sub_indication, report.signatures, [m.en for m in report.messages]


FORMAT_FAILURE = (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, ())


def test_a_word_document_is_not_a_pdf(shared_verifier):
    report = shared_verifier.verify_pdf(b"PK\x03\x04 word/document.xml", path="hop-dong.docx")
    assert _outcome(report) == (*FORMAT_FAILURE, ["the file is not a PDF document (no %PDF- header)"])
    assert report.to_json("vi")["messages"] == ["tệp không phải văn bản PDF (thiếu phần đầu %PDF-)"]


def test_a_truncated_signed_pdf_is_unreadable(shared_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"))
    report = shared_verifier.verify_pdf(signed[: len(signed) // 2])
    assert _outcome(report) == (*FORMAT_FAILURE, ["the PDF cannot be read: EOF marker not found"])


def test_garbage_after_the_header_is_unreadable(shared_verifier):
    report = shared_verifier.verify_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert _outcome(report) == (*FORMAT_FAILURE, ["the PDF cannot be read: EOF marker not found"])


def test_an_encrypted_pdf_needs_its_password(shared_verifier):
    report = shared_verifier.verify_pdf(decision_pdf(encrypt_password="mat-khau"))
    assert _outcome(report) == (
        *FORMAT_FAILURE, ["the PDF is encrypted with a password; it cannot be validated without it"])
    assert report.to_json("vi")["messages"] == [
        "tệp PDF được mã hóa bằng mật khẩu; không thể kiểm tra khi không có mật khẩu"]


def test_an_unsigned_pdf_has_no_signature(shared_verifier):
    report = shared_verifier.verify_pdf(sample_decision())
    assert (report.indication, report.signatures) == (Indication.NO_SIGNATURE_FOUND, ())


def test_a_signature_with_garbage_contents_is_a_malformed_signature(shared_verifier, verifier_kit):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"))
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    broken = signed[:start] + b"00" * 64 + signed[start + 128:]
    report = shared_verifier.verify_pdf(broken)
    assert (report.indication, report.sub_indication) == (Indication.TOTAL_FAILED, None)
    signature = report.signatures[0]
    assert (signature.field, signature.indication, signature.sub_indication) == (
        "Signature1", Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    assert signature.messages[0].en.startswith("the signature is malformed: Error parsing asn1crypto.cms.ContentInfo")


def test_a_large_signed_pdf_is_validated(shared_verifier, verifier_kit):
    signed = sign_pdf(large_decision(5.0), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())
    assert len(signed) > 5_000_000
    assert shared_verifier.verify_pdf(signed).indication is Indication.TOTAL_PASSED


def test_a_file_over_the_size_limit_is_refused_with_its_size(verifier_kit, tmp_path):
    path = tmp_path / "huge.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"0" * 2_000_000)
    with Verifier(verifier_kit.settings(), max_bytes=1_000_000) as verifier:
        report = verifier.verify_file(path)
    assert _outcome(report) == (*FORMAT_FAILURE, ["the file is 2000009 bytes, over the limit of 1000000 bytes"])


# ---- CAdES detached -------------------------------------------------------------------------------

def _p7s(verifier_kit, content: bytes, *, timestamp: bool = True) -> bytes:
    signer = verifier_kit.signer("agency_rsa")
    info = asyncio.run(signer.async_sign_general_data(
        content, "sha256", detached=True, use_cades=True,
        timestamper=verifier_kit.timestamper() if timestamp else None))
    return info.dump()


CONTENT = "Tờ trình số 12/TTr-UBND: đề nghị phê duyệt kế hoạch chuyển đổi số.".encode()


def test_cades_detached_signature_passes(shared_verifier, verifier_kit, tmp_path):
    (tmp_path / "to-trinh.xml").write_bytes(CONTENT)
    (tmp_path / "to-trinh.xml.p7s").write_bytes(_p7s(verifier_kit, CONTENT))
    report = shared_verifier.verify_file(tmp_path / "to-trinh.xml.p7s")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    signature = report.signatures[0]
    assert (signature.kind.value, signature.signer.common_name) == ("agency", "Sở Nội vụ Thành phố Hà Nội")
    assert signature.signing_time_source.value == "timestamp"


def test_cades_over_changed_content_fails_the_hash(shared_verifier, verifier_kit):
    report = shared_verifier.verify_cades(_p7s(verifier_kit, CONTENT, timestamp=False), CONTENT + b" (sua)")
    assert (report.signatures[0].indication, report.signatures[0].sub_indication) == (
        Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)


def test_cades_garbage_and_missing_content_are_format_failures(shared_verifier, tmp_path):
    garbage = shared_verifier.verify_cades(b"not a cms", CONTENT)
    assert _outcome(garbage) == (*FORMAT_FAILURE, [
        "the file is not a CMS (CAdES) detached signature: Insufficient data - 111 bytes requested but only 7 "
        "available"])
    (tmp_path / "lone.pdf.p7s").write_bytes(b"0")
    lone = shared_verifier.verify_file(tmp_path / "lone.pdf.p7s")
    assert _outcome(lone) == (*FORMAT_FAILURE, ["the signed content lone.pdf is not beside the signature"])
    assert lone.to_json("vi")["messages"] == ["không tìm thấy tệp nội dung lone.pdf bên cạnh chữ ký"]


def test_random_corruptions_never_crash_and_pass_only_within_the_signature_padding(shared_verifier, verifier_kit):
    import random

    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())
    rng = random.Random(20261129)  # seeded: a failure is reproducible
    for round_ in range(40):
        data = bytearray(signed)
        if round_ % 4 == 0:
            data = data[: rng.randrange(8, len(data))]  # truncated somewhere
        else:
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)  # flipped bytes
        report = shared_verifier.verify_pdf(bytes(data), path=f"corrupt-{round_}.pdf")
        assert report.indication in (Indication.TOTAL_FAILED, Indication.INDETERMINATE,
                                     Indication.NO_SIGNATURE_FOUND, Indication.TOTAL_PASSED)
        if bytes(data) != signed and report.indication is Indication.TOTAL_PASSED:
            # Only bytes outside the signed ranges may change without failing: the hole holding the
            # signature value's hex padding. Anything else passing would be a bug.
            start = signed.index(b"/Contents <") + len(b"/Contents <")
            end = signed.index(b">", start)
            changed = [i for i in range(min(len(data), len(signed))) if data[i] != signed[i]]
            assert changed and all(start <= i < end for i in changed), changed
