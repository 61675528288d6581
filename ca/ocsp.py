"""The OCSP responder (RFC 6960): request bytes in, signed response bytes out, never an exception.

good / revoked (with time and reason) / unknown per requested certificate, the nonce echoed (RFC 8954),
signed by the issuer's delegated responder (certificate included) or by the CA key itself. The fixed parts
of the answers are encoded once per responder (`ResponseTemplate`); answers to nonce-less requests are
served from a cache of signed responses (`ResponseCache`, RFC 5019). Garbage gets the
unsigned `malformedRequest` answer; an issuer we do not serve gets `unauthorized` (RFC 6960 section 2.3).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from asn1crypto import core, ocsp, x509

from ca import der
from ca.certificates import key_identifier
from ca.errors import CaError
from ca.revocation import CertificateState
from ca.signing import SignatureParameters, sign_bytes, signature_parameters
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
    key = (cert_id["issuer_name_hash"].native, cert_id["issuer_key_hash"].native)
    return authority.issuer_by_hashes(algorithm).get(key)


def issuer_hashes(certificate: x509.Certificate, algorithm: str) -> tuple[bytes, bytes]:
    """RFC 6960 4.1.1 CertID: the hashes of the issuer's name and of its public key bits."""
    name_hash = hashlib.new(algorithm, certificate.subject.dump()).digest()
    key_hash = hashlib.new(algorithm, certificate.public_key["public_key"].contents[1:]).digest()
    return name_hash, key_hash


def _signed_response(cert_ids, issuer_name: str, nonce, *, authority: "Authority", now: datetime) -> bytes:
    # RFC 5019 2.1.1 / 6: a request without a nonce may be answered with a pre-produced response; one
    # signed answer per certificate is kept for `authority.ocsp_cache_seconds` (revoking clears it here).
    cache_key = cert_ids[0].dump() if nonce is None and len(cert_ids) == 1 else None
    if cache_key is not None:
        cached = authority.ocsp_cache.get(cache_key, now=now)
        if cached is not None:
            return cached
    singles = []
    serials = []
    for index, cert_id in enumerate(cert_ids):
        if index and _find_issuer(cert_id, authority) != issuer_name:
            status_der = _UNKNOWN
        else:
            serial = cert_id["serial_number"].native
            serials.append(serial)
            status_der = _status_der(authority.status(issuer_name, serial))
        singles.append(der.sequence(
            cert_id.dump(), status_der, der.generalized_time(now),
            der.explicit(0, der.generalized_time(now + RESPONSE_VALIDITY)),
        ))
    template = authority.ocsp_template(issuer_name)
    extensions = b""
    if nonce is not None:  # RFC 8954: echoed as an extension (critical FALSE is the DEFAULT: absent in DER)
        extensions = der.explicit(1, der.sequence(der.sequence(_NONCE_OID, der.octet_string(nonce.dump()))))
    response = template.response(singles=singles, produced_at=now, extensions=extensions)
    if cache_key is not None:
        authority.ocsp_cache.put(cache_key, response, serials=serials, now=now)
    return response


def _status_der(status) -> bytes:
    if status.state is CertificateState.GOOD:
        return _GOOD
    if status.state is CertificateState.REVOKED:
        return ocsp.CertStatus(
            name="revoked", value={"revocation_time": status.revoked_at, "revocation_reason": status.reason.value}
        ).dump()
    return _UNKNOWN


_GOOD = b"\x80\x00"  # [0] IMPLICIT NULL
_UNKNOWN = b"\x82\x00"  # [2] IMPLICIT NULL
_NONCE_OID = core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.2").dump()
_BASIC_OID = core.ObjectIdentifier("1.3.6.1.5.5.7.48.1.1").dump()


@dataclass(frozen=True)
class ResponseTemplate:
    """The fixed parts of one responder's answers, encoded once (RFC 6960 4.2.1).

    `response` is byte for byte what asn1crypto builds from the same values
    (tests/unit/ca/test_ocsp_template.py); only the single responses, producedAt, the nonce and the
    signature vary.
    """

    key: DigestSigner
    parameters: SignatureParameters
    responder_id_der: bytes  # [2] EXPLICIT KeyHash (by key: RFC 6960 4.2.2.3)
    signature_algorithm_der: bytes
    certs_der: bytes  # [0] EXPLICIT SEQUENCE OF Certificate, or nothing when the CA signs itself

    @classmethod
    def build(cls, responder: OcspResponder) -> "ResponseTemplate":
        parameters = signature_parameters(responder.key.public_key_info())
        responder_id = ocsp.ResponderId(name="by_key", value=key_identifier(responder.certificate.public_key))
        certs = der.explicit(0, der.sequence(responder.certificate.dump())) if responder.delegated else b""
        return cls(
            key=responder.key, parameters=parameters, responder_id_der=responder_id.dump(),
            signature_algorithm_der=parameters.algorithm_identifier.dump(), certs_der=certs,
        )

    def response(self, *, singles: list[bytes], produced_at: datetime, extensions: bytes) -> bytes:
        # version v1 is the DEFAULT of ResponseData: absent in DER.
        tbs = der.sequence(self.responder_id_der, der.generalized_time(produced_at), der.sequence(*singles),
                           extensions)
        signature = sign_bytes(self.key, tbs, self.parameters)
        basic = der.sequence(tbs, self.signature_algorithm_der, der.tlv(0x03, b"\x00", signature), self.certs_der)
        return der.sequence(
            b"\x0a\x01\x00",  # responseStatus successful (ENUMERATED 0)
            der.explicit(0, der.sequence(_BASIC_OID, der.octet_string(basic))),
        )


class ResponseCache:
    """Signed answers to nonce-less requests, per CertID, reused until `max_age` after they were produced.

    Thread-safe and bounded (the oldest entries go first). `forget(serial)` drops the answers about a
    certificate, so that a revocation in this process is answered at once; another process or host keeps
    its own answers for at most `max_age` (RFC 5019 6: pre-produced responses trade freshness for speed).
    """

    def __init__(self, *, max_age: timedelta, max_entries: int = 65536):
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[bytes, datetime, tuple[int, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes, *, now: datetime) -> bytes | None:
        if self.max_age <= timedelta(0):
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry[1] + self.max_age or now < entry[1]:
                del self._entries[key]
                return None
            return entry[0]

    def put(self, key: bytes, response: bytes, *, serials: list[int], now: datetime) -> None:
        if self.max_age <= timedelta(0):
            return
        with self._lock:
            self._entries[key] = (response, now, tuple(serials))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, serial_number: int) -> None:
        with self._lock:
            for key in [k for k, entry in self._entries.items() if serial_number in entry[2]]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
