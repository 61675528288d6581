"""The verifier reports hostile files as FORMAT_FAILURE with the `format.limit-exceeded` message naming the
bound, without judging anything in them; a field without a signature value is not a signature (issue 9)."""

from __future__ import annotations

import pytest

from tests.support.documents import sample_decision
from tests.support.hostile_pdfs import deep_page_tree, flate_bomb, looping_page_tree, many_signature_fields, with_empty_signature_fields
from verifier import LIMIT_MESSAGE, Indication, SettingsError, SubIndication, ValidationSettings, Verifier


@pytest.fixture(scope="module")
def verifier():
    with Verifier(ValidationSettings(offline=True)) as verifier:
        yield verifier


@pytest.mark.parametrize("build, english", [
    (lambda: flate_bomb(inflated=80 * 1024 * 1024), "refused: one stream of the PDF decodes to more than 67108864 bytes"),
    (lambda: many_signature_fields(20_000), "refused: the PDF has more than 100 signature fields"),
    (lambda: deep_page_tree(5_000), "refused: the page tree of the PDF is nested more than 64 levels deep"),
    (looping_page_tree, "refused: the page tree of the PDF refers back to itself (a reference loop)"),
])
def test_hostile_files_are_format_failures_naming_the_bound(verifier, build, english):
    report = verifier.verify_pdf(build(), path="hostile.pdf")
    assert (report.indication, report.sub_indication, report.signatures) == (
        Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, ())
    assert (report.limit_refusal.code, report.limit_refusal.en) == (LIMIT_MESSAGE, english)


def test_signature_fields_without_a_signature_value_are_not_signatures(verifier):
    report = verifier.verify_pdf(with_empty_signature_fields(sample_decision(), 20), path="empty-fields.pdf")
    assert (report.indication, report.signatures, report.limit_refusal) == (Indication.NO_SIGNATURE_FOUND, (), None)


def test_pdf_limits_come_from_the_verifier_table():
    settings = ValidationSettings.from_config({"pdf_limits": {"max_signature_fields": 5}})
    assert settings.pdf_limits.max_signature_fields == 5
    with Verifier(ValidationSettings(offline=True, pdf_limits=settings.pdf_limits)) as strict:
        report = strict.verify_pdf(many_signature_fields(6), path="six.pdf")
    assert report.limit_refusal.en == "refused: the PDF has more than 5 signature fields"
    with pytest.raises(SettingsError) as wrong:
        ValidationSettings.from_config({"pdf_limits": {"max_fields": 5}})
    assert str(wrong.value).startswith("[verifier.pdf_limits]: unknown PDF limit(s) max_fields; known: ")
