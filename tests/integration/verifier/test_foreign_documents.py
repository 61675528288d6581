"""Documents made by other people's software (issue 15): every class of failure seen on them gets its own
test here, on files built in the test; the peer corpus (../shared/corpus) is checked file by file in
test_peer_corpus.py.

Classes: an internal error is never a verdict on the document; EdDSA (RFC 8419) judged by the policy;
a detached signature carrying eContent; an incremental update with a damaged xref; legitimate later
annotations named and allowed.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

import pytest
from pyhanko.sign.fields import MDPPerm
from pyhanko_certvalidator import ValidationContext

from policies.validation import ValidationPolicy
from tests.support import attacks
from tests.support.documents import sample_decision
from tests.support.verifier import build_edwards_pki, sign_pdf
from verifier import Indication, Modifications, SubIndication, ValidationSettings, Verifier

DIGEST_OF = {"ed25519": "sha512", "ed448": "shake256"}  # RFC 8419, 3.1


def _eddsa_signed(label: str) -> tuple[bytes, object]:
    pki = build_edwards_pki()
    entity = getattr(pki, label)
    context = ValidationContext(trust_roots=[pki.root], crls=[pki.crl], allow_fetching=False)
    signed = sign_pdf(sample_decision(), entity.signer(), md_algorithm=DIGEST_OF[label], embed_validation_info=True,
                      validation_context=context)
    return signed, pki


@pytest.mark.parametrize("label", ["ed25519", "ed448"])
def test_eddsa_signature_passes_under_the_default_policy(label):
    signed, pki = _eddsa_signed(label)
    with Verifier(ValidationSettings(explicit_roots=(("eddsa-root", pki.root),), offline=True)) as verifier:
        report = verifier.verify_pdf(signed)
    (signature,) = report.signatures
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_PASSED, None), report.to_json()
    assert (signature.digest_algorithm, signature.signature_algorithm) == (DIGEST_OF[label], label)


@pytest.mark.parametrize("label", ["ed25519", "ed448"])
def test_eddsa_refused_by_a_policy_is_crypto_constraints_failure_naming_it(label):
    signed, pki = _eddsa_signed(label)
    policy = ValidationPolicy.default()
    policy = dataclasses.replace(policy, algorithms=dataclasses.replace(
        policy.algorithms, key_algorithms=frozenset({"rsa", "ec"})))
    settings = ValidationSettings(explicit_roots=(("eddsa-root", pki.root),), offline=True, policy=policy)
    with Verifier(settings) as verifier:
        (signature,) = verifier.verify_pdf(signed).signatures
    assert (signature.indication, signature.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE)
    refusal = next(m for m in signature.messages if m.code == "validation:algorithms:key-algorithm")
    assert refusal.en == f"key algorithm {label.upper()} is not allowed (allowed: EC, RSA)"
    assert refusal.vi == f"thuật toán khóa {label.upper()} không được phép (được phép: EC, RSA)"


def test_an_exception_inside_validation_is_indeterminate_internal_error_and_logged(caplog):
    """A broken environment (here a clock without a UTC offset, which no comparison with a certificate's
    validity can use) makes the validation itself fail: that is never the document's fault."""
    signed, pki = _eddsa_signed("ed25519")
    settings = ValidationSettings(explicit_roots=(("eddsa-root", pki.root),), offline=True)
    with caplog.at_level(logging.ERROR, logger="verifier"), Verifier(settings, clock=datetime.now) as verifier:
        report = verifier.verify_pdf(signed, path="naive-clock.pdf")
    assert report.indication is Indication.INDETERMINATE, report.to_json()
    messages = [m for s in report.signatures for m in s.messages] + list(report.messages)
    internal = [m for m in messages if m.code == "internal-error"]
    assert len(internal) == 1, report.to_json()
    assert internal[0].en.startswith("internal error of the verifier, not a fault of the document: TypeError: ")
    assert internal[0].vi.startswith("lỗi nội bộ của phần mềm kiểm tra, không phải lỗi của văn bản: TypeError: ")
    assert all(s.sub_indication is not SubIndication.FORMAT_FAILURE for s in report.signatures)
    logged = [r for r in caplog.records if r.name.startswith("verifier") and r.levelno == logging.ERROR]
    assert len(logged) == 1 and "naive-clock.pdf" in logged[0].getMessage()
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is TypeError


