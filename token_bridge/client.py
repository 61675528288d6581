"""`BridgeKey`: a `policies.keys.DigestSigner` that asks a running token bridge to sign, over HTTP.

The CLI and the service compose it with the signer (which never imports token_bridge):

    key = BridgeKey("http://127.0.0.1:8988", certificate_id, description="Quyết định 12/QĐ-UBND")
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256,
                                scheme=SignatureScheme.RSA_PKCS1V15)
    key.certificate, key.chain      # from the bridge's answer (asn1crypto certificates)

One `requests.Session` per key keeps the connection alive. `requests` errors never leave this module:
an unreachable bridge is `BridgeUnavailable`, an error answer is `BridgeRequestRefused` carrying the
bridge's code, status and both messages.
"""

from __future__ import annotations

import base64

import requests
from asn1crypto import keys as asn1_keys
from asn1crypto import x509

from policies.keys import DigestAlgorithm, SignatureScheme
from token_bridge.errors import BridgeUnavailable, TokenBridgeError


class BridgeRequestRefused(TokenBridgeError):
    """The bridge answered with an error; `code` is the bridge's (pin_incorrect, consent_refused, ...)."""

    def __init__(self, code: str, message_en: str, message_vi: str, *, http_status: int, details: dict):
        super().__init__(message_en, message_vi)
        self.code = code
        self.http_status = http_status
        self.details = details


class BridgeClient:
    """Thin HTTP client of the bridge API (keep-alive session)."""

    def __init__(self, base_url: str, *, timeout: float = 300.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = session or requests.Session()
        self._http.headers["User-Agent"] = "kyso-bridge-client/1"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            response = self._http.request(method, self.base_url + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise BridgeUnavailable(
                f"Cannot reach the token bridge at {self.base_url}: {type(exc).__name__}.",
                f"Không kết nối được cầu nối ký số tại {self.base_url}: {type(exc).__name__}.",
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.ok and isinstance(data, dict):
            return data
        error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
        raise BridgeRequestRefused(
            error.get("code", f"http_{response.status_code}"),
            error.get("message", f"The token bridge answered HTTP {response.status_code}."),
            error.get("message_vi", f"Cầu nối ký số trả lời lỗi HTTP {response.status_code}."),
            http_status=response.status_code,
            details=error,
        )

    def status(self) -> dict:
        return self._call("GET", "/v1/status")

    def tokens(self) -> list[dict]:
        return self._call("GET", "/v1/tokens")["tokens"]

    def certificates(self) -> list[dict]:
        return self._call("GET", "/v1/certificates")["certificates"]

    def sign(
        self,
        *,
        certificate_id: str,
        digest: bytes,
        digest_algorithm: DigestAlgorithm,
        scheme: SignatureScheme,
        description: str,
    ) -> dict:
        return self._call(
            "POST",
            "/v1/signatures",
            {
                "certificate_id": certificate_id,
                "digest": base64.b64encode(digest).decode("ascii"),
                "digest_algorithm": digest_algorithm.value,
                "signature_algorithm": scheme.value,
                "description": description,
            },
        )

    def close(self) -> None:
        self._http.close()


class BridgeKey:
    """The key behind one certificate of a running bridge, as a DigestSigner."""

    def __init__(self, base_url: str | BridgeClient, certificate_id: str, *, description: str,
                 timeout: float = 300.0):
        self.client = base_url if isinstance(base_url, BridgeClient) else BridgeClient(base_url, timeout=timeout)
        self.certificate_id = certificate_id.lower()
        self.description = description  # shown in the consent prompt; set it per document
        self._certificate: x509.Certificate | None = None
        self._chain: tuple[x509.Certificate, ...] = ()

    def __repr__(self) -> str:
        return f"BridgeKey({self.client.base_url!r}, {self.certificate_id[:16]}...)"

    @property
    def certificate(self) -> x509.Certificate:
        if self._certificate is None:
            self._load_certificate()
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        if self._certificate is None:
            self._load_certificate()
        return self._chain

    def _load_certificate(self) -> None:
        for entry in self.client.certificates():
            if entry["id"] == self.certificate_id:
                self._certificate = x509.Certificate.load(base64.b64decode(entry["certificate"]))
                self._chain = tuple(x509.Certificate.load(base64.b64decode(c)) for c in entry["chain"])
                return
        raise BridgeRequestRefused(
            "certificate_not_found",
            f"No certificate with id '{self.certificate_id}' on any present token.",
            f"Không có chứng thư số có mã '{self.certificate_id}' trên thiết bị nào đang cắm.",
            http_status=404,
            details={},
        )

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        return self.certificate.public_key

    def sign_digest(self, digest: bytes, *, digest_algorithm: DigestAlgorithm, scheme: SignatureScheme) -> bytes:
        answer = self.client.sign(
            certificate_id=self.certificate_id,
            digest=digest,
            digest_algorithm=digest_algorithm,
            scheme=scheme,
            description=self.description,
        )
        self._certificate = x509.Certificate.load(base64.b64decode(answer["certificate"]))
        self._chain = tuple(x509.Certificate.load(base64.b64decode(c)) for c in answer["chain"])
        return base64.b64decode(answer["signature"])
