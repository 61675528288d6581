"""The time-stamping authority (RFC 3161): request bytes in, response bytes out, never an exception.

SHA-256/384/512 message imprints, nonce echoed, the TSA certificate (and chain) included on `certReq`,
accuracy, unique serial numbers from reserved blocks (`ca.serials`), recorded in batches. The token is a CMS SignedData
over TSTInfo with the ESS signing-certificate-v2 attribute (RFC 5816), which `openssl ts -verify` requires.
Errors answer with the protocol's own status: `badRequest`, `badAlgorithm`, `badDataFormat`,
`unacceptedPolicy`, `unacceptedExtension`, `systemFailure`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from asn1crypto import algos, cms, core, tsp, x509

from ca import der
from ca.errors import CaError
from ca.signing import SignatureParameters, sign_bytes, signature_parameters
from policies.keys import DigestSigner

if TYPE_CHECKING:
    from ca.authority import Authority

ACCEPTED_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}


@dataclass(frozen=True)
class TimeStampUnit:
    """The TSA's signing key and certificate chain (RFC 3161) and its policy OID."""

    certificate: x509.Certificate
    key: DigestSigner
    chain: tuple[x509.Certificate, ...]
    policy: str = "2.16.704.99.2.1"
    accuracy_seconds: int = 1


