"""Certificate chain validation at a moment, with the reason named when it fails.

DOMAIN.md, "Validation rules": every certificate of the path must be within its validity and not revoked at
the signing time; revoked after the signing time does not invalidate; no revocation information is
INDETERMINATE. pyhanko-certvalidator does the PKIX work (RFC 5280 path validation, CRL and OCSP checks);
this module maps its exceptions to ETSI EN 319 102-1 sub-indications with a message a clerk can read.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext, find_valid_path
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.path import ValidationPath

from policies.algorithms import AlgorithmRules
from verifier.report import Indication, Message, RevocationEvidence, Severity, SubIndication, iso

SIGNER_KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"},
                                       match_all_key_usages=False)
TSA_KEY_USAGE = KeyUsageConstraints(key_usage=set(), extd_key_usage={"time_stamping"})


@dataclass(frozen=True)
class ChainResult:
    indication: Indication
    sub_indication: SubIndication | None
    path: ValidationPath | None
    messages: tuple[Message, ...]
    revoked_at: datetime | None = None



def display_name(name: x509.Name) -> str:
    """The common name when there is one (what a clerk recognises), else the whole name."""
    for rdn in name.chosen:
        for atv in rdn:
            if atv["type"].native == "common_name":
                return atv["value"].native
    return name.human_friendly


def _msg(code: str, en: str, vi: str, severity: Severity = Severity.ERROR) -> Message:
    return Message(code, en, vi, severity)


async def validate_chain(
    certificate: x509.Certificate,
    *,
    context: ValidationContext,
    key_usage: KeyUsageConstraints,
    time_proven: bool,
    algorithms: AlgorithmRules,
    role_en: str = "signer",
    role_vi: str = "người ký",
) -> ChainResult:
    """Validate `certificate` in `context` (whose moment is the signing time). `time_proven` says whether
    that moment is proven by a timestamp: only then do REVOKED / EXPIRED become final failures."""
    subject = display_name(certificate.subject)
    moment = iso(context.moment)
    try:
        paths = context.path_builder.async_build_paths_lazy(certificate)
        path = await find_valid_path(certificate, paths, validation_context=context)
        if path.pkix_len > 0:
            key_usage.validate(certificate)
    except cv_errors.PathBuildingError:
        return ChainResult(Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND, None, (_msg(
            "chain.no-path",
            f"no chain from the {role_en} certificate ({subject}) to a trusted root",
            f"không tìm thấy chuỗi chứng thực từ chứng thư số {role_vi} ({subject}) đến một CA gốc tin cậy",
        ),))
    except cv_errors.RevokedError as exc:
        when = iso(exc.revocation_dt) if exc.revocation_dt else "?"
        reason = exc.reason.human_friendly if exc.reason is not None else "unspecified"
        if not exc.is_ee_cert:
            sub = SubIndication.REVOKED if time_proven else SubIndication.REVOKED_CA_NO_POE
            return ChainResult(Indication.TOTAL_FAILED if time_proven else Indication.INDETERMINATE, sub,
                               exc.original_path, (_msg(
                "chain.ca-revoked",
                f"a CA certificate in the {role_en}'s chain was revoked on {when} ({reason}), before {moment}",
                f"một chứng thư số CA trong chuỗi của {role_vi} đã bị thu hồi ngày {when} ({reason}), trước {moment}",
            ),), exc.revocation_dt)
        return ChainResult(
            Indication.TOTAL_FAILED if time_proven else Indication.INDETERMINATE,
            SubIndication.REVOKED if time_proven else SubIndication.REVOKED_NO_POE,
            exc.original_path,
            (_msg("chain.revoked",
                  f"the {role_en} certificate ({subject}) was revoked on {when} ({reason}), before the "
                  f"{'proven ' if time_proven else ''}signing time {moment}",
                  f"chứng thư số {role_vi} ({subject}) đã bị thu hồi ngày {when} ({reason}), trước thời điểm "
                  f"ký {moment}"),),
            exc.revocation_dt,
        )
    except cv_errors.StaleRevinfoError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.TRY_LATER, exc.original_path, (_msg(
            "chain.stale-revocation",
            f"the revocation information for the {role_en}'s chain is too old for {moment}: {exc.failure_msg}",
            f"thông tin thu hồi của chuỗi chứng thư số {role_vi} đã cũ so với {moment}",
        ),))
    except cv_errors.InsufficientRevinfoError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.TRY_LATER, exc.original_path, (_msg(
            "chain.no-revocation",
            f"no revocation information (CRL or OCSP) could be obtained for the {role_en}'s chain, so its "
            f"status at {moment} cannot be determined",
            f"không lấy được thông tin thu hồi (CRL hoặc OCSP) của chuỗi chứng thư số {role_vi} nên không xác "
            f"định được trạng thái tại {moment}",
        ),))
    except cv_errors.ExpiredError as exc:
        return _expired(exc.expired_dt, exc.is_ee_cert, exc.original_path, time_proven, moment, role_en, role_vi)
    except cv_errors.NotYetValidError as exc:
        return _not_yet_valid(exc.original_path, time_proven, moment, role_en, role_vi)
    except cv_errors.DisallowedAlgorithmError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                           exc.original_path, (_msg(
            "chain.weak-algorithm",
            f"the {role_en}'s chain uses an algorithm that is not allowed: {exc.failure_msg}",
            f"chuỗi chứng thư số {role_vi} dùng thuật toán không được phép: {exc.failure_msg}",
        ),))
    except cv_errors.InvalidCertificateError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.CHAIN_CONSTRAINTS_FAILURE, None, (_msg(
            "chain.constraints",
            f"the {role_en} certificate ({subject}) may not be used here: {exc.failure_msg}",
            f"chứng thư số {role_vi} ({subject}) không được dùng cho mục đích này: {exc.failure_msg}",
        ),))
    except cv_errors.PathValidationError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
                           exc.original_path, (_msg(
            "chain.invalid", f"the {role_en}'s chain is not valid: {exc.failure_msg}",
            f"chuỗi chứng thư số {role_vi} không hợp lệ: {exc.failure_msg}",
        ),))
    except cv_errors.ValidationError as exc:
        return ChainResult(Indication.INDETERMINATE, SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE, None, (_msg(
            "chain.invalid", f"the {role_en}'s chain is not valid: {exc.failure_msg}",
            f"chuỗi chứng thư số {role_vi} không hợp lệ: {exc.failure_msg}",
        ),))
    # certvalidator widens each validity period by its time tolerance (for clock drift in revocation data);
    # RFC 5280 bounds are exact: one second after notAfter is expired, one second before notBefore not yet valid.
    for cert in path.iter_certs(include_root=False):
        validity = cert["tbs_certificate"]["validity"]
        if context.moment > validity["not_after"].native:
            return _expired(validity["not_after"].native, cert.dump() == certificate.dump(),
                            path, time_proven, moment, role_en, role_vi)
        if context.moment < validity["not_before"].native:
            return _not_yet_valid(path, time_proven, moment, role_en, role_vi)
    return _passed(path, algorithms, context.moment, role_en, role_vi)


def _expired(expired_dt: datetime | None, is_ee_cert: bool, path: ValidationPath | None, time_proven: bool,
             moment: str, role_en: str, role_vi: str) -> ChainResult:
    until = iso(expired_dt) if expired_dt else "?"
    final = time_proven and is_ee_cert
    return ChainResult(
        Indication.TOTAL_FAILED if final else Indication.INDETERMINATE,
        SubIndication.EXPIRED if final else (SubIndication.OUT_OF_BOUNDS_NO_POE if is_ee_cert
                                             else SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE),
        path,
        (_msg("chain.expired",
              f"a certificate of the {role_en}'s chain expired on {until}, before {moment}",
              f"một chứng thư số trong chuỗi của {role_vi} đã hết hạn ngày {until}, trước {moment}"),),
    )


def _not_yet_valid(path: ValidationPath | None, time_proven: bool, moment: str, role_en: str,
                   role_vi: str) -> ChainResult:
    return ChainResult(
        Indication.TOTAL_FAILED if time_proven else Indication.INDETERMINATE,
        SubIndication.NOT_YET_VALID, path,
        (_msg("chain.not-yet-valid",
              f"a certificate of the {role_en}'s chain was not yet valid at {moment}",
              f"một chứng thư số trong chuỗi của {role_vi} chưa có hiệu lực tại {moment}"),),
    )


def _passed(path: ValidationPath, algorithms: AlgorithmRules, moment: datetime, role_en: str,
            role_vi: str) -> ChainResult:
    warnings = _legacy_warnings(path, algorithms, moment)
    if any(w.severity is Severity.ERROR for w in warnings):
        # A SHA-1 CA chain after the configured date (policies.algorithms).
        return ChainResult(Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE, path, warnings)
    return ChainResult(Indication.TOTAL_PASSED, None, path, warnings)


class ChainCache:
    """Chain results that passed, reused across the files of a batch (DESIGN.md: one validation context for
    a thousand files). A result found for one signing time holds for any other time inside its window: every
    certificate of the path valid then, and before any revocation date that the revocation data used lists
    for them. Entries live `ttl` seconds, the freshness the HTTP cache already assumes for CRLs and OCSP."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._entries: dict = {}
        self._lock = threading.Lock()

    def lookup(self, key, moment: datetime):
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        _, (start, end), value = entry
        return value if start <= moment < end else None

    def store(self, key, window: tuple[datetime, datetime], value) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, window, value)


