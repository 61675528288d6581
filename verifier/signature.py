"""The judgement of one CMS signer, shared by PAdES and CAdES: signature value, algorithms, the signature
timestamp and the signing time it proves, then the chain at that time (DOMAIN.md, "Validation rules")."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509
from pyhanko.sign.general import SignedDataCerts, extract_signer_info
from pyhanko.sign.validation.generic_cms import extract_certs_for_validation, extract_tst_data_iter
from pyhanko_certvalidator import ValidationContext

from policies.anchors import fingerprint
from policies.identity import HolderKind, parse_identity
from verifier.chain import SIGNER_KEY_USAGE, ChainResult, anchor_name, validate_chain_cached
from verifier.cms import TimestampCheck, check_signature_value, check_timestamp_token, signature_algorithms
from verifier.modifications import Integrity
from verifier.report import (
    Indication, Message, Severity, SignatureKind, SignatureReport, SubIndication, TimeSource, iso,
)
from verifier.timing import compare_claim, future_claim


@dataclass(frozen=True)
class DocumentData:
    """Validation data the document carries (its DSS): certificates, CRLs, OCSP responses."""

    certs: tuple[x509.Certificate, ...] = ()
    crls: tuple = ()
    ocsps: tuple = ()

    @property
    def revinfo_dumps(self) -> set[bytes]:
        return {c.dump() for c in self.crls} | {o.dump() for o in self.ocsps}


def with_embedded_revinfo(document: DocumentData, signed_data: cms.SignedData,
                           signer_info: cms.SignerInfo) -> DocumentData:
    """Add the revocation data a signature carries itself: the Adobe revocationInfoArchival signed
    attribute (what many Vietnamese signing tools write instead of a DSS) and the CMS `crls` field."""
    crls, ocsps = list(document.crls), list(document.ocsps)
    try:
        for attr in signer_info["signed_attrs"] or ():
            if attr["type"].native == "adobe_revocation_info_archival":
                for archival in attr["values"]:
                    crls.extend(archival["crl"] or ())
                    ocsps.extend(archival["ocsp"] or ())
        for choice in signed_data["crls"] or ():
            if choice.name == "crl":
                crls.append(choice.chosen)
    except (KeyError, ValueError, TypeError):
        return document  # unreadable extras: judge with what the document carries elsewhere
    if len(crls) == len(document.crls) and len(ocsps) == len(document.ocsps):
        return document
    # asn1crypto parses lazily: a truncated CRL or response in a signature (iText's
    # revDataInTheSignatureContainer.pdf) must be dropped here, not fail the validation later.
    return DocumentData(document.certs, tuple(c for c in crls if _parses(c)), tuple(o for o in ocsps if _parses(o)))


def _parses(value) -> bool:
    try:
        value.native
        return True
    except (ValueError, TypeError, KeyError):
        return False


ContextFactory = Callable[..., ValidationContext]


@dataclass(frozen=True)
class Environment:
    """What one validation needs from the `Verifier`: settings, a context factory and the time now."""

    policy: object  # policies.validation.ValidationPolicy
    new_context: ContextFactory  # (moment=, extra_certs=, document=) -> ValidationContext
    now: datetime
    chain_cache: object = None  # verifier.chain.ChainCache shared by the Verifier, or None
    url_of: object = None  # (DER of a CRL / OCSP response) -> the URL it was fetched from, or None
    pdf_limits: object = None  # policies.pdf_limits.PdfLimits (defaults when None)


def kind_of(identity) -> SignatureKind:
    return {HolderKind.PERSON: SignatureKind.PERSONAL, HolderKind.ORGANISATION: SignatureKind.AGENCY}.get(
        identity.holder_kind, SignatureKind.UNKNOWN)


def decide(candidates: list[tuple[Indication, SubIndication]]) -> tuple[Indication, SubIndication | None]:
    """The first final failure wins, then the first doubt; otherwise passed."""
    for indication, sub in candidates:
        if indication is Indication.TOTAL_FAILED:
            return indication, sub
    for indication, sub in candidates:
        if indication is Indication.INDETERMINATE:
            return indication, sub
    return Indication.TOTAL_PASSED, None


async def judge_cms_signer(
    signed_data: cms.SignedData, *, digest: bytes, claimed: datetime | None, env: Environment,
    document: DocumentData, integrity: Integrity, field: str, revision: int | None = None,
    certs: SignedDataCerts | None = None, tst_moment: datetime | None = None,
) -> SignatureReport:
    """The judgement shared by PAdES and CAdES once integrity of the container is known."""
    policy = env.policy
    signer_info: cms.SignerInfo = extract_signer_info(signed_data)
    certs = certs or extract_certs_for_validation(signed_data)
    document = with_embedded_revinfo(document, signed_data, signer_info)
    cert = certs.signer_cert
    identity = parse_identity(cert)
    digest_algorithm, signature_algorithm, key = signature_algorithms(signer_info, cert)
    candidates: list[tuple[Indication, SubIndication]] = []
    messages: list[Message] = []

    messages.extend(integrity.messages)
    if integrity.failure:
        candidates.append(integrity.failure[:2])

    crypto = check_signature_value(signer_info, cert, digest=digest, content_type="data")
    if crypto is not None:
        candidates.append(crypto[:2])
        messages.append(crypto[2])

    algorithm = policy.algorithms.check_signature(digest_algorithm, key, rule="validation:algorithms")
    if not algorithm.allowed:
        candidates.append((Indication.INDETERMINATE, SubIndication.CRYPTO_CONSTRAINTS_FAILURE))
        messages.append(Message(algorithm.rule, algorithm.reason_en, algorithm.reason_vi, Severity.ERROR))

    # The signature timestamp (PAdES B-T / CAdES-T): its genTime is the signing time when it holds.
    timestamp: TimestampCheck | None = None
    tst_moment = tst_moment or env.now
    for tst in extract_tst_data_iter(signer_info, signed=False):
        timestamp = await check_timestamp_token(
            tst, expected_imprint=lambda algo: _hash(algo, signer_info["signature"].native),
            context=env.new_context(moment=tst_moment, document=document), algorithms=policy.algorithms,
            document_revinfo=document.revinfo_dumps, cache=env.chain_cache,
            url_of=env.url_of)
        tsa_expired = timestamp.tsa_certificate is not None and (
            timestamp.tsa_certificate["tbs_certificate"]["validity"]["not_after"].native < env.now)
        if tst_moment != env.now and timestamp.proves_time and tsa_expired:
            messages.append(Message(
                "timestamp.archived",
                f"the signature timestamp was judged at {iso(tst_moment)}, the time proven by a later document "
                f"timestamp (PAdES B-LTA)",
                f"dấu thời gian của chữ ký được kiểm tra tại {iso(tst_moment)}, thời điểm được chứng minh bởi dấu "
                f"thời gian văn bản sau đó (PAdES B-LTA)"))
        break
    timestamp_info = None
    if timestamp is not None:
        timestamp_info = timestamp.info
        messages.extend(timestamp.messages)
        if timestamp.failure is not None:
            candidates.append(timestamp.failure)
    if timestamp is not None and timestamp.proves_time:
        signing_time, source, proven = timestamp.info.gen_time, TimeSource.TIMESTAMP, True
        messages.extend(compare_claim(claimed, signing_time, tolerance=policy.claimed_time_tolerance,
                                      quirk=policy.local_time_quirk))
    elif claimed is not None:
        signing_time, source, proven = claimed, TimeSource.CLAIMED, False
    else:
        signing_time, source, proven = None, TimeSource.NONE, False

    # DOMAIN.md (Decree 68/2024): the status of every certificate of the path at the signing time, which
    # without a timestamp is the signer's claimed time. A claim in the future (beyond the tolerance) is not
    # a possible signing time: the chain is then judged now, without proof. The ETSI-strict policy
    # (trust_claimed_time = false) judges every untimestamped signature now (EN 319 102-1: no POE).
    # `at_signing_time`: the chain's moment is the signing time (proven, or claimed under this rule), so a
    # revocation or expiry before it is a final failure rather than "no proof of existence".
    at_signing_time = proven
    if proven:
        moment = signing_time
    elif claimed is not None:
        future = future_claim(claimed, env.now, tolerance=policy.claimed_time_tolerance,
                              quirk=policy.local_time_quirk)
        judged_at_claim = policy.trust_claimed_time and not future
        messages.append(_self_declared(claimed, env.now, judged_at_claim))
        messages.extend(future)
        moment, at_signing_time = (claimed, True) if judged_at_claim else (env.now, False)
    else:
        moment = env.now
    context = env.new_context(moment=moment, document=document, extra_certs=certs.other_certs)
    chain: ChainResult | None = None
    evidence: tuple = ()
    if crypto is None:
        chain, evidence = await validate_chain_cached(
            cert, context=context, key_usage=SIGNER_KEY_USAGE, time_proven=at_signing_time,
            algorithms=policy.algorithms, cache=env.chain_cache, document_revinfo=document.revinfo_dumps,
            url_of=env.url_of)
        messages.extend(chain.messages)
        if chain.indication is not Indication.TOTAL_PASSED:
            indication, sub = chain.indication, chain.sub_indication
            if (sub is SubIndication.REVOKED_NO_POE and claimed is not None and chain.revoked_at is not None
                    and claimed >= chain.revoked_at):
                # The signer's own claim puts the signature after the revocation.
                indication, sub = Indication.TOTAL_FAILED, SubIndication.REVOKED
            candidates.append((indication, sub))
    indication, sub = decide(candidates)
    if indication is Indication.TOTAL_PASSED:
        messages.insert(0, Message("signature.valid", "the signature is valid", "chữ ký số hợp lệ"))
    return SignatureReport(
        field=field, kind=kind_of(identity), indication=indication, sub_indication=sub,
        signer=identity, certificate_sha256=fingerprint(cert.dump()), signing_time=signing_time,
        signing_time_source=source, claimed_time=claimed, timestamp=timestamp_info,
        trust_anchor=anchor_name(chain.path) if chain and chain.indication is Indication.TOTAL_PASSED else None,
        revocation=evidence,
        coverage=integrity.coverage, modifications=integrity.modifications, change=integrity.change,
        digest_algorithm=digest_algorithm, signature_algorithm=signature_algorithm, messages=tuple(messages),
        revision=revision,
    )


def _self_declared(claimed: datetime, now: datetime, judged_at_claim: bool) -> Message:
    """Without a timestamp the signing time is the signer's own claim: say so, and at which time the
    certificates were judged."""
    if judged_at_claim:
        return Message(
            "time.self-declared",
            f"no trusted timestamp: the signing time {iso(claimed)} is self-declared by the signer and not proven; "
            f"the certificates were judged at that time (Decree 68/2024)",
            f"không có dấu thời gian tin cậy: thời gian ký {iso(claimed)} do người ký tự khai, chưa được chứng minh; "
            f"chứng thư số được kiểm tra tại thời điểm đó (Nghị định 68/2024)",
            Severity.WARNING)
    return Message(
        "time.self-declared",
        f"no trusted timestamp: the signing time {iso(claimed)} is self-declared by the signer and not proven; "
        f"the certificates were judged at the validation time {iso(now)}",
        f"không có dấu thời gian tin cậy: thời gian ký {iso(claimed)} do người ký tự khai, chưa được chứng minh; "
        f"chứng thư số được kiểm tra tại thời điểm kiểm tra {iso(now)}",
        Severity.WARNING)


def _hash(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(algorithm, data).digest()
