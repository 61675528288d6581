"""PAdES levels B-B to B-LTA with RSA and EC keys, each PDF judged by pyHanko and by pdfsig."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signer import PadesLevel, SignatureKind, SignatureRequest, sign_pdf
from tests.support import documents


@pytest.mark.integration
@pytest.mark.parametrize("level", list(PadesLevel), ids=lambda level: level.value)
@pytest.mark.parametrize("official", ["official_rsa", "official_ec"])
def test_every_level_is_valid_and_trusted_for_both_judges(pki, environment, signature_stamp, pdfsig,
                                                          judge_statuses, level, official):
    entity = pki.entity(official)
    request = SignatureRequest(
        kind=SignatureKind.APPROVE, level=level, signature_image=signature_stamp,
        title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME,
    )
    signed = sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate,
                      chain=entity.chain, request=request, environment=environment)

    statuses = judge_statuses(signed.pdf)
    status = statuses[signed.field_name]
    assert status.bottom_line, status.pretty_print_details()
    assert status.trusted and status.intact and status.valid
    assert (status.timestamp_validity is not None) is level.has_timestamp
    if level.has_timestamp:
        assert status.timestamp_validity.valid and status.timestamp_validity.trusted

    reader = PdfFileReader(io.BytesIO(signed.pdf))
    assert ("/DSS" in reader.root) is level.has_validation_data
    if level.has_validation_data:
        # B-LT: the embedded data alone must prove the status (no fetching, revocation required)
        offline = judge_statuses(signed.pdf, offline_from_dss=True)
        assert offline[signed.field_name].bottom_line, offline[signed.field_name].pretty_print_details()
    timestamps = list(reader.embedded_timestamp_signatures)
    assert len(timestamps) == (1 if level is PadesLevel.B_LTA else 0)

    judged = pdfsig(signed.pdf)
    personal = [s for s in judged if s.field == signed.field_name]
    assert len(personal) == 1, judged
    assert personal[0].signature_valid, personal[0].raw
    assert personal[0].certificate_trusted, personal[0].raw
    assert personal[0].signer == entity.certificate.subject.native["common_name"]
    # no stray unsigned fields: the only other entry is the B-LTA document timestamp. pdfsig does not verify
    # RFC 3161 document timestamps ("Signature Type: unknown"), so pyHanko alone judges that one.
    assert len(judged) == len(timestamps) + 1
    for document_timestamp in (s for s in judged if s.field != signed.field_name):
        assert document_timestamp.signer == pki.tsa.certificate.subject.native["common_name"]
    for embedded in timestamps:
        from pyhanko.sign.validation import validate_pdf_timestamp
        from pyhanko_certvalidator import ValidationContext

        ts_status = validate_pdf_timestamp(embedded, validation_context=ValidationContext(
            trust_roots=pki.trust_roots, allow_fetching=True))
        assert ts_status.valid and ts_status.intact and ts_status.trusted
