"""Attack documents built here from signed documents: each must be TOTAL_FAILED with the change named;
legitimate later signatures, allowed form filling and document timestamps stay valid.

Regression files are written under the test's tmp folder named after what they reproduce
(`isa-appended-page.pdf`, `shadow-hide-annotation.pdf`, ...) and checked through `verify_file`.
"""

from __future__ import annotations

import pytest
from pyhanko.sign.fields import MDPPerm

from tests.support import attacks
from tests.support.documents import sample_decision
from tests.support.verifier import sign_pdf
from verifier import Indication, Modifications, SubIndication


@pytest.fixture(scope="module")
def signed(verifier_kit):
    return sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())


@pytest.fixture(scope="module")
def form_document():
    return attacks.add_text_field(sample_decision(), "SoTien", value="5.000.000 dong")


@pytest.fixture(scope="module")
def signed_form(verifier_kit, form_document):
    return sign_pdf(form_document, verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())


def _judge(verifier, data: bytes, tmp_path, name: str):
    path = tmp_path / name
    path.write_bytes(data)
    report = verifier.verify_file(path)
    return report, report.signatures[0]


def _assert_disallowed(report, signature, *, sub=SubIndication.SIG_CONSTRAINTS_FAILURE, change_starts="other"):
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert (signature.indication, signature.sub_indication) == (Indication.TOTAL_FAILED, sub)
    assert signature.modifications is Modifications.DISALLOWED
    assert signature.change is not None and signature.change.startswith(change_starts), signature.change


def test_appended_page_after_signing(shared_verifier, signed, tmp_path):
    report, signature = _judge(shared_verifier, attacks.append_page(signed), tmp_path, "isa-appended-page.pdf")
    _assert_disallowed(report, signature)
    assert signature.change == "other: 1 page(s) added"
    assert signature.messages[0].en == "the document was changed after signing: 1 page(s) added"
    assert signature.messages[0].vi == "văn bản đã bị thay đổi sau khi ký: thêm 1 trang"


def test_second_revision_replacing_the_page_content(shared_verifier, signed, tmp_path):
    report, signature = _judge(shared_verifier, attacks.replace_page_content(signed), tmp_path,
                               "isa-replaced-page-content.pdf")
    _assert_disallowed(report, signature)
    assert signature.change == "other: content of page 1 replaced"
    assert signature.messages[0].vi == "văn bản đã bị thay đổi sau khi ký: nội dung trang 1 bị thay"


def test_shadow_hide_with_an_overlay_annotation_is_named_and_warned(shared_verifier, signed, tmp_path):
    """ISO 32000-2 12.8.2.2 / ETSI EN 319 142-1 allow annotations after an approval signature without DocMDP
    (issue 15): the opaque square is allowed, named, and the message warns that what it shows is not signed.
    A certification with P=1 or P=2 still refuses it (below)."""
    report, signature = _judge(shared_verifier, attacks.overlay_annotation(signed), tmp_path,
                               "shadow-hide-annotation.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert signature.modifications is Modifications.ALLOWED
    assert signature.change == "annotations: annotation (Square) added on page 1"
    warning = next(m for m in signature.messages if m.code == "modifications:allowed")
    assert warning.severity.value == "warning" and "what it shows is not signed" in warning.en


def test_shadow_replace_of_a_signed_form_appearance(shared_verifier, signed_form, tmp_path):
    forged = attacks.replace_field_appearance(signed_form, "SoTien", "500.000.000 dong")
    report, signature = _judge(shared_verifier, forged, tmp_path, "shadow-replace-form-appearance.pdf")
    _assert_disallowed(report, signature)
    assert "appearance of field(s) SoTien was replaced" in signature.change


def test_signature_wrapping_with_a_moved_byte_range(shared_verifier, signed, tmp_path):
    report, signature = _judge(shared_verifier, attacks.wrap_signature(signed), tmp_path,
                               "signature-wrapping-moved-byterange.pdf")
    _assert_disallowed(report, signature, sub=SubIndication.FORMAT_FAILURE,
                       change_starts="the signed byte range is not one block")
    assert "signature wrapping" in signature.change
    assert signature.coverage == "unclear"


def test_signature_covering_only_part_of_the_file(shared_verifier, signed, tmp_path):
    report, signature = _judge(shared_verifier, attacks.shorten_coverage(signed), tmp_path,
                               "partial-coverage-short-byterange.pdf")
    _assert_disallowed(report, signature, sub=SubIndication.FORMAT_FAILURE,
                       change_starts="the signed byte range does not end at the end of its revision")
    assert signature.coverage == "partial"


def test_certification_no_changes_keeps_document_timestamps_valid(shared_verifier, verifier_kit, tmp_path):
    from tests.support.verifier import add_document_timestamp

    certified = sign_pdf(sample_decision(), verifier_kit.signer("agency_ec"), certify=MDPPerm.NO_CHANGES,
                         timestamper=verifier_kit.timestamper())
    stamped = add_document_timestamp(certified, verifier_kit.timestamper())
    report, signature = _judge(shared_verifier, stamped, tmp_path, "docmdp-p1-document-timestamp.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert (signature.modifications, signature.change) == (Modifications.ALLOWED, "validation_data")


def test_certification_fill_forms_then_annotation(shared_verifier, verifier_kit, tmp_path):
    certified = sign_pdf(sample_decision(), verifier_kit.signer("agency_ec"), certify=MDPPerm.FILL_FORMS,
                         timestamper=verifier_kit.timestamper())
    report, signature = _judge(shared_verifier, attacks.overlay_annotation(certified), tmp_path,
                               "docmdp-p2-then-annotation.pdf")
    _assert_disallowed(report, signature, change_starts="annotations: annotation (Square) added on page 1")


def test_form_filling_after_an_approval_signature_is_allowed(shared_verifier, signed_form, tmp_path):
    filled = attacks.fill_text_field(signed_form, "SoTien", "6.000.000 dong")
    report, signature = _judge(shared_verifier, filled, tmp_path, "form-filling-allowed.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert signature.modifications is Modifications.ALLOWED
    assert signature.change == "form_filling: fields SoTien"


def test_form_filling_after_certification_that_allows_it(shared_verifier, verifier_kit, form_document, tmp_path):
    certified = sign_pdf(form_document, verifier_kit.signer("agency_ec"), certify=MDPPerm.FILL_FORMS,
                         timestamper=verifier_kit.timestamper())
    filled = attacks.fill_text_field(certified, "SoTien", "6.000.000 dong")
    report, signature = _judge(shared_verifier, filled, tmp_path, "docmdp-p2-form-filling.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert signature.modifications is Modifications.ALLOWED


def test_form_filling_after_certification_without_changes_is_refused(shared_verifier, verifier_kit,
                                                                     form_document, tmp_path):
    certified = sign_pdf(form_document, verifier_kit.signer("agency_ec"), certify=MDPPerm.NO_CHANGES)
    filled = attacks.fill_text_field(certified, "SoTien", "6.000.000 dong")
    report, signature = _judge(shared_verifier, filled, tmp_path, "docmdp-p1-form-filling.pdf")
    _assert_disallowed(report, signature, change_starts="form_filling: fields SoTien")
