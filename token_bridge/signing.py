"""The bridge itself: list tokens and certificates, and sign a digest with consent, PIN and audit.

`Bridge.sign` is the one path every signature takes (HTTP API, CLI, tests):
1. find the certificate by id (SHA-256 of its DER);
2. check the request (digest length) and the signing policy (SHA-1, RSA < 2048, curves) and that the
   certificate is within its validity period now (DOMAIN.md: signing software checks the certificate);
3. ask the user's consent, showing the description and the origin;
4. log in when needed (PIN prompt, with the token's PIN state) and sign on the token;
5. record the outcome in the audit log, whatever it is.
The bridge only sees a digest and a description (DESIGN.md, flow 2): never the document.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from policies.keys import DigestAlgorithm, SignatureScheme
from policies.text import MAX_DESCRIPTION_LENGTH, DisplayTextRefused, require_display_text
from token_bridge.audit import AuditLog, AuditRecord
from token_bridge.catalogue import CertificateCatalogue, CertificateEntry
from token_bridge.consent import ConsentPrompt, ConsentRequest
from token_bridge.errors import (
    CertificateNotUsable,
    ConsentRefused,
    EnvironmentPinRejected,
    InvalidSignRequest,
    KeyCertificateMismatch,
    TokenBridgeError,
    TokenPinBackoff,
    TokenPinIncorrect,
)
from token_bridge.algorithms import SigningAlgorithmPolicy, check_digest_length, default_policy
from token_bridge.keys import Pkcs11Key
from token_bridge.module import Pkcs11Module, SlotInfo, TokenInfo
from token_bridge.pin import PinPrompt

LOGIN_BACKOFF_BASE_SECONDS = 1
LOGIN_BACKOFF_MAX_SECONDS = 300
_REQUEST_KEYS = {"certificate_id", "digest", "digest_algorithm", "signature_algorithm", "description"}


def _invalid(en: str, vi: str) -> InvalidSignRequest:
    return InvalidSignRequest(en, vi)


@dataclass(frozen=True)
class SignatureRequest:
    """A parsed, checked `POST /v1/signatures` body (parse, don't validate)."""

    certificate_id: str
    digest: bytes
    digest_algorithm: DigestAlgorithm
    scheme: SignatureScheme
    description: str

    @classmethod
    def from_json(cls, body: object) -> "SignatureRequest":
        if not isinstance(body, Mapping):
            raise _invalid("The request body must be a JSON object.", "Nội dung yêu cầu phải là một đối tượng JSON.")
        unknown = sorted(set(body) - _REQUEST_KEYS)
        if unknown:
            raise _invalid(
                f"Unknown field(s): {', '.join(unknown)}; known: {', '.join(sorted(_REQUEST_KEYS))}.",
                f"Trường không hợp lệ: {', '.join(unknown)}; các trường hợp lệ: {', '.join(sorted(_REQUEST_KEYS))}.",
            )
        missing = sorted(k for k in _REQUEST_KEYS if k not in body)
        if missing:
            raise _invalid(f"Missing field(s): {', '.join(missing)}.", f"Thiếu trường: {', '.join(missing)}.")
        for key in _REQUEST_KEYS:
            if not isinstance(body[key], str):
                raise _invalid(f"Field {key} must be a string.", f"Trường {key} phải là chuỗi ký tự.")
        try:
            digest_algorithm = DigestAlgorithm(body["digest_algorithm"])
        except ValueError:
            names = ", ".join(a.value for a in DigestAlgorithm)
            raise _invalid(
                f"Unknown digest_algorithm '{body['digest_algorithm']}'; one of: {names}.",
                f"digest_algorithm '{body['digest_algorithm']}' không hợp lệ; dùng một trong: {names}.",
            ) from None
        try:
            scheme = SignatureScheme(body["signature_algorithm"])
        except ValueError:
            names = ", ".join(s.value for s in SignatureScheme)
            raise _invalid(
                f"Unknown signature_algorithm '{body['signature_algorithm']}'; one of: {names}.",
                f"signature_algorithm '{body['signature_algorithm']}' không hợp lệ; dùng một trong: {names}.",
            ) from None
        try:
            digest = base64.b64decode(body["digest"], validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(
                "Field digest is not valid base64.", "Trường digest không phải là chuỗi base64 hợp lệ."
            ) from None
        check_digest_length(digest, digest_algorithm)
        description = body["description"].strip()
        if not description:
            raise _invalid(
                "Field description is empty: say what is signed (document, number, requesting system).",
                "Trường description trống: hãy nêu nội dung được ký (văn bản, số hiệu, hệ thống yêu cầu).",
            )
        try:
            # The consent dialog shows this text: one allow-list (policies/text.py), the same the service applies
            # to titles at registration and to the description it builds, so nothing can fake the wording
            # (line separators, bidi overrides, invisible fillers, floods of spaces, right-to-left letters).
            description = require_display_text(description, field="description", max_length=MAX_DESCRIPTION_LENGTH)
        except DisplayTextRefused as exc:
            raise _invalid(f"Field {exc.english}.", f"Trường {exc.vietnamese}.") from None
        return cls(
            certificate_id=body["certificate_id"].strip().lower(),
            digest=digest,
            digest_algorithm=digest_algorithm,
            scheme=scheme,
            description=description,
        )


@dataclass(frozen=True)
class SignatureResult:
    signature: bytes
    certificate: bytes  # DER
    chain: tuple[bytes, ...]  # DER, issuer first

    def to_json(self) -> dict:
        return {
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "certificate": base64.b64encode(self.certificate).decode("ascii"),
            "chain": [base64.b64encode(c).decode("ascii") for c in self.chain],
        }


@dataclass(frozen=True)
class Requester:
    """Who asks: the web origin (None for a local application) and the User-Agent."""

    origin: str | None
    client: str = ""

    def __post_init__(self):
        # The User-Agent is whatever the caller says: keep it printable and short before anyone shows it.
        printable = "".join(ch for ch in self.client if unicodedata.category(ch) not in ("Cc", "Cf"))
        object.__setattr__(self, "client", printable[:200])

    @property
    def shown(self) -> str:
        return self.origin or f"local application ({self.client or 'unknown'})"


class Bridge:
    """Tokens, certificates and signatures, for one user on one computer."""

    def __init__(
        self,
        modules: list[Pkcs11Module],
        *,
        pin_prompt: PinPrompt,
        consent: ConsentPrompt,
        audit: AuditLog | None = None,
        policy: SigningAlgorithmPolicy | None = None,
        extra_chain=(),
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.modules = list(modules)
        self.pin_prompt = pin_prompt
        self.consent = consent
        self.audit = audit or AuditLog()
        self.policy = policy or default_policy()
        self.catalogue = CertificateCatalogue(self.modules, extra_chain=tuple(extra_chain))
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._signing = threading.Lock()  # one consent dialog and one signature at a time
        self._keys: dict[tuple[str, str, bytes], Pkcs11Key] = {}
        self._login_failures: dict[tuple[str, str], tuple[int, dt.datetime]] = {}  # per token: count, last

    def tokens(self) -> list[TokenInfo]:
        return [token for module in self.modules for token in module.tokens()]

    def slots(self) -> list[SlotInfo]:
        """Every slot with a token present, including tokens not initialised or unreadable."""
        return [slot for module in self.modules for slot in module.slots()]

    def certificates(self) -> list[CertificateEntry]:
        return self.catalogue.scan()

    def sign(self, request: SignatureRequest, *, requester: Requester) -> SignatureResult:
        """Sign `request.digest` with the key of `request.certificate_id`; every outcome is audited."""
        entry: CertificateEntry | None = None
        try:
            with self._signing:
                entry = self.catalogue.find(request.certificate_id)
                self._check_login_backoff(entry)
                try:
                    result = self._sign(entry, request, requester)
                except (TokenPinIncorrect, EnvironmentPinRejected):
                    self._login_failed(entry)
                    raise
                self._login_failures.pop((entry.module_path, entry.token_label), None)
        except TokenBridgeError as error:
            self._audit(request, requester, entry, outcome="refused" if error.http_status < 500 else "failed",
                        error=error)
            raise
        self._audit(request, requester, entry, outcome="signed", error=None)
        return result

    def _sign(self, entry: CertificateEntry, request: SignatureRequest, requester: Requester) -> SignatureResult:
        check_digest_length(request.digest, request.digest_algorithm)
        self.policy.check(
            entry.certificate.public_key, digest_algorithm=request.digest_algorithm, scheme=request.scheme
        )
        self._check_validity(entry)
        consent = ConsentRequest(
            description=request.description,
            origin=requester.shown,
            signer=entry.identity.common_name or entry.certificate.subject.human_friendly,
            certificate_kind=entry.kind,
            token_label=entry.token_label,
            digest_algorithm=request.digest_algorithm.value,
            signature_algorithm=request.scheme.value,
        )
        if not self.consent.ask_consent(consent):
            raise ConsentRefused()
        key = self._key(entry)
        key.session.purpose = request.description
        signature = key.sign_digest(request.digest, digest_algorithm=request.digest_algorithm, scheme=request.scheme)
        _check_signature(entry, request, signature)
        return SignatureResult(
            signature=signature, certificate=entry.certificate.dump(), chain=tuple(c.dump() for c in entry.chain)
        )

    def _check_login_backoff(self, entry: CertificateEntry) -> None:
        """After failed logins on a token the next one waits 1, 2, 4... seconds (at most five minutes): repeated
        requests cannot hammer a token's PIN counter (issue 9, item 6)."""
        failures, last = self._login_failures.get((entry.module_path, entry.token_label), (0, None))
        if not failures:
            return
        wait = min(LOGIN_BACKOFF_BASE_SECONDS * 2 ** (failures - 1), LOGIN_BACKOFF_MAX_SECONDS)
        remaining = (last + dt.timedelta(seconds=wait)) - self._clock()
        if remaining > dt.timedelta(0):
            raise TokenPinBackoff(entry.token_label, failures=failures,
                                  retry_after_seconds=max(1, int(remaining.total_seconds() + 0.999)))

    def _login_failed(self, entry: CertificateEntry) -> None:
        key = (entry.module_path, entry.token_label)
        failures, _last = self._login_failures.get(key, (0, None))
        self._login_failures[key] = (failures + 1, self._clock())

    def _key(self, entry: CertificateEntry) -> Pkcs11Key:
        """One Pkcs11Key per certificate: its private key handle is found once per login."""
        cache_key = (entry.module_path, entry.token_label, entry.key_id)
        key = self._keys.get(cache_key)
        if key is None:
            module = next(m for m in self.modules if m.path == entry.module_path)
            session = module.session(entry.token_label, pin_prompt=self.pin_prompt)
            key = Pkcs11Key(session, entry.key_id, policy=self.policy, public_key_info=entry.certificate.public_key)
            self._keys[cache_key] = key
        return key

    def _check_validity(self, entry: CertificateEntry) -> None:
        now = self._clock()
        certificate = entry.certificate
        if now < certificate.not_valid_before:
            raise CertificateNotUsable(
                f"The certificate is not valid before {certificate.not_valid_before.isoformat()}.",
                f"Chứng thư số chưa có hiệu lực trước {certificate.not_valid_before.isoformat()}.",
            )
        if now > certificate.not_valid_after:
            raise CertificateNotUsable(
                f"The certificate expired on {certificate.not_valid_after.isoformat()}.",
                f"Chứng thư số đã hết hạn từ {certificate.not_valid_after.isoformat()}.",
            )

    def _audit(self, request, requester, entry, *, outcome, error) -> None:
        self.audit.record(
            AuditRecord(
                time=self.audit.now(),
                origin=requester.origin or "local application",
                client=requester.client,
                certificate_id=request.certificate_id,
                token_label=entry.token_label if entry else "",
                signer=(entry.identity.common_name or "") if entry else "",
                description=request.description,
                digest_algorithm=request.digest_algorithm.value,
                signature_algorithm=request.scheme.value,
                digest=request.digest.hex(),
                outcome=outcome,
                error_code=error.code if error else None,
                message=str(error) if error else None,
            )
        )


def _check_signature(entry: CertificateEntry, request: SignatureRequest, signature: bytes) -> None:
    """Verify the token's answer with the certificate before handing it out: a key paired with the wrong
    certificate (CKA_ID mix-up) or a faulty token must fail here, clearly, not later in a PDF."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

    algorithm = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[
        request.digest_algorithm.value
    ]()
    public_key = serialization.load_der_public_key(entry.certificate.public_key.dump())
    prehashed = utils.Prehashed(algorithm)
    try:
        if request.scheme is SignatureScheme.ECDSA:
            public_key.verify(signature, request.digest, ec.ECDSA(prehashed))
        elif request.scheme is SignatureScheme.RSA_PSS:
            pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
            public_key.verify(signature, request.digest, pss, prehashed)
        else:
            public_key.verify(signature, request.digest, padding.PKCS1v15(), prehashed)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise KeyCertificateMismatch(
            f"The signature made by token '{entry.token_label}' with key id {entry.key_id.hex()} does not verify "
            "with the certificate's public key: the key does not belong to this certificate, or the token failed.",
            f"Chữ ký do thiết bị '{entry.token_label}' tạo bằng khóa mã {entry.key_id.hex()} không khớp với khóa "
            "công khai của chứng thư số: khóa không thuộc chứng thư này, hoặc thiết bị bị lỗi.",
        ) from exc
