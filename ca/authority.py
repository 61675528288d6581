"""The certificate authority as one object: issuers (CA keys and certificates), records, clock, URLs.

The authority decides what may be signed (profile, subject, key, validity), draws a random serial, has the
issuer's key sign, and records the certificate in one transaction; the serial's uniqueness is a database
constraint, and a collision draws a new serial (step-ca's "the authority decides, the signer signs").
Revocation is idempotent. CRLs carry increasing numbers. OCSP and time-stamping take request bytes and
return response bytes (`respond_ocsp`, `stamp`), so that any HTTP layer can serve them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509

from ca import ocsp, tsa
from ca.certificates import CertificateTemplate, Issuer, sign_certificate
from ca.crl import build_crl
from ca.endpoints import PkiEndpoints
from ca.errors import CaError, RequestRejected, UnknownAuthority, UnknownCertificate
from ca.names import build_name, name_attributes
from ca.ocsp import OcspResponder
from ca.requests import read_csr
from ca.revocation import CertificateState, CertificateStatus, RevocationReason
from ca.serials import SerialBlocks, random_serial
from ca.store import CertificateRecord, SerialTaken, Store
from ca.tsa import TimeStampUnit
from policies.keys import DigestSigner
from policies.profiles import ProfileError, ProfileSet, default_profiles

Clock = Callable[[], datetime]

__all__ = ["Authority", "IssuedCertificate", "OcspResponder", "Revocation", "TimeStampUnit", "random_serial", "utc_now"]

_SERIAL_ATTEMPTS = 8
_CRL_ATTEMPTS = 20


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the issuer first, up to the root
    record: CertificateRecord

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number


@dataclass(frozen=True)
class Revocation:
    record: CertificateRecord
    newly_revoked: bool  # False when the certificate was already revoked (idempotent call)


class Authority:
    """One PKI: its CAs by short name, the store of what they issued, and where it is published."""

    def __init__(
        self,
        *,
        store: Store,
        endpoints: PkiEndpoints,
        issuers: Iterable[Issuer] = (),
        profiles: ProfileSet | None = None,
        clock: Clock = utc_now,
        crl_validity: timedelta = timedelta(days=7),
        ocsp_cache_seconds: float = 60.0,
    ):
        self.store = store
        self.endpoints = endpoints
        self.profiles = profiles or default_profiles()
        self.clock = clock
        self.crl_validity = crl_validity
        self._issuers: dict[str, Issuer] = {}
        self._ocsp: dict[str, OcspResponder] = {}
        self._issuer_hashes: dict[str, dict[tuple[bytes, bytes], str]] = {}
        self._ocsp_templates: dict[str, tuple[OcspResponder, ocsp.ResponseTemplate]] = {}
        # RFC 5019: signed answers to nonce-less requests, reused for this long (0 turns the cache off).
        self.ocsp_cache = ocsp.ResponseCache(max_age=timedelta(seconds=ocsp_cache_seconds))
        self.tsa: TimeStampUnit | None = None
        self._tsa_template: tuple[TimeStampUnit, tsa.TokenTemplate] | None = None
        self._tsa_serials = SerialBlocks(
            lambda: self.store.reserve_serial_block(purpose="tsa", reserved_at=self.clock())
        )
        self._crl_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        for issuer in issuers:
            self.add_issuer(issuer)

    # CAs -------------------------------------------------------------------------------------------

    def add_issuer(self, issuer: Issuer, *, ocsp: OcspResponder | None = None) -> None:
        self._issuer_hashes = {}
        self._issuers[issuer.name] = issuer
        self._ocsp[issuer.name] = ocsp or OcspResponder(issuer.certificate, issuer.key, delegated=False)

    def set_ocsp_responder(self, issuer_name: str, responder: OcspResponder) -> None:
        self.issuer(issuer_name)
        self._ocsp[issuer_name] = responder
        self.ocsp_cache.clear()

    def set_time_stamp_unit(self, unit: TimeStampUnit) -> None:
        self.tsa = unit

    def time_stamp_template(self) -> "tsa.TokenTemplate":
        """The fixed parts of the current unit's tokens, encoded once per unit (see `tsa.TokenTemplate`)."""
        unit = self.tsa
        cached = self._tsa_template
        if cached is None or cached[0] is not unit:
            cached = (unit, tsa.TokenTemplate.build(unit))
            self._tsa_template = cached
        return cached[1]

    def next_timestamp_serial(self) -> int:
        """A unique time-stamp serial from this process's reserved block (`ca.serials.SerialBlocks`)."""
        return self._tsa_serials.next_serial()

    @property
    def issuers(self) -> Mapping[str, Issuer]:
        return dict(self._issuers)

    def issuer(self, name: str) -> Issuer:
        try:
            return self._issuers[name]
        except KeyError:
            known = ", ".join(sorted(self._issuers)) or "-"
            raise UnknownAuthority(
                f"không có CA tên {name!r} (có: {known})", f"no CA named {name!r} (known: {known})"
            ) from None

    def ocsp_responder(self, issuer_name: str) -> OcspResponder:
        self.issuer(issuer_name)
        return self._ocsp[issuer_name]

    def issuer_by_hashes(self, algorithm: str) -> Mapping[tuple[bytes, bytes], str]:
        """Our CAs by the (name hash, key hash) of an OCSP CertID with `algorithm`, computed once."""
        index = self._issuer_hashes.get(algorithm)
        if index is None:
            index = {ocsp.issuer_hashes(issuer.certificate, algorithm): name for name, issuer in self._issuers.items()}
            self._issuer_hashes[algorithm] = index
        return index

    def ocsp_template(self, issuer_name: str) -> ocsp.ResponseTemplate:
        """The fixed parts of the answers of the issuer's responder, encoded once per responder."""
        responder = self.ocsp_responder(issuer_name)
        cached = self._ocsp_templates.get(issuer_name)
        if cached is None or cached[0] is not responder:
            cached = (responder, ocsp.ResponseTemplate.build(responder))
            self._ocsp_templates[issuer_name] = cached
        return cached[1]

    def create_root(
        self,
        name: str,
        *,
        attributes: Iterable[tuple[str, str]],
        key: DigestSigner,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Issuer:
        """Self-sign a root CA certificate under the `root-ca` profile, record it, and add the issuer."""
        profile = self.profiles.get("root-ca")
        template = self._template(
            profile, tuple(attributes), key.public_key_info(), not_before=not_before, not_after=not_after,
            issuer=None,
        )

        def sign(serial: int) -> x509.Certificate:
            return sign_certificate(
                _with_serial(template, serial), issuer=None, self_signing_key=key, issuer_name=name
            )

        certificate, _ = self._sign_and_record(sign, issuer_name=name, profile=profile.name)
        issuer = Issuer(name=name, certificate=certificate, key=key, chain=())
        self.add_issuer(issuer)
        return issuer

    def create_subordinate(
        self,
        name: str,
        *,
        parent: str,
        attributes: Iterable[tuple[str, str]],
        key: DigestSigner,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Issuer:
        """Issue an issuing-CA certificate under `parent` and add the new issuer."""
        issued = self.issue(
            issuer=parent, profile="issuing-ca", attributes=attributes, public_key=key.public_key_info(),
            not_before=not_before, not_after=not_after,
        )
        issuer = Issuer(name=name, certificate=issued.certificate, key=key, chain=issued.chain)
        self.add_issuer(issuer)
        return issuer

    def attach_issuer(self, name: str, *, certificate: x509.Certificate, key: DigestSigner,
                      chain: tuple[x509.Certificate, ...] = ()) -> Issuer:
        """Add an existing CA (certificate already recorded) whose key lives on a token."""
        if certificate.public_key.dump() != key.public_key_info().dump():
            raise CaError(
                f"khóa không khớp chứng thư của CA {name}", f"the key does not match the certificate of CA {name}"
            )
        issuer = Issuer(name=name, certificate=certificate, key=key, chain=chain)
        self.add_issuer(issuer)
        return issuer

    # Issuance --------------------------------------------------------------------------------------

    def issue(
        self,
        *,
        issuer: str,
        profile: str,
        attributes: Iterable[tuple[str, str]],
        public_key: asn1_keys.PublicKeyInfo,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        validity_days: int | None = None,
    ) -> IssuedCertificate:
        """Check the request against `profile` and issue; refusals raise `RequestRejected`."""
        ca = self.issuer(issuer)
        chosen = self._profile(profile)
        if chosen.name == "root-ca":
            raise RequestRejected(
                "chứng thư CA gốc chỉ được tự ký (create_root)", "a root CA certificate is only self-signed"
            )
        if not chosen.is_ca and ca.certificate.self_issued:
            # RFC 5280 6.1 and the Baseline Requirements 6.1.7: a root key signs only subordinate CAs (and its
            # CRLs and OCSP answers); people, agencies and services get their certificates from an issuing CA.
            raise RequestRejected(
                f"CA gốc {issuer} chỉ cấp chứng thư CA trung gian, không cấp hồ sơ {chosen.name}",
                f"root CA {issuer} issues only subordinate CA certificates, not profile {chosen.name}",
            )
        constraints = ca.certificate.basic_constraints_value
        if chosen.is_ca and constraints is not None and constraints["path_len_constraint"].native == 0:
            # RFC 5280 4.2.1.9: a CA certificate under this issuer would make an invalid path.
            raise RequestRejected(
                f"CA {issuer} không được cấp chứng thư CA (pathLenConstraint 0)",
                f"CA {issuer} may not issue CA certificates (pathLenConstraint 0)",
            )
        if not_after is None and validity_days is not None:
            not_after = (not_before or self.clock()) + timedelta(days=validity_days)
        template = self._template(
            chosen, tuple(attributes), public_key, not_before=not_before, not_after=not_after, issuer=ca
        )

        def sign(serial: int) -> x509.Certificate:
            return sign_certificate(_with_serial(template, serial), issuer=ca, endpoints=self.endpoints)

        certificate, record = self._sign_and_record(sign, issuer_name=issuer, profile=chosen.name)
        return IssuedCertificate(certificate=certificate, chain=(ca.certificate, *ca.chain), record=record)

    def issue_from_csr(
        self,
        csr: bytes,
        *,
        issuer: str,
        profile: str,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        validity_days: int | None = None,
    ) -> IssuedCertificate:
        """Issue from a PKCS#10 request: its signature, key and subject are all checked first."""
        request = read_csr(csr)
        return self.issue(
            issuer=issuer, profile=profile, attributes=request.attributes, public_key=request.public_key,
            not_before=not_before, not_after=not_after, validity_days=validity_days,
        )

    def renew(
        self, serial_number: int, *, csr: bytes | None = None, validity_days: int | None = None
    ) -> IssuedCertificate:
        """Re-issue a valid certificate for the same subject (same key, or the key of `csr`).

        Decree 68/2024: a renewal extends the validity by at most the profile's `max_renewal_days` (3 years)
        past the current notAfter; the new certificate still obeys the profile's maximum validity.
        """
        record = self.store.find_certificate(serial_number)
        if record is None:
            raise UnknownCertificate(
                f"không có chứng thư số hiệu {serial_number:X}",
                f"no certificate with serial {serial_number:X} was issued here",
            )
        if record.is_revoked:
            raise RequestRejected(
                "chứng thư đã bị thu hồi, không gia hạn được", "a revoked certificate cannot be renewed"
            )
        now = self.clock()
        if record.not_after <= now:
            raise RequestRejected(
                "chứng thư đã hết hạn: hãy đề nghị cấp mới", "the certificate has expired: request a new one"
            )
        profile = self._profile(record.profile)
        if profile.max_renewal_days is None:
            raise RequestRejected(
                f"hồ sơ {profile.name} không cho phép gia hạn", f"profile {profile.name} does not allow renewal"
            )
        old = record.certificate
        attributes = name_attributes(old.subject)
        public_key = old.public_key
        if csr is not None:
            request = read_csr(csr)
            if request.attributes != attributes:
                raise RequestRejected(
                    "CSR gia hạn phải giữ nguyên chủ thể của chứng thư",
                    "the CSR of a renewal must keep the subject of the certificate",
                )
            public_key = request.public_key
        limit = record.not_after + timedelta(days=profile.max_renewal_days)
        if validity_days is not None:
            not_after = now + timedelta(days=validity_days)
        else:  # as far as both rules allow
            not_after = min(limit, now + timedelta(days=profile.max_validity_days))
        if not_after > limit:
            raise RequestRejected(
                f"gia hạn thêm tối đa {profile.max_renewal_days} ngày (đến {limit:%Y-%m-%d})",
                f"a renewal extends the validity by at most {profile.max_renewal_days} days "
                f"(to {limit:%Y-%m-%d})",
            )
        return self.issue(
            issuer=record.issuer, profile=record.profile, attributes=attributes, public_key=public_key,
            not_before=now, not_after=not_after,
        )

    def _profile(self, name: str):
        try:
            return self.profiles.get(name)
        except ProfileError as exc:
            raise RequestRejected(exc.vietnamese, exc.english) from exc

    def _template(self, profile, attributes, public_key, *, not_before, not_after, issuer: Issuer | None):
        try:
            profile.check_subject(attributes)
            self.profiles.check_public_key(public_key)
        except ProfileError as exc:
            raise RequestRejected(exc.vietnamese, exc.english) from exc
        now = self.clock()
        not_before = (not_before or now).astimezone(timezone.utc).replace(microsecond=0)
        limit = timedelta(days=profile.max_validity_days)
        if not_after is None:
            not_after = not_before + limit
            if issuer is not None:  # by default, never outlive the issuer
                not_after = min(not_after, issuer.certificate.not_valid_after)
        not_after = not_after.astimezone(timezone.utc).replace(microsecond=0)
        if not_after <= not_before:
            raise RequestRejected(
                "thời hạn kết thúc phải sau thời điểm bắt đầu", "notAfter must be later than notBefore"
            )
        if not_after - not_before > limit:
            raise RequestRejected(
                f"thời hạn vượt quá {profile.max_validity_days} ngày cho phép của hồ sơ {profile.name}",
                f"validity exceeds the {profile.max_validity_days} days allowed by profile {profile.name}",
            )
        if issuer is not None:
            ca = issuer.certificate
            if not_before < ca.not_valid_before or not_after > ca.not_valid_after:
                raise RequestRejected(
                    f"thời hạn nằm ngoài thời hạn của CA {issuer.name}",
                    f"validity falls outside the validity of CA {issuer.name}",
                )
        return CertificateTemplate(
            subject=build_name(attributes),
            public_key=public_key,
            profile=profile,
            serial_number=0,
            not_before=not_before,
            not_after=not_after,
        )

    def _sign_and_record(self, sign, *, issuer_name: str, profile: str):
        for _ in range(_SERIAL_ATTEMPTS):
            certificate = sign(random_serial())
            try:
                record = self.store.record_certificate(
                    certificate, issuer=issuer_name, profile=profile, issued_at=self.clock()
                )
            except SerialTaken:
                continue
            return certificate, record
        raise CaError("không cấp được số hiệu duy nhất", "could not draw a unique serial number")

    # Revocation ------------------------------------------------------------------------------------

    def revoke(
        self, serial_number: int, *, reason: RevocationReason, revoked_at: datetime | None = None
    ) -> Revocation:
        """Revoke a certificate we issued; revoking it again changes nothing and says so."""
        if self.store.find_certificate(serial_number) is None:
            raise UnknownCertificate(
                f"không có chứng thư số hiệu {serial_number:X}",
                f"no certificate with serial {serial_number:X} was issued here",
            )
        now = self.clock()
        record, changed = self.store.revoke(
            serial_number, reason=reason, revoked_at=(revoked_at or now).replace(microsecond=0), recorded_at=now
        )
        self.ocsp_cache.forget(serial_number)
        return Revocation(record=record, newly_revoked=changed)

    def status(self, issuer_name: str, serial_number: int) -> CertificateStatus:
        row = self.store.certificate_state(serial_number)
        if row is None or row.issuer != issuer_name or row.profile == "root-ca":
            return CertificateStatus(CertificateState.UNKNOWN)
        if row.revoked_at is not None:
            return CertificateStatus(CertificateState.REVOKED, row.revoked_at, row.revocation_reason)
        return CertificateStatus(CertificateState.GOOD)

    # CRLs ------------------------------------------------------------------------------------------

    def publish_crl(self, issuer_name: str) -> asn1_crl.CertificateList:
        """Sign and record a new CRL with the next CRL number.

        Threads of this process take turns per issuer; other processes (gunicorn workers, `kyso ca crl`
        beside `kyso ca serve`) are kept apart by the unique (issuer, number) constraint: the loser of a race
        waits a random moment and signs again with the next number.
        """
        ca = self.issuer(issuer_name)
        with self._crl_lock(issuer_name):
            for attempt in range(_CRL_ATTEMPTS):
                number = self.store.last_crl_number(issuer_name) + 1
                this_update = self.clock()
                next_update = this_update + self.crl_validity
                crl = build_crl(
                    ca, number=number, this_update=this_update, next_update=next_update,
                    revoked=self.store.revoked_entries(issuer_name),
                )
                try:
                    self.store.record_crl(
                        issuer_name, number=number, this_update=this_update, next_update=next_update,
                        der=crl.dump(),
                    )
                except SerialTaken:
                    time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
                    continue
                return crl
        raise CaError("không cấp được số CRL", "could not draw a CRL number")

    def _crl_lock(self, issuer_name: str) -> threading.Lock:
        with self._locks_guard:
            return self._crl_locks.setdefault(issuer_name, threading.Lock())

    def current_crl(self, issuer_name: str) -> bytes:
        """The newest CRL of the issuer, published anew when there is none or it is past nextUpdate."""
        self.issuer(issuer_name)
        latest = self.store.latest_crl(issuer_name)
        if latest is None or latest[1] <= self.clock():
            return self.publish_crl(issuer_name).dump()
        return latest[0]

    # OCSP and time-stamping ------------------------------------------------------------------------

    def respond_ocsp(self, request: bytes) -> bytes:
        """An RFC 6960 response (DER) to request bytes; malformed requests get `malformedRequest`."""
        return ocsp.respond(request, authority=self, now=self.clock())

    def stamp(self, request: bytes) -> bytes:
        """An RFC 3161 response (DER) to request bytes; bad requests get `badRequest` / `badAlgorithm`."""
        return tsa.respond(request, authority=self, now=self.clock())


def _with_serial(template: CertificateTemplate, serial: int) -> CertificateTemplate:
    return CertificateTemplate(
        subject=template.subject, public_key=template.public_key, profile=template.profile,
        serial_number=serial, not_before=template.not_before, not_after=template.not_after,
    )


def subject_attributes(certificate: x509.Certificate) -> tuple[tuple[str, str], ...]:
    return name_attributes(certificate.subject)