async def validate_chain_cached(
    certificate: x509.Certificate, *, context: ValidationContext, key_usage: KeyUsageConstraints,
    time_proven: bool, algorithms: AlgorithmRules, cache: ChainCache | None, document_revinfo: set[bytes],
    role_en: str = "signer", role_vi: str = "người ký", url_of: Callable[[bytes], str | None] | None = None,
) -> tuple[ChainResult, tuple[RevocationEvidence, ...]]:
    """`validate_chain` with the batch cache; returns the result and the revocation data it rests on."""
    key = (certificate.dump(), role_en, hashlib.sha256(b"".join(sorted(document_revinfo))).digest())
    if cache is not None:
        hit = cache.lookup(key, context.moment)
        if hit is not None:
            path, evidence = hit
            return _passed(path, algorithms, context.moment, role_en, role_vi), evidence
    result = await validate_chain(certificate, context=context, key_usage=key_usage, time_proven=time_proven,
                                  algorithms=algorithms, role_en=role_en, role_vi=role_vi)
    evidence = revocation_evidence(result.path, context, from_document=document_revinfo, url_of=url_of)
    if cache is not None and result.indication is Indication.TOTAL_PASSED:
        cache.store(key, _window(result.path, context), (result.path, evidence))
    return result, evidence


def _window(path: ValidationPath, context: ValidationContext) -> tuple[datetime, datetime]:
    certs = list(path.iter_certs(include_root=True))
    start = max(c["tbs_certificate"]["validity"]["not_before"].native for c in certs)
    end = min(c["tbs_certificate"]["validity"]["not_after"].native for c in certs)
    serials = {c.serial_number for c in certs}
    for revoked_at in _revocation_dates(serials, context):
        end = min(end, revoked_at)
    return start, end


