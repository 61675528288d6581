"""PKCS#10 certification requests (RFC 2986): building one with any key, and checking one received.

`build_csr` lets a token (or any `DigestSigner`) sign its own request during enrolment; `read_csr` is the
CA's first gate: the request must parse and carry a valid signature by the key it asks to certify (proof of
possession) before anything else is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import pem, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from ca.errors import InvalidCsr
from ca.names import SubjectAttributes, build_name, name_attributes
from ca.signing import sign_bytes, signature_parameters
from policies.keys import DigestSigner


@dataclass(frozen=True)
class CertificationRequest:
    """A CSR whose signature verified: the subject it asks for and the key it proved possession of."""

    subject: x509.Name
    attributes: SubjectAttributes
    public_key: asn1_keys.PublicKeyInfo
    der: bytes


def build_csr(attributes: Iterable[tuple[str, str]], key: DigestSigner) -> bytes:
    """A DER PKCS#10 request for `attributes` (ordered subject), signed by `key`."""
    public_key = key.public_key_info()
    info = asn1_csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": build_name(attributes),
            "subject_pk_info": public_key,
            "attributes": [],
        }
    )
    parameters = signature_parameters(public_key)
    signature = sign_bytes(key, info.dump(), parameters)
    return asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": parameters.algorithm_identifier,
            "signature": signature,
        }
    ).dump()


def read_csr(data: bytes) -> CertificationRequest:
    """Parse a DER or PEM CSR and verify its signature; raise `InvalidCsr` with the reason otherwise."""
    if pem.detect(data):
        try:
            _, _, data = pem.unarmor(data)
        except ValueError as exc:
            raise InvalidCsr("CSR PEM hỏng", f"the CSR PEM armour is broken: {exc}") from exc
    try:
        parsed = cx509.load_der_x509_csr(data)
    except ValueError as exc:
        raise InvalidCsr(
            "không đọc được yêu cầu chứng thư (CSR PKCS#10)",
            "the certificate request is not a readable PKCS#10 CSR",
        ) from exc
    try:
        valid = parsed.is_signature_valid
    except (UnsupportedAlgorithm, ValueError) as exc:
        raise InvalidCsr(
            f"thuật toán chữ ký của CSR không được hỗ trợ: {exc}",
            f"the CSR signature algorithm is not supported: {exc}",
        ) from exc
    if not valid:
        raise InvalidCsr(
            "chữ ký của CSR không hợp lệ (không chứng minh được quyền giữ khóa)",
            "the CSR signature does not verify (no proof of possession of the key)",
        )
    request = asn1_csr.CertificationRequest.load(data)
    info = request["certification_request_info"]
    return CertificationRequest(
        subject=info["subject"],
        attributes=name_attributes(info["subject"]),
        public_key=info["subject_pk_info"],
        der=data,
    )
