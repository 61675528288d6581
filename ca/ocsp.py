"""The OCSP responder (RFC 6960): request bytes in, signed response bytes out, never an exception.

good / revoked (with time and reason) / unknown per requested certificate, the nonce echoed (RFC 8954),
signed by the issuer's delegated responder (certificate included) or by the CA key itself. Garbage gets the
unsigned `malformedRequest` answer; an issuer we do not serve gets `unauthorized` (RFC 6960 section 2.3).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asn1crypto import core, ocsp, x509

from ca.certificates import key_identifier
from ca.errors import CaError
from ca.revocation import CertificateState
from ca.signing import sign_bytes, signature_parameters
from policies.keys import DigestSigner

if TYPE_CHECKING:
    from ca.authority import Authority

# How long a `good` answer may be cached (nextUpdate).
RESPONSE_VALIDITY = timedelta(hours=12)
_HASHES = {"sha1", "sha256", "sha384", "sha512"}


@dataclass(frozen=True)
class OcspResponder:
    """Who signs OCSP answers for an issuer: a delegated responder (RFC 6960 4.2.2.2) or the CA itself."""

    certificate: x509.Certificate
    key: DigestSigner
    delegated: bool


def error_response(status: str) -> bytes:
    """An unsigned OCSP response carrying only an error status (e.g. `malformed_request`)."""
    return ocsp.OCSPResponse({"response_status": status}).dump()


def respond(request_bytes: bytes, *, authority: "Authority", now: datetime) -> bytes:
    try:
        request = ocsp.OCSPRequest.load(request_bytes)
        tbs = request["tbs_request"]
        single_requests = list(tbs["request_list"])
        cert_ids = [item["req_cert"] for item in single_requests]
        nonce = request.nonce_value
        for cert_id in cert_ids:  # force full parsing now, so garbage inside fails here
            cert_id.native
        if nonce is not None:
            nonce.native
    except (ValueError, TypeError, KeyError):
        return error_response("malformed_request")
    if not cert_ids:
        return error_response("malformed_request")
    try:
        issuer_name = _find_issuer(cert_ids[0], authority)
        if issuer_name is None:
            return error_response("unauthorized")
        return _signed_response(cert_ids, issuer_name, nonce, authority=authority, now=now)
    except CaError:
        return error_response("internal_error")


def _find_issuer(cert_id: ocsp.CertId, authority: "Authority") -> str | None:
    algorithm = cert_id["hash_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        return None
    for name, issuer in authority.issuers.items():
        certificate = issuer.certificate
        name_hash = hashlib.new(algorithm, certificate.subject.dump()).digest()
        key_hash = hashlib.new(algorithm, certificate.public_key["public_key"].contents[1:]).digest()
        if cert_id["issuer_name_hash"].native == name_hash and cert_id["issuer_key_hash"].native == key_hash:
            return name
    return None


def _signed_response(cert_ids, issuer_name: str, nonce, *, authority: "Authority", now: datetime) -> bytes:
    responses = []
    for cert_id in cert_ids:
        if _find_issuer(cert_id, authority) != issuer_name:
            state_value = ocsp.CertStatus(name="unknown", value=core.Null())
        else:
            status = authority.status(issuer_name, cert_id["serial_number"].native)
            if status.state is CertificateState.GOOD:
                state_value = ocsp.CertStatus(name="good", value=core.Null())
            elif status.state is CertificateState.REVOKED:
                state_value = ocsp.CertStatus(
                    name="revoked",
                    value={"revocation_time": status.revoked_at, "revocation_reason": status.reason.value},
                )
            else:
                state_value = ocsp.CertStatus(name="unknown", value=core.Null())
        responses.append(
            {
                "cert_id": cert_id,
                "cert_status": state_value,
                "this_update": now,
                "next_update": now + RESPONSE_VALIDITY,
            }
        )
    responder = authority.ocsp_responder(issuer_name)
    extensions = []
    if nonce is not None:
        extensions.append({"extn_id": "nonce", "critical": False, "extn_value": nonce.native})
    response_data = ocsp.ResponseData(
        {
            "version": "v1",
            "responder_id": ocsp.ResponderId(
                name="by_key", value=key_identifier(responder.certificate.public_key)
            ),
            "produced_at": now,
            "responses": responses,
            "response_extensions": extensions or None,
        }
    )
    parameters = signature_parameters(responder.key.public_key_info())
    signature = sign_bytes(responder.key, response_data.dump(), parameters)
    basic = {
        "tbs_response_data": response_data,
        "signature_algorithm": parameters.algorithm_identifier,
        "signature": signature,
    }
    if responder.delegated:
        basic["certs"] = [responder.certificate]
    return ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": ocsp.BasicOCSPResponse(basic)},
        }
    ).dump()