class TimeStampResponse(core.Sequence):
    """RFC 3161 TimeStampResp. asn1crypto's `tsp.TimeStampResp` makes the token mandatory; RFC 3161
    section 2.4.2 says it is absent whenever the status is not granted."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def rejection(fail_info: str, text: str) -> bytes:
    """A `rejection` response with one PKIFailureInfo bit and a human-readable reason."""
    return TimeStampResponse(
        {
            "status": {
                "status": "rejection",
                "status_string": [text],
                "fail_info": tsp.PKIFailureInfo({fail_info}),
            }
        }
    ).dump()


def respond(request_bytes: bytes, *, authority: "Authority", now: datetime) -> bytes:
    unit = authority.tsa
    if unit is None:
        return rejection("system_failure", "no time-stamping unit is configured")
    try:
        request = tsp.TimeStampReq.load(request_bytes)
        version = request["version"].native
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        hashed = imprint["hashed_message"].native
        policy = request["req_policy"].native
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
        extensions = request["extensions"].native
    except (ValueError, TypeError, KeyError):
        return rejection("bad_request", "the request is not a readable RFC 3161 TimeStampReq")
    if version != "v1":
        return rejection("bad_request", f"unsupported request version {version}")
    if algorithm not in ACCEPTED_DIGESTS:
        return rejection("bad_alg", f"digest algorithm {algorithm} is not accepted (sha256, sha384, sha512)")
    if not isinstance(hashed, bytes) or len(hashed) != ACCEPTED_DIGESTS[algorithm]:
        return rejection("bad_data_format", f"the {algorithm} imprint must be {ACCEPTED_DIGESTS[algorithm]} bytes")
    if policy is not None and policy != unit.policy:
        return rejection("unaccepted_policy", f"policy {policy} is not offered (only {unit.policy})")
    if extensions:
        return rejection("unaccepted_extensions", "request extensions are not supported")
    try:
        token = _issue_token(
            unit, authority=authority, now=now, imprint=imprint, nonce=nonce, cert_req=cert_req,
            algorithm=algorithm, hashed=hashed,
        )
    except CaError:
        return rejection("system_failure", "the time-stamping unit failed")
    return der.sequence(_GRANTED_STATUS, token)


def _issue_token(unit: TimeStampUnit, *, authority, now, imprint, nonce, cert_req, algorithm, hashed):
    serial = authority.next_timestamp_serial()
    authority.store.journal_timestamp(serial, gen_time=now, digest_algorithm=algorithm, message_imprint=hashed)
    return authority.time_stamp_template().token(
        imprint_der=imprint.dump(), serial=serial, gen_time=now, nonce=nonce, cert_req=cert_req
    )


@dataclass(frozen=True)
class TokenTemplate:
    """The fixed parts of every token of one time-stamping unit, encoded once (DER).

    Only the TSTInfo's imprint, serial, time and nonce, the message digest and the signature change from
    one token to the next; everything else (policy, accuracy, TSA name, signed-attribute template, signer
    identifier, algorithms, certificates) is copied as bytes. `token` is byte for byte what `sign_content`
    builds with asn1crypto (tests/unit/ca/test_tsa_template.py).
    """

    key: DigestSigner
    parameters: SignatureParameters
    policy_der: bytes  # TSTInfo.policy
    accuracy_der: bytes
    tsa_name_der: bytes  # [0] EXPLICIT GeneralName
    content_type_attribute_der: bytes
    signing_certificate_attribute_der: bytes
    signer_info_head_der: bytes  # version, sid, digestAlgorithm
    signature_algorithm_der: bytes
    digest_algorithms_der: bytes  # SignedData.digestAlgorithms (a SET)
    certificates_der: bytes  # SignedData.certificates, [0] IMPLICIT, for certReq

    @classmethod
    def build(cls, unit: TimeStampUnit) -> "TokenTemplate":
        certificate = unit.certificate
        parameters = signature_parameters(unit.key.public_key_info())
        digest_algorithm = algos.DigestAlgorithm({"algorithm": parameters.digest_algorithm.value})
        sid = cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
        )
        certificates = b"".join(sorted(c.dump() for c in (certificate, *unit.chain)))  # a DER SET OF
        return cls(
            key=unit.key,
            parameters=parameters,
            policy_der=core.ObjectIdentifier(unit.policy).dump(),
            accuracy_der=tsp.Accuracy({"seconds": unit.accuracy_seconds}).dump(),
            tsa_name_der=der.explicit(0, _directory_name_der(certificate.subject.dump())),
            content_type_attribute_der=cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump(),
            signing_certificate_attribute_der=_signing_certificate_v2_der(certificate.dump()),
            signer_info_head_der=der.integer(1) + sid.dump() + digest_algorithm.dump(),
            signature_algorithm_der=parameters.cms_signature_algorithm.dump(),
            digest_algorithms_der=der.set_of(digest_algorithm.dump()),
            certificates_der=der.tlv(0xA0, certificates),
        )

    def token(self, *, imprint_der: bytes, serial: int, gen_time: datetime, nonce: int | None,
              cert_req: bool) -> bytes:
        """The DER ContentInfo of a signed token (RFC 3161 2.4.2, RFC 5652 5, RFC 5816 signed attributes)."""
        tst_info = der.sequence(
            der.integer(1), self.policy_der, imprint_der, der.integer(serial), der.generalized_time(gen_time),
            self.accuracy_der,  # ordering FALSE is the DEFAULT: absent in DER
            der.integer(nonce) if nonce is not None else b"", self.tsa_name_der,
        )
        digest_name = self.parameters.digest_algorithm.value
        message_digest = der.sequence(
            _MESSAGE_DIGEST_OID, der.set_of(der.octet_string(hashlib.new(digest_name, tst_info).digest()))
        )
        attributes = sorted((self.content_type_attribute_der, message_digest, self.signing_certificate_attribute_der))
        signature = sign_bytes(self.key, der.tlv(der.SET, *attributes), self.parameters)
        signer_info = der.sequence(
            self.signer_info_head_der, der.tlv(0xA0, *attributes), self.signature_algorithm_der,
            der.octet_string(signature),
        )
        signed_data = der.sequence(
            der.integer(3), self.digest_algorithms_der,
            der.sequence(_TST_INFO_OID, der.explicit(0, der.octet_string(tst_info))),
            self.certificates_der if cert_req else b"",
            der.set_of(signer_info),
        )
        return der.sequence(_SIGNED_DATA_OID, der.explicit(0, signed_data))


_MESSAGE_DIGEST_OID = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()
_TST_INFO_OID = core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()
_SIGNED_DATA_OID = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_GRANTED_STATUS = der.sequence(der.integer(0))


# Building a GeneralName around a parsed Name makes asn1crypto re-encode the whole name (about 2 ms each,
# most of a token's cost); both depend only on the TSA certificate, so they are built once per certificate.
@lru_cache(maxsize=16)
def _directory_name_der(name_der: bytes) -> bytes:
    return x509.GeneralName(name="directory_name", value=x509.Name.load(name_der)).dump()


@lru_cache(maxsize=16)
def _signing_certificate_v2_der(certificate_der: bytes) -> bytes:
    """The ESS signing-certificate-v2 attribute (RFC 5035) naming this certificate."""
    certificate = x509.Certificate.load(certificate_der)
    return cms.CMSAttribute(
        {
            "type": "signing_certificate_v2",
            "values": [
                {
                    "certs": [
                        {
                            # sha256 is the ESSCertIDv2 default: leave the algorithm out (DER).
                            "cert_hash": hashlib.sha256(certificate_der).digest(),
                            "issuer_serial": {
                                "issuer": [x509.GeneralName.load(_directory_name_der(certificate.issuer.dump()))],
                                "serial_number": certificate.serial_number,
                            },
                        }
                    ]
                }
            ],
        }
    ).dump()


def sign_content(
    content: bytes,
    *,
    content_type: str,
    key,
    certificate: x509.Certificate,
    certificates,
    signing_time: datetime | None,
) -> cms.ContentInfo:
    """A CMS SignedData (RFC 5652) with signed attributes and ESS signing-certificate-v2 (RFC 5035)."""
    parameters = signature_parameters(key.public_key_info())
    digest_name = parameters.digest_algorithm.value
    digest_algorithm = algos.DigestAlgorithm({"algorithm": digest_name})
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(digest_name, content).digest()]}),
        cms.CMSAttribute.load(_signing_certificate_v2_der(certificate.dump())),
    ]
    if signing_time is not None:
        attributes.append(cms.CMSAttribute({"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]}))
    signed_attrs = cms.CMSAttributes(attributes)
    signature = sign_bytes(key, signed_attrs.dump(), parameters)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
            ),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": parameters.cms_signature_algorithm,
            "signature": signature,
        }
    )
    signed_data = {
        "version": "v3",
        "digest_algorithms": [digest_algorithm],
        "encap_content_info": {"content_type": content_type, "content": core.ParsableOctetString(content)},
        "signer_infos": [signer_info],
    }
    if certificates:
        # Fresh lazily-parsed copies, explicitly tagged: asn1crypto then copies their bytes instead of
        # re-encoding every field of every certificate (which cost 85% of a time-stamp token).
        signed_data["certificates"] = [
            cms.CertificateChoices(name="certificate", value=x509.Certificate.load(c.dump())) for c in certificates
        ]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})
