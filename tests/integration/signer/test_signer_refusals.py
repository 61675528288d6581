"""Refusals with precise errors: order rules, certificate state and kind, unreadable documents."""

from __future__ import annotations

import pytest

from signer import PadesLevel, SignatureKind, SignatureRequest, prepare, sign_pdf
from signer.errors import (
    BrokenPdf,
    CertificateExpired,
    CertificateKindMismatch,
    CertificateRevoked,
    CertificateUntrusted,
    EncryptedPdf,
    NotAPdf,
    OrderError,
    PlaceNotFound,
)
from tests.support import documents


def _approve_request(signature_stamp, **extra):
    return SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp, title="GIÁM ĐỐC",
                            signer_name=documents.SIGNER_NAME, **extra)


def _issue_request(seal_stamp):
    return SignatureRequest(kind=SignatureKind.ISSUE, seal_image=seal_stamp, agency_code="H26", series="QĐ-UBND")


@pytest.mark.integration
def test_agency_signature_before_personal_is_refused_and_takes_no_number(pki, environment, seal_stamp):
    entity = pki.agency_ec
    with pytest.raises(OrderError) as caught:
        sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=_issue_request(seal_stamp), environment=environment)
    assert str(caught.value) == (
        "văn bản chưa có chữ ký số cá nhân của người có thẩm quyền: không được ký phát hành / "
        "the document carries no personal signature yet: it cannot be issued"
    )
    assert environment.numbers.counters == {}


@pytest.mark.integration
def test_issue_over_an_agency_only_document_is_refused(pki, environment, seal_stamp):
    entity = pki.agency_ec
    copy = sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate,
                    chain=entity.chain, environment=environment,
                    request=SignatureRequest(kind=SignatureKind.APPENDIX, notation="15/QĐ-UBND"))
    with pytest.raises(OrderError) as caught:
        sign_pdf(copy.pdf, key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=_issue_request(seal_stamp), environment=environment)
    assert "no valid, visible personal signature" in str(caught.value)
    assert f"{copy.field_name}: not a personal certificate" in str(caught.value)


@pytest.mark.integration
def test_expired_certificate_is_refused(pki, environment, signature_stamp):
    entity = pki.expired
    with pytest.raises(CertificateExpired) as caught:
        sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=_approve_request(signature_stamp), environment=environment)
    not_after = entity.certificate["tbs_certificate"]["validity"]["not_after"].native.isoformat()
    assert str(caught.value) == (
        f"chứng thư số đã hết hạn lúc {not_after} / the certificate expired at {not_after}"
    )


@pytest.mark.integration
def test_revoked_certificate_is_refused(pki, environment, signature_stamp):
    entity = pki.revoked
    with pytest.raises(CertificateRevoked) as caught:
        sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=_approve_request(signature_stamp), environment=environment)
    assert str(caught.value).startswith("chứng thư số đã bị thu hồi / the certificate has been revoked")


@pytest.mark.integration
def test_certificate_outside_the_trust_roots_is_refused(pki, signature_stamp):
    from signer import SigningEnvironment

    entity = pki.official_rsa
    foreign_roots = SigningEnvironment(trust_roots=[pki.tsa.certificate], tsa_url=pki.tsa_url)
    with pytest.raises(CertificateUntrusted) as caught:
        sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
                 request=_approve_request(signature_stamp), environment=foreign_roots)
    assert "does not chain to a trust root" in str(caught.value)


@pytest.mark.integration
def test_agency_signature_with_a_personal_certificate_is_refused(pki, environment, signature_stamp, seal_stamp):
    official = pki.official_rsa
    approved = sign_pdf(documents.sample_decision(), key=official.key, certificate=official.certificate,
                        chain=official.chain, request=_approve_request(signature_stamp), environment=environment)
    with pytest.raises(CertificateKindMismatch) as caught:
        sign_pdf(approved.pdf, key=official.key, certificate=official.certificate, chain=official.chain,
                 request=_issue_request(seal_stamp), environment=environment)
    assert str(caught.value) == (
        "ký phát hành cần chứng thư số của cơ quan, tổ chức, chứng thư này của cá nhân / "
        "issue signatures need an organisation certificate, this one is a personal"
    )


