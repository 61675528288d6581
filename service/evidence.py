"""What the ledger needs about each signature that the verifier's report does not carry: the signer
certificate's serial and the digest of the signed revision, read from the signed file itself.

DOMAIN.md / issue 6: every signature verified on an incoming document is recorded with its certificate
serial and the digest of the revision it signed.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class SignatureEvidence:
    field: str
    certificate_serial: int | None
    revision_sha256: str


def pdf_signature_evidence(pdf: bytes) -> dict[str, SignatureEvidence]:
    """Per signature field: the signer's certificate serial and the SHA-256 of the bytes it covers."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    evidence: dict[str, SignatureEvidence] = {}
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:  # a broken file: the verifier reports it; here there is simply no evidence
        return evidence
    for signature in signatures:
        try:
            byte_range = [int(v) for v in signature.sig_object["/ByteRange"]]
            covered = b"".join(pdf[start:start + length] for start, length in zip(byte_range[::2], byte_range[1::2], strict=True))
            serial = None
            try:
                serial = signature.signer_cert.serial_number
            except Exception:
                serial = None
            evidence[signature.field_name] = SignatureEvidence(
                signature.field_name, serial, hashlib.sha256(covered).hexdigest()
            )
        except Exception:
            continue
    return evidence


def cades_signer_serial(p7s: bytes) -> int | None:
    from asn1crypto import cms, pem

    try:
        if pem.detect(p7s):
            _kind, _headers, p7s = pem.unarmor(p7s)
        info = cms.ContentInfo.load(p7s)
        signed = info["content"]
        sid = signed["signer_infos"][0]["sid"]
        if sid.name == "issuer_and_serial_number":
            return sid.chosen["serial_number"].native
        for certificate in signed["certificates"]:
            return certificate.chosen.serial_number
    except Exception:
        return None
    return None