def test_detached_signature_with_encapsulated_content_is_format_failure(shared_verifier, verifier_kit, tmp_path):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"))
    path = tmp_path / "detached-with-econtent.pdf"
    path.write_bytes(attacks.encapsulate_content(signed))
    report = shared_verifier.verify_file(path)
    (signature,) = report.signatures
    assert report.indication is Indication.TOTAL_FAILED
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE)
    (message,) = signature.messages
    assert message.code == "format.signature-structure"
    assert message.en == ("the detached signature (ETSI.CAdES.detached) carries encapsulated content (eContent); a "
                          "detached PDF signature must not (ISO 32000-2, 12.8.3.3; ETSI EN 319 142-1, 6.3)")
    assert message.vi == ("chữ ký tách rời (ETSI.CAdES.detached) lại chứa nội dung đóng gói (eContent); chữ ký PDF "
                          "tách rời không được chứa (ISO 32000-2, 12.8.3.3; ETSI EN 319 142-1, 6.3)")


def test_incremental_update_with_a_damaged_xref_is_a_disallowed_change(shared_verifier, verifier_kit, tmp_path):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())
    forged = attacks.append_without_xref(signed)
    path = tmp_path / "isa-damaged-xref.pdf"
    path.write_bytes(forged)
    report = shared_verifier.verify_file(path)
    (signature,) = report.signatures
    unexplained = len(forged) - len(signed) - 2  # the leading and the final newline are padding
    assert report.indication is Indication.TOTAL_FAILED
    assert (signature.indication, signature.sub_indication) == (
        Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)
    assert signature.modifications is Modifications.DISALLOWED
    assert signature.change == (
        f"other: {unexplained} bytes after the last revision do not form a clean incremental update (damaged or "
        f"missing cross-reference table): content added after signing that cannot be analysed")
    message = next(m for m in signature.messages if m.code == "modifications.unanalysable")
    assert message.vi == (
        f"văn bản đã bị thay đổi sau khi ký: {unexplained} byte sau phiên bản cuối không tạo thành một bản cập nhật "
        f"gia tăng hợp lệ (bảng tham chiếu chéo bị hỏng hoặc thiếu): nội dung thêm sau khi ký không thể phân tích")
    # The same file without the damaged tail is unchanged: the finding is the tail, nothing else.
    assert shared_verifier.verify_pdf(signed).signatures[0].modifications is Modifications.NONE


ANNOTATION_EN = ("annotation (Square) added on page 1 after signing: allowed, does not alter the signed content (an "
                 "annotation is drawn over the page: what it shows is not signed)")
ANNOTATION_VI = ("thêm chú thích (Square) trên trang 1 sau khi ký: được phép, không làm thay đổi nội dung đã ký (chú "
                 "thích được vẽ đè lên trang: phần chú thích hiển thị không được ký)")


def _assert_annotation_allowed(report, signature):
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert signature.modifications is Modifications.ALLOWED
    assert signature.change == "annotations: annotation (Square) added on page 1"
    message = next(m for m in signature.messages if m.code == "modifications:allowed")
    assert (message.en, message.vi, message.severity.value) == (ANNOTATION_EN, ANNOTATION_VI, "warning")


def test_annotation_after_an_approval_signature_is_allowed_and_named(shared_verifier, verifier_kit, tmp_path):
    signed = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())
    path = tmp_path / "approval-then-comment.pdf"
    path.write_bytes(attacks.overlay_annotation(signed))
    report = shared_verifier.verify_file(path)
    _assert_annotation_allowed(report, report.signatures[0])


def test_annotation_after_a_certification_with_p3_is_allowed(shared_verifier, verifier_kit, tmp_path):
    certified = sign_pdf(sample_decision(), verifier_kit.signer("agency_ec"), certify=MDPPerm.ANNOTATE,
                         timestamper=verifier_kit.timestamper())
    path = tmp_path / "docmdp-p3-then-comment.pdf"
    path.write_bytes(attacks.overlay_annotation(certified))
    report = shared_verifier.verify_file(path)
    _assert_annotation_allowed(report, report.signatures[0])