@pytest.mark.integration
def test_personal_signature_with_an_agency_certificate_is_refused(pki, environment, signature_stamp):
    agency = pki.agency_rsa
    with pytest.raises(CertificateKindMismatch) as caught:
        prepare(documents.sample_decision(), certificate=agency.certificate, chain=agency.chain,
                request=_approve_request(signature_stamp), environment=environment)
    assert str(caught.value) == (
        "ký duyệt cần chứng thư số của cá nhân, chứng thư này của cơ quan, tổ chức / "
        "approve signatures need a personal certificate, this one is an organisation"
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "document, error, message",
    [
        (b"Xin chao, day khong phai PDF", NotAPdf, "tệp không phải là PDF / the file is not a PDF"),
        (documents.decision_pdf(encrypt_password="secret"), EncryptedPdf,
         "tệp PDF được mã hóa: hãy gỡ mật khẩu trước khi ký / the PDF is encrypted: remove the password first"),
    ],
    ids=["not-a-pdf", "encrypted"],
)
def test_unsignable_documents_are_refused(pki, environment, signature_stamp, document, error, message):
    entity = pki.official_ec
    with pytest.raises(error) as caught:
        prepare(document, certificate=entity.certificate, chain=entity.chain,
                request=_approve_request(signature_stamp), environment=environment)
    assert str(caught.value) == message


@pytest.mark.integration
def test_truncated_pdf_is_refused_as_broken(pki, environment, signature_stamp):
    entity = pki.official_ec
    truncated = documents.sample_decision()[: len(documents.sample_decision()) // 2]
    with pytest.raises(BrokenPdf) as caught:
        prepare(truncated, certificate=entity.certificate, chain=entity.chain,
                request=_approve_request(signature_stamp), environment=environment)
    assert str(caught.value).startswith("tệp PDF bị hỏng / the PDF is broken")


@pytest.mark.integration
def test_missing_signature_block_is_a_precise_error(pki, environment, signature_stamp):
    entity = pki.official_ec
    request = SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp,
                               title="CHỦ TỊCH", signer_name="Trần Thị Bình", level=PadesLevel.B_B)
    with pytest.raises(PlaceNotFound) as caught:
        prepare(documents.sample_decision(), certificate=entity.certificate, chain=entity.chain,
                request=request, environment=environment)
    assert str(caught.value) == (
        "không tìm thấy khối chữ ký (dòng chức danh 'CHỦ TỊCH' và dòng họ tên 'Trần Thị Bình') / "
        "signature block not found (title line 'CHỦ TỊCH' above name line 'Trần Thị Bình')"
    )


@pytest.mark.integration
def test_certified_document_that_forbids_changes_is_refused(pki, environment, signature_stamp):
    import io

    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from signer.errors import DocumentError

    author = pki.agency_rsa
    private = author.key.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption())
    stock = signers.SimpleSigner(signing_cert=author.certificate,
                                 signing_key=asn1_keys.PrivateKeyInfo.load(private),
                                 cert_registry=SimpleCertificateStore.from_certs(author.chain))
    certified = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Certification", certify=True,
                                     docmdp_permissions=fields.MDPPerm.NO_CHANGES),
        signer=stock,
    ).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(documents.sample_decision()))).getvalue()
    entity = pki.official_ec
    with pytest.raises(DocumentError) as caught:
        prepare(certified, certificate=entity.certificate, chain=entity.chain,
                request=_approve_request(signature_stamp), environment=environment)
    assert str(caught.value) == (
        "văn bản không cho phép ký thêm: chữ ký chứng nhận cấm mọi thay đổi / "
        "the document cannot take this signature: its certification signature allows no change"
    )
