"""PAdES validation: every signature and document timestamp of a PDF, into a `FileReport`.

Per signature (ETSI EN 319 102-1 with the Decree 68/2024 time rules of DOMAIN.md): the byte range and what
changed after the signed revision (pyHanko's difference analysis judged by our policy), the cryptographic
integrity, the signature timestamp, then the chain at the signing time. Internal: callers use
`verifier.Verifier`.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, x509
from pyhanko.pdf_utils import misc as pdf_misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.diff_analysis.policies import DEFAULT_DIFF_POLICY
from pyhanko.sign.general import SignedDataCerts, extract_signer_info
from pyhanko.sign.validation import errors as sv_errors
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_certs_for_validation, extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from policies.anchors import fingerprint
from policies.identity import HolderKind, parse_identity
from policies.validation import ChangeClass
from verifier.chain import SIGNER_KEY_USAGE, ChainResult, anchor_name, validate_chain_cached
from verifier.cms import TimestampCheck, check_signature_value, check_timestamp_token, signature_algorithms
from verifier.report import (
    FileReport, Indication, Message, Modifications, Severity, SignatureKind, SignatureReport, SubIndication,
    TimeSource, TimestampInfo, iso,
)
from verifier.timing import compare_claim


@dataclass(frozen=True)
class DocumentData:
    """Validation data the document carries (its DSS): certificates, CRLs, OCSP responses."""

    certs: tuple[x509.Certificate, ...] = ()
    crls: tuple = ()
    ocsps: tuple = ()

    @property
    def revinfo_dumps(self) -> set[bytes]:
        return {c.dump() for c in self.crls} | {o.dump() for o in self.ocsps}


ContextFactory = Callable[..., ValidationContext]


@dataclass(frozen=True)
class Environment:
    """What one validation needs from the `Verifier`: settings, a context factory and the time now."""

    policy: object  # policies.validation.ValidationPolicy
    new_context: ContextFactory  # (moment=, extra_certs=, document=) -> ValidationContext
    now: datetime
    chain_cache: object = None  # verifier.chain.ChainCache shared by the Verifier, or None


def read_document_data(reader: PdfFileReader) -> DocumentData:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (KeyError, ValueError, pdf_misc.PdfError):
        return DocumentData()
    context = dss.as_validation_context({"trust_roots": [], "allow_fetching": False})
    return DocumentData(tuple(dss.load_certs()), tuple(context.crls), tuple(context.ocsps))


async def judge_pdf(data: bytes, *, path: str, env: Environment) -> FileReport:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return FileReport.format_failure(path, Message(
            "format.not-pdf", "the file is not a PDF document (no %PDF- header)",
            "tệp không phải văn bản PDF (thiếu phần đầu %PDF-)", Severity.ERROR))
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            result = reader.decrypt("")
            if getattr(result, "status", None) is not None and result.status.name == "FAILED":
                raise _Encrypted()
        signatures, broken = _embedded_signatures(reader)
        document = read_document_data(reader)
    except _Encrypted:
        return FileReport.format_failure(path, Message(
            "format.encrypted", "the PDF is encrypted with a password; it cannot be validated without it",
            "tệp PDF được mã hóa bằng mật khẩu; không thể kiểm tra khi không có mật khẩu", Severity.ERROR))
    except Exception as exc:  # noqa: BLE001 - any parser failure on hostile input is a format failure
        return FileReport.format_failure(path, Message(
            "format.unreadable", f"the PDF cannot be read: {_describe(exc)}",
            f"không đọc được tệp PDF: {_describe(exc)}", Severity.ERROR))
    # PAdES B-LTA: a trusted document timestamp proves that everything in the revisions it covers existed
    # at its genTime. Timestamps are judged from the latest (now) back, each earlier timestamp at the
    # time proven by the later ones, so an archive keeps validating after a TSA certificate expires.
    judged: dict[int, SignatureReport] = {}
    proofs: list[tuple[int, datetime]] = []  # (revision, genTime) of trusted document timestamps

    def proven_time(revision: int) -> datetime:
        later = [moment for rev, moment in proofs if rev > revision]
        return min(later) if later else env.now

    for index in reversed(range(len(signatures))):
        embedded = signatures[index]
        if embedded.sig_object_type != "/DocTimeStamp":
            continue
        try:
            report = await judge_document_timestamp(
                embedded, env=env, document=document, moment=proven_time(embedded.signed_revision))
            if report.passed and report.signing_time is not None:
                proofs.append((embedded.signed_revision, report.signing_time))
        except Exception as exc:  # noqa: BLE001 - a malformed timestamp is reported, never a crash
            report = _malformed(embedded.field_name, exc)
        judged[index] = report
    for index, embedded in enumerate(signatures):
        if index in judged:
            continue
        try:
            judged[index] = await judge_signature(embedded, env=env, document=document,
                                                  tst_moment=proven_time(embedded.signed_revision))
        except Exception as exc:  # noqa: BLE001 - a malformed signature is reported, never a crash
            judged[index] = _malformed(embedded.field_name, exc)
    reports = [judged[i] for i in range(len(signatures))]
    reports.extend(_malformed(name, exc) for name, exc in broken)
    return FileReport.of(path, tuple(reports))


def _embedded_signatures(reader: PdfFileReader):
    """The filled signature fields, in signing order; a field whose signature cannot even be parsed is
    returned apart (name, error) so that it gets its own FORMAT_FAILURE and the others are still judged."""
    good, broken = [], []
    for name, _, field in enumerate_sig_fields(reader, filled_status=True):
        try:
            good.append(EmbeddedPdfSignature(reader, field, name))
        except Exception as exc:  # noqa: BLE001 - hostile input
            broken.append((name, exc))
    good.sort(key=lambda e: e.signed_revision)
    return good, broken


class _Encrypted(Exception):
    pass


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:300]


def _malformed(field: str, exc: Exception) -> SignatureReport:
    return SignatureReport(
        field=field, kind=SignatureKind.UNKNOWN, indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE, signer=None, certificate_sha256=None, signing_time=None,
        signing_time_source=TimeSource.NONE, claimed_time=None, timestamp=None, trust_anchor=None,
        revocation=(), coverage="unclear", modifications=Modifications.DISALLOWED, change=None,
        digest_algorithm=None, signature_algorithm=None,
        messages=(Message("format.signature", f"the signature is malformed: {_describe(exc)}",
                          f"chữ ký bị hỏng cấu trúc: {_describe(exc)}", Severity.ERROR),),
    )


_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}
_LEVELS = {
    ModificationLevel.NONE: ChangeClass.NONE,
    ModificationLevel.LTA_UPDATES: ChangeClass.VALIDATION_DATA,
    ModificationLevel.FORM_FILLING: ChangeClass.FORM_FILLING,
    ModificationLevel.ANNOTATIONS: ChangeClass.ANNOTATIONS,
    ModificationLevel.OTHER: ChangeClass.OTHER,
}


@dataclass(frozen=True)
class _Integrity:
    coverage: str
    modifications: Modifications
    change: str | None
    failure: tuple[Indication, SubIndication, Message] | None
    messages: tuple[Message, ...]


def _judge_integrity(embedded: EmbeddedPdfSignature, env: Environment) -> _Integrity:
    """Coverage of the byte range and the changes made after the signed revision."""
    embedded.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    coverage = embedded.coverage
    coverage_name = _COVERAGE[coverage]
    if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        detail_en = ("the signed byte range does not end at the end of its revision: the signature covers only "
                     "part of the file") if coverage is SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START else (
            "the signed byte range is not one block around the signature value (moved or forged /ByteRange: "
            "signature wrapping)")
        detail_vi = ("vùng dữ liệu được ký không kết thúc ở cuối phiên bản của nó: chữ ký chỉ bao phủ một phần tệp"
                     if coverage is SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START else
                     "vùng dữ liệu được ký không liền quanh giá trị chữ ký (/ByteRange bị dời hoặc giả mạo)")
        message = Message("modifications.coverage", detail_en, detail_vi, Severity.ERROR)
        return _Integrity(coverage_name, Modifications.DISALLOWED, detail_en,
                          (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, message), (message,))
    diff = embedded.diff_result
    if isinstance(diff, SuspiciousModification):
        found, detail = ChangeClass.OTHER, _describe(diff)
    elif isinstance(diff, DiffResult):
        found = _LEVELS[diff.modification_level]
        fields = sorted(diff.changed_form_fields)
        detail = f"fields {', '.join(fields)}" if fields else ""
        shadowed = _appearance_only_changes(embedded, fields) if found is ChangeClass.FORM_FILLING else []
        if shadowed:
            found = ChangeClass.OTHER
            detail = (f"the appearance of field(s) {', '.join(shadowed)} was replaced while the value stayed the "
                      f"same (shadow attack)")
    else:
        found, detail = ChangeClass.NONE, ""
    docmdp = embedded.docmdp_level
    decision = env.policy.check_changes(found, docmdp_level=docmdp.value if docmdp else None, detail=detail)
    if found is ChangeClass.NONE:
        return _Integrity(coverage_name, Modifications.NONE, None, None, ())
    change = f"{found.value}: {detail}" if detail else found.value
    if decision.allowed:
        message = Message(decision.rule, decision.reason_en, decision.reason_vi, Severity.INFO)
        return _Integrity(coverage_name, Modifications.ALLOWED, change, None, (message,))
    message = Message(decision.rule, decision.reason_en, decision.reason_vi, Severity.ERROR)
    return _Integrity(coverage_name, Modifications.DISALLOWED, change,
                      (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE, message), (message,))


def _fields_by_name(root) -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(refs, prefix: str) -> None:
        for ref in refs:
            field = ref.get_object()
            name = field.get("/T")
            full = f"{prefix}.{name}" if prefix and name is not None else (str(name) if name is not None else prefix)
            if "/Kids" in field:
                walk(field["/Kids"], full)
            found[full] = field

    try:
        walk(root["/AcroForm"]["/Fields"], "")
    except (KeyError, TypeError, AttributeError):
        pass
    return found


def _appearance_bytes(field) -> bytes | None:
    try:
        normal = field["/AP"]["/N"]
        normal = normal.get_object()
        if hasattr(normal, "data"):
            return normal.data
        return b"|".join(v.get_object().data for v in normal.values())  # state dictionaries (check boxes)
    except (KeyError, TypeError, AttributeError):
        return None


def _appearance_only_changes(embedded: EmbeddedPdfSignature, names: list[str]) -> list[str]:
    """Form fields (not signature fields) whose appearance changed after signing while their value did not:
    what a page shows was swapped without any form filling (the "replace" shadow attack). pyHanko's form
    rule accepts appearance updates as form filling, so this check is ours."""
    reader = embedded.reader
    try:
        before = _fields_by_name(reader.get_historical_resolver(embedded.signed_revision).root)
        after = _fields_by_name(reader.root)
    except Exception:  # noqa: BLE001 - an unreadable form is judged by the diff policy alone
        return []
    shadowed = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old is None or new is None or new.get("/FT") == "/Sig":
            continue
        if str(old.get("/V")) == str(new.get("/V")) and _appearance_bytes(old) != _appearance_bytes(new):
            shadowed.append(name)
    return shadowed


def _kind_of(identity) -> SignatureKind:
    return {HolderKind.PERSON: SignatureKind.PERSONAL, HolderKind.ORGANISATION: SignatureKind.AGENCY}.get(
        identity.holder_kind, SignatureKind.UNKNOWN)


def _decide(candidates: list[tuple[Indication, SubIndication]]) -> tuple[Indication, SubIndication | None]:
    """The first final failure wins, then the first doubt; otherwise passed."""
    for indication, sub in candidates:
        if indication is Indication.TOTAL_FAILED:
            return indication, sub
    for indication, sub in candidates:
        if indication is Indication.INDETERMINATE:
            return indication, sub
    return Indication.TOTAL_PASSED, None


async def judge_signature(embedded: EmbeddedPdfSignature, *, env: Environment, document: DocumentData,
                          tst_moment: datetime | None = None) -> SignatureReport:
    integrity = _judge_integrity(embedded, env)
    return await judge_cms_signer(
        embedded.signed_data, digest=embedded.compute_digest(), claimed=embedded.self_reported_timestamp,
        env=env, document=document, integrity=integrity, field=embedded.field_name,
        revision=embedded.signed_revision, certs=embedded._init_cert_info(),  # parsed once by pyHanko
        tst_moment=tst_moment,
    )


async def judge_cms_signer(
    signed_data: cms.SignedData, *, digest: bytes, claimed: datetime | None, env: Environment,
    document: DocumentData, integrity: "_Integrity", field: str, revision: int | None = None,
    certs: SignedDataCerts | None = None, tst_moment: datetime | None = None,
) -> SignatureReport:
    """The judgement shared by PAdES and CAdES once integrity of the container is known."""
    policy = env.policy
    signer_info: cms.SignerInfo = extract_signer_info(signed_data)
    certs = certs or extract_certs_for_validation(signed_data)
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
            document_revinfo=document.revinfo_dumps, cache=env.chain_cache)
        if tst_moment != env.now and timestamp.proves_time:
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
        messages.append(Message("time.self-declared",
                                "no trusted timestamp: the signing time is self-declared by the signer",
                                "không có dấu thời gian tin cậy: thời gian ký do người ký tự khai", Severity.WARNING))
    else:
        signing_time, source, proven = None, TimeSource.NONE, False

    # DOMAIN.md: the status of every certificate of the path at the signing time. Without a proof of
    # time, the chain is judged now (ETSI: no POE), unless the policy trusts claimed times.
    if proven:
        moment = signing_time
    elif policy.trust_claimed_time and claimed is not None:
        moment, proven = claimed, True
    else:
        moment = env.now
    context = env.new_context(moment=moment, document=document, extra_certs=certs.other_certs)
    chain: ChainResult | None = None
    evidence: tuple = ()
    if crypto is None:
        chain, evidence = await validate_chain_cached(
            cert, context=context, key_usage=SIGNER_KEY_USAGE, time_proven=proven, algorithms=policy.algorithms,
            cache=env.chain_cache, document_revinfo=document.revinfo_dumps)
        messages.extend(chain.messages)
        if chain.indication is not Indication.TOTAL_PASSED:
            indication, sub = chain.indication, chain.sub_indication
            if (sub is SubIndication.REVOKED_NO_POE and claimed is not None and chain.revoked_at is not None
                    and claimed >= chain.revoked_at):
                # The signer's own claim puts the signature after the revocation.
                indication, sub = Indication.TOTAL_FAILED, SubIndication.REVOKED
            candidates.append((indication, sub))
    indication, sub = _decide(candidates)
    if indication is Indication.TOTAL_PASSED:
        messages.insert(0, Message("signature.valid", "the signature is valid", "chữ ký số hợp lệ"))
    return SignatureReport(
        field=field, kind=_kind_of(identity), indication=indication, sub_indication=sub,
        signer=identity, certificate_sha256=fingerprint(cert.dump()), signing_time=signing_time,
        signing_time_source=source, claimed_time=claimed, timestamp=timestamp_info,
        trust_anchor=anchor_name(chain.path) if chain and chain.indication is Indication.TOTAL_PASSED else None,
        revocation=evidence,
        coverage=integrity.coverage, modifications=integrity.modifications, change=integrity.change,
        digest_algorithm=digest_algorithm, signature_algorithm=signature_algorithm, messages=tuple(messages),
        revision=revision,
    )


async def judge_document_timestamp(embedded: EmbeddedPdfSignature, *, env: Environment,
                                   document: DocumentData, moment: datetime | None = None) -> SignatureReport:
    """A PAdES document timestamp (/DocTimeStamp): the TSA's token over the byte range, its TSA judged at
    `moment` (now, or the time proven by a later document timestamp)."""
    integrity = _judge_integrity(embedded, env)
    moment = moment or env.now
    check = await check_timestamp_token(
        embedded.signed_data, expected_imprint=embedded.compute_digest,
        context=env.new_context(moment=moment, document=document), algorithms=env.policy.algorithms,
        as_document_timestamp=True, document_revinfo=document.revinfo_dumps,
        cache=env.chain_cache)
    candidates = [integrity.failure[:2]] if integrity.failure else []
    if check.failure is not None:
        candidates.append(check.failure)
    indication, sub = _decide(candidates)
    messages = list(integrity.messages) + list(check.messages)
    if indication is Indication.TOTAL_PASSED:
        messages.insert(0, Message("timestamp.valid", "the document timestamp is valid",
                                   "dấu thời gian của văn bản hợp lệ"))
    cert = check.tsa_certificate
    return SignatureReport(
        field=embedded.field_name, kind=SignatureKind.TIMESTAMP, indication=indication, sub_indication=sub,
        signer=parse_identity(cert) if cert is not None else None,
        certificate_sha256=fingerprint(cert.dump()) if cert is not None else None,
        signing_time=check.info.gen_time if check.info else None,
        signing_time_source=TimeSource.TIMESTAMP if check.info else TimeSource.NONE, claimed_time=None,
        timestamp=check.info, trust_anchor=check.trust_anchor, revocation=check.revocation,
        coverage=integrity.coverage, modifications=integrity.modifications, change=integrity.change,
        digest_algorithm=check.digest_algorithm, signature_algorithm=check.signature_algorithm,
        messages=tuple(messages), revision=embedded.signed_revision,
    )


def _hash(algorithm: str, data: bytes) -> bytes:
    import hashlib

    return hashlib.new(algorithm, data).digest()
