"""B-LT and B-LTA documents that verify offline (issue 15): the DSS proves every signature, the earlier
approval signature and both timestamp authorities' chains included, with a VRI entry per signature.

Judges: our verifier with `offline=True` (it never fetches: the PKI might as well be switched off), and
pyHanko's own LTV validation (PAdES-LT, revocation from the document only)."""

from __future__ import annotations

import hashlib
import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_timestamp

from signer import PadesLevel, SignatureKind, SignatureRequest, sign_pdf
from tests.support import documents
from verifier import Indication, SignatureKind as ReportKind, ValidationSettings, Verifier


def _issued(pki, environment, signature_stamp, seal_stamp, level: PadesLevel) -> bytes:
    leader, seal = pki.entity("official_rsa"), pki.entity("agency_ec")
    approved = sign_pdf(
        documents.sample_decision(), key=leader.key, certificate=leader.certificate, chain=leader.chain,
        request=SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T, signature_image=signature_stamp,
                                 title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME),
        environment=environment)
    issued = sign_pdf(
        approved.pdf, key=seal.key, certificate=seal.certificate, chain=seal.chain,
        request=SignatureRequest(kind=SignatureKind.ISSUE, level=level, seal_image=seal_stamp,
                                 agency_code="000.00.00.H26", series="QĐ-UBND"),
        environment=environment)
    return issued.pdf


@pytest.fixture(scope="module")
def offline_verifier(pki):
    with Verifier(ValidationSettings(explicit_roots=(("test-root", pki.root.certificate),), offline=True)) as v:
        yield v


@pytest.mark.integration
@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA], ids=lambda level: level.value)
def test_every_signature_verifies_offline_from_the_dss(pki, environment, signature_stamp, seal_stamp,
                                                       offline_verifier, level):
    pdf = _issued(pki, environment, signature_stamp, seal_stamp, level)
    report = offline_verifier.verify_pdf(pdf, path=f"issued-{level.value}.pdf")
    kinds = [s.kind for s in report.signatures]
    expected = [ReportKind.PERSONAL, ReportKind.AGENCY] + ([ReportKind.TIMESTAMP] if level is PadesLevel.B_LTA else [])
    assert kinds == expected
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * len(expected), report.to_json()
    assert report.indication is Indication.TOTAL_PASSED

    # one VRI entry per signature and document timestamp (ETSI EN 319 142-1, 5.4.2.3: SHA-1 of /Contents)
    reader = PdfFileReader(io.BytesIO(pdf))
    vri = reader.root["/DSS"]["/VRI"]
    for embedded in reader.embedded_signatures:
        assert "/" + hashlib.sha1(embedded.pkcs7_content).hexdigest().upper() in vri, embedded.field_name


@pytest.mark.integration
@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA], ids=lambda level: level.value)
def test_pyhanko_agrees_from_the_dss_alone(pki, environment, signature_stamp, seal_stamp, judge_statuses, level):
    pdf = _issued(pki, environment, signature_stamp, seal_stamp, level)
    statuses = judge_statuses(pdf, offline_from_dss=True)
    assert len(statuses) == 2
    for field, status in statuses.items():
        assert status.bottom_line, (field, status.pretty_print_details())
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted, field
    reader = PdfFileReader(io.BytesIO(pdf))
    for embedded in reader.embedded_timestamp_signatures:
        context = DocumentSecurityStore.read_dss(reader).as_validation_context(
            {"trust_roots": pki.trust_roots, "allow_fetching": False, "revocation_mode": "hard-fail"})
        status = validate_pdf_timestamp(embedded, validation_context=context)
        assert status.valid and status.intact and status.trusted, status


@pytest.mark.integration
def test_cms_lists_each_certificate_once(pki, environment, signature_stamp, seal_stamp):
    pdf = _issued(pki, environment, signature_stamp, seal_stamp, PadesLevel.B_LT)
    for embedded in PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures:
        ders = [c.chosen.dump() for c in embedded.signed_data["certificates"]]
        assert len(ders) == len(set(ders)), embedded.field_name
        assert embedded.signer_cert.dump() in ders


@pytest.mark.integration
def test_b_lta_signatures_pass_on_the_archive_timestamp_after_the_signers_certificates_expired(
        pki, environment, signature_stamp, seal_stamp):
    """ETSI EN 319 102-1, 5.6 (validation of an archival form): at a moment after the leader's and the seal's
    certificates have expired, offline, both signatures are judged at the time the document timestamp proves
    they existed, from the validation data the document carries: TOTAL_PASSED. The document timestamp itself
    is then judged at that moment, and the OCSP response for its TSA (from signing time) is no longer fresh:
    INDETERMINATE / TRY_LATER, as ETSI requires; an archive stays provable by adding a new document timestamp
    with fresh validation data before that happens (B-LTA renewal, not built yet)."""
    import datetime as dt

    pdf = _issued(pki, environment, signature_stamp, seal_stamp, PadesLevel.B_LTA)
    expiries = [pki.entity(name).certificate.not_valid_after for name in ("official_rsa", "agency_ec")]
    later = max(expiries) + dt.timedelta(days=1)
    assert later < pki.entity("tsa").certificate.not_valid_after  # the archive timestamp's TSA is still valid
    settings = ValidationSettings(explicit_roots=(("test-root", pki.root.certificate),), offline=True, at=later)
    with Verifier(settings) as verifier:
        report = verifier.verify_pdf(pdf, path="issued-B-LTA.pdf")
    judged = [(s.kind, s.indication, s.sub_indication and s.sub_indication.value) for s in report.signatures]
    assert judged == [(ReportKind.PERSONAL, Indication.TOTAL_PASSED, None),
                      (ReportKind.AGENCY, Indication.TOTAL_PASSED, None),
                      (ReportKind.TIMESTAMP, Indication.INDETERMINATE, "TRY_LATER")], report.to_json()