def _revocation_dates(serials: set[int], context: ValidationContext):
    """Every revocation date the context's CRLs and OCSP responses give for these serial numbers."""
    for crl in context.crls:
        for entry in crl["tbs_cert_list"]["revoked_certificates"] or ():
            if entry["user_certificate"].native in serials:
                yield entry["revocation_date"].native
    for response in context.ocsps:
        try:
            data = response["response_bytes"]["response"].parsed["tbs_response_data"]
        except (KeyError, ValueError, TypeError):
            continue
        for single in data["responses"]:
            status = single["cert_status"]
            if single["cert_id"]["serial_number"].native in serials and status.name == "revoked":
                yield status.chosen["revocation_time"].native


def _legacy_warnings(path: ValidationPath, algorithms: AlgorithmRules, at: datetime) -> tuple[Message, ...]:
    """DOMAIN.md: legacy SHA-1 CA chains are accepted with a warning (the certvalidator policy lets them
    through; this is where the warning, and the end date, come from)."""
    warnings = []
    for cert in path.iter_certs(include_root=False):
        digest = cert["signature_algorithm"].hash_algo
        decision = algorithms.check_ca_signature(digest, at=at, subject=display_name(cert.subject))
        if decision.outcome.value != "allow":
            warnings.append(Message(decision.rule, decision.reason_en, decision.reason_vi,
                                    Severity.WARNING if decision.allowed else Severity.ERROR))
    return tuple(warnings)


def anchor_name(path: ValidationPath | None) -> str | None:
    if path is None:
        return None
    return display_name(path.trust_anchor.authority.name)


def revocation_evidence(
    path: ValidationPath | None, context: ValidationContext, *, from_document: set[bytes],
    url_of: Callable[[bytes], str | None] | None = None,
) -> tuple[RevocationEvidence, ...]:
    """The CRLs and OCSP responses of the context that speak about the certificates of `path`."""
    if path is None:
        return ()
    certs = list(path.iter_certs(include_root=False))
    issuers = {c.issuer.dump(): c for c in certs}
    serials = {c.serial_number: c for c in certs}
    found: list[RevocationEvidence] = []
    seen: set[bytes] = set()
    for crl in context.crls:
        der = crl.dump()
        issuer = crl["tbs_cert_list"]["issuer"]
        if der in seen or issuer.dump() not in issuers:
            continue
        seen.add(der)
        found.append(RevocationEvidence(
            "crl", "document" if der in from_document else "fetched",
            display_name(issuers[issuer.dump()].subject), display_name(issuer),
            crl["tbs_cert_list"]["this_update"].native,
            None if der in from_document or url_of is None else url_of(der),
        ))
    for response in context.ocsps:
        der = response.dump()
        if der in seen:
            continue
        try:
            basic = response["response_bytes"]["response"].parsed
            data = basic["tbs_response_data"]
            for single in data["responses"]:
                serial = single["cert_id"]["serial_number"].native
                if serial in serials:
                    seen.add(der)
                    responder = data["responder_id"]
                    found.append(RevocationEvidence(
                        "ocsp", "document" if der in from_document else "fetched",
                        display_name(serials[serial].subject),
                        display_name(responder.chosen) if responder.name == "by_name" else
                        f"OCSP responder (key {responder.chosen.native.hex()[:16]})",
                        data["produced_at"].native,
                        None if der in from_document or url_of is None else url_of(der),
                    ))
                    break
        except (KeyError, ValueError, TypeError):
            continue
    return tuple(found)
