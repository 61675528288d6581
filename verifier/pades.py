"""PAdES validation: every signature and document timestamp of a PDF, into a `FileReport`.

Per signature (ETSI EN 319 102-1 with the Decree 68/2024 time rules of DOMAIN.md): the byte range and what
changed after the signed revision (pyHanko's difference analysis judged by our policy), the cryptographic
integrity, the signature timestamp, then the chain at the signing time. Internal: callers use
`verifier.Verifier`.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

from asn1crypto import cms

from pyhanko.pdf_utils import misc as pdf_misc
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

from policies.anchors import fingerprint
from policies.pdf_limits import Limit, PdfLimitExceeded, PdfLimits, scan_pdf, walk_page_tree
from policies.identity import HolderKind, parse_identity
from policies.signing import PriorSignature, check_signature_order
from verifier.cms import check_timestamp_token
from verifier.guard import decode_limits
from verifier.modifications import describe, judge_integrity
from verifier.report import (
    LIMIT_MESSAGE, FileReport, Indication, Message, Modifications, Severity, SignatureKind, SignatureReport, SubIndication,
    TimeSource,
)
from verifier.signature import DocumentData, Environment, decide, judge_cms_signer

log = logging.getLogger(__name__)

# What a hostile or broken file makes the PDF and ASN.1 parsers raise (pyHanko's PdfError family, asn1crypto's
# ValueError, a KeyError for a missing object or key): a fault of the document. Anything else raised while
# judging a signature (TypeError, NameError, AttributeError, ...) is a fault of ours or of a library: it is
# reported as INDETERMINATE "internal error" and logged, never as a verdict on the document.
FORMAT_ERRORS = (pdf_misc.PdfError, ValueError, KeyError, IndexError)
# PDF 2.0 (ISO 32000-2, 12.8.3.3) and ETSI EN 319 142-1 (6.3): these sub-filters are detached signatures.
_DETACHED = ("/adbe.pkcs7.detached", "/ETSI.CAdES.detached")


def read_document_data(reader: PdfFileReader) -> DocumentData:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (KeyError, ValueError, pdf_misc.PdfError):
        return DocumentData()
    context = dss.as_validation_context({"trust_roots": [], "allow_fetching": False})
    return DocumentData(tuple(dss.load_certs()), tuple(context.crls), tuple(context.ocsps))


def limit_report(path: str, exc: PdfLimitExceeded) -> FileReport:
    return FileReport.format_failure(path, Message(LIMIT_MESSAGE, exc.english, exc.vietnamese, Severity.ERROR))


async def judge_pdf(data: bytes, *, path: str, env: Environment) -> FileReport:
    """The report of one PDF; bounded by `env.pdf_limits` (issue 9): a file beyond them is a FORMAT_FAILURE
    with the message `LIMIT_MESSAGE` naming the bound, and nothing of it is judged."""
    limits = env.pdf_limits or PdfLimits()
    deadline = limits.deadline()
    try:
        return await _judge_pdf(data, path=path, env=env, limits=limits, deadline=deadline)
    except PdfLimitExceeded as exc:
        return limit_report(path, exc)


async def _judge_pdf(data: bytes, *, path: str, env: Environment, limits: PdfLimits, deadline) -> FileReport:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        return FileReport.format_failure(path, Message(
            "format.not-pdf", "the file is not a PDF document (no %PDF- header)",
            "tệp không phải văn bản PDF (thiếu phần đầu %PDF-)", Severity.ERROR))
    scan_pdf(data, limits, deadline=deadline)  # before any parser inflates or recurses into it
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False, decode_limits=decode_limits(limits))
        if reader.encrypted:
            result = reader.decrypt("")
            if getattr(result, "status", None) is not None and result.status.name == "FAILED":
                raise _Encrypted()
        walk_page_tree(reader.root, limits, deadline=deadline)
        signatures, broken = _embedded_signatures(reader)
        if len(signatures) + len(broken) > limits.max_signature_fields:
            raise PdfLimitExceeded(Limit.SIGNATURE_FIELDS, allowed=limits.max_signature_fields)
        document = read_document_data(reader)
    except PdfLimitExceeded:
        raise
    except pdf_misc.PdfDecodeLimitError as exc:
        return FileReport.format_failure(path, Message(
            LIMIT_MESSAGE, f"refused: the PDF exceeds the decoding limits ({exc})",
            f"từ chối: tệp PDF vượt giới hạn giải nén ({exc})", Severity.ERROR))
    except _Encrypted:
        return FileReport.format_failure(path, Message(
            "format.encrypted", "the PDF is encrypted with a password; it cannot be validated without it",
            "tệp PDF được mã hóa bằng mật khẩu; không thể kiểm tra khi không có mật khẩu", Severity.ERROR))
    except Exception as exc:  # noqa: BLE001 - any parser failure on hostile input is a format failure
        return FileReport.format_failure(path, Message(
            "format.unreadable", f"the PDF cannot be read: {describe(exc)}",
            f"không đọc được tệp PDF: {describe(exc)}", Severity.ERROR))
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
        if not is_document_timestamp(embedded):
            continue
        deadline.check()
        try:
            report = await judge_document_timestamp(
                embedded, env=env, document=document, moment=proven_time(embedded.signed_revision))
            if report.passed and report.signing_time is not None:
                proofs.append((embedded.signed_revision, report.signing_time))
        except FORMAT_ERRORS as exc:  # a malformed timestamp is reported, never a crash
            report = _malformed(embedded.field_name, exc)
        except Exception as exc:  # noqa: BLE001 - our fault, not the document's
            report = internal_error(embedded.field_name, exc, path=path)
        judged[index] = report
    for index, embedded in enumerate(signatures):
        if index in judged:
            continue
        deadline.check()
        try:
            judged[index] = await judge_signature(embedded, env=env, document=document,
                                                  tst_moment=proven_time(embedded.signed_revision))
        except FORMAT_ERRORS as exc:  # a malformed signature is reported, never a crash
            judged[index] = _malformed(embedded.field_name, exc)
        except Exception as exc:  # noqa: BLE001 - our fault, not the document's
            judged[index] = internal_error(embedded.field_name, exc, path=path)
    reports = [judged[i] for i in range(len(signatures))]
    reports.extend(_malformed(name, exc) for name, exc in broken)
    return FileReport.of(path, tuple(reports), _order_findings(reports))


_HOLDER = {SignatureKind.PERSONAL: HolderKind.PERSON, SignatureKind.AGENCY: HolderKind.ORGANISATION,
           SignatureKind.UNKNOWN: HolderKind.UNKNOWN}


def _order_findings(reports: list[SignatureReport]) -> tuple[Message, ...]:
    sequence = [PriorSignature(_HOLDER[r.kind], r.passed) for r in reports if r.kind in _HOLDER]
    decision = check_signature_order(sequence)
    if decision.allowed:
        return ()
    return (Message(decision.rule, decision.reason_en, decision.reason_vi, Severity.WARNING),)


def _embedded_signatures(reader: PdfFileReader):
    """The filled signature fields, in signing order; a field whose signature cannot even be parsed is
    returned apart (name, error) so that it gets its own FORMAT_FAILURE and the others are still judged."""
    good, broken = [], []
    for name, value, field in enumerate_sig_fields(reader, filled_status=True):
        if not _has_signature_value(value):
            continue  # issue 9: a field without a signature value is not a signature (nor a record)
        try:
            good.append(EmbeddedPdfSignature(reader, field, name))
        except Exception as exc:  # noqa: BLE001 - hostile input
            broken.append((name, exc))
    good.sort(key=lambda e: e.signed_revision)
    return good, broken


def _has_signature_value(value) -> bool:
    """ISO 32000-1 12.8.1: a signature dictionary carries the signature in /Contents; without one (or
    with an empty one) the field was never signed."""
    try:
        value = value.get_object()
        contents = value.get("/Contents") if hasattr(value, "get") else None
        return contents is not None and len(bytes(contents)) > 0
    except Exception:  # noqa: BLE001 - hostile input: a broken /V is judged (as malformed) by the caller
        return True


class _Encrypted(Exception):
    pass


def is_document_timestamp(embedded: EmbeddedPdfSignature) -> bool:
    """A PAdES document timestamp: /Type /DocTimeStamp, or (as some producers write it) /Type /Sig with the
    /SubFilter /ETSI.RFC3161 that only document timestamps have (ETSI EN 319 142-1, 5.4; ISO 32000-2,
    12.8.5)."""
    return embedded.sig_object_type == "/DocTimeStamp" or embedded.sig_object.get("/SubFilter") == "/ETSI.RFC3161"


def internal_error(field: str, exc: BaseException, *, path: str) -> SignatureReport:
    """An unexpected exception while judging one signature: logged with its traceback, reported as
    INDETERMINATE (ETSI EN 319 102-1 has no verdict for a validator's own failure; it is not the signer's)."""
    log.error("internal error while validating signature %r of %s", field, path, exc_info=exc)
    text = f"{type(exc).__name__}: {describe(exc)}"
    return SignatureReport(
        field=field, kind=SignatureKind.UNKNOWN, indication=Indication.INDETERMINATE, sub_indication=None,
        signer=None, certificate_sha256=None, signing_time=None, signing_time_source=TimeSource.NONE,
        claimed_time=None, timestamp=None, trust_anchor=None, revocation=(), coverage="unclear",
        modifications=Modifications.NONE, change=None, digest_algorithm=None, signature_algorithm=None,
        messages=(Message("internal-error",
                          f"internal error of the verifier, not a fault of the document: {text}; the signature "
                          f"could not be judged (reported to the operators' log)",
                          f"lỗi nội bộ của phần mềm kiểm tra, không phải lỗi của văn bản: {text}; chưa kiểm tra "
                          f"được chữ ký (đã ghi vào nhật ký vận hành)", Severity.ERROR),),
    )


def _structure_failure(embedded: EmbeddedPdfSignature) -> tuple[str, str] | None:
    """Structural rules of a PAdES signature's CMS that a valid cryptographic check would not catch."""
    signed_data: cms.SignedData = embedded.signed_data
    sub_filter = embedded.sig_object.get("/SubFilter")
    if sub_filter in _DETACHED and signed_data["encap_content_info"]["content"].native is not None:
        # ISO 32000-2, 12.8.3.3.1 and ETSI EN 319 142-1, 6.3: in a detached signature the signed document is
        # the byte range; encapsulated content would be a second, different "signed content".
        return (f"the detached signature ({sub_filter[1:]}) carries encapsulated content (eContent); a detached "
                f"PDF signature must not (ISO 32000-2, 12.8.3.3; ETSI EN 319 142-1, 6.3)",
                f"chữ ký tách rời ({sub_filter[1:]}) lại chứa nội dung đóng gói (eContent); chữ ký PDF tách rời "
                f"không được chứa (ISO 32000-2, 12.8.3.3; ETSI EN 319 142-1, 6.3)")
    for signer_info in signed_data["signer_infos"]:
        attrs = signer_info["signed_attrs"]
        if not attrs.contents:
            continue
        # X.690, 11.6 (DER): the elements of a SET OF are in ascending order of their encodings. The signature
        # is over the DER encoding, so attributes out of order are not what was meant to be signed (RFC 5652,
        # 5.4); EU DSS reports them as a hash failure.
        encodings = [attr.dump() for attr in attrs]
        width = max(len(e) for e in encodings)
        if encodings != sorted(encodings, key=lambda e: e.ljust(width, b"\0")):
            return ("the signed attributes are not DER-encoded (not in ascending order, X.690 11.6): the signed "
                    "attributes are not the ones the signature value covers (RFC 5652, 5.4)",
                    "các thuộc tính được ký không được mã hóa DER (không theo thứ tự tăng dần, X.690 11.6): đó "
                    "không phải là các thuộc tính mà giá trị chữ ký bao phủ (RFC 5652, 5.4)")
    return None


def _failed_structure(field: str, reason: tuple[str, str]) -> SignatureReport:
    return SignatureReport(
        field=field, kind=SignatureKind.UNKNOWN, indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE, signer=None, certificate_sha256=None, signing_time=None,
        signing_time_source=TimeSource.NONE, claimed_time=None, timestamp=None, trust_anchor=None,
        revocation=(), coverage="unclear", modifications=Modifications.NONE, change=None,
        digest_algorithm=None, signature_algorithm=None,
        messages=(Message("format.signature-structure", reason[0], reason[1], Severity.ERROR),),
    )


def _malformed(field: str, exc: Exception) -> SignatureReport:
    return SignatureReport(
        field=field, kind=SignatureKind.UNKNOWN, indication=Indication.TOTAL_FAILED,
        sub_indication=SubIndication.FORMAT_FAILURE, signer=None, certificate_sha256=None, signing_time=None,
        signing_time_source=TimeSource.NONE, claimed_time=None, timestamp=None, trust_anchor=None,
        revocation=(), coverage="unclear", modifications=Modifications.DISALLOWED, change=None,
        digest_algorithm=None, signature_algorithm=None,
        messages=(Message("format.signature", f"the signature is malformed: {describe(exc)}",
                          f"chữ ký bị hỏng cấu trúc: {describe(exc)}", Severity.ERROR),),
    )


async def judge_signature(embedded: EmbeddedPdfSignature, *, env: Environment, document: DocumentData,
                          tst_moment: datetime | None = None) -> SignatureReport:
    structure = _structure_failure(embedded)
    if structure is not None:
        return _failed_structure(embedded.field_name, structure)
    integrity = judge_integrity(embedded, env.policy)
    return await judge_cms_signer(
        embedded.signed_data, digest=embedded.compute_digest(), claimed=embedded.self_reported_timestamp,
        env=env, document=document, integrity=integrity, field=embedded.field_name,
        revision=embedded.signed_revision, certs=embedded._init_cert_info(),  # parsed once by pyHanko
        tst_moment=tst_moment,
    )


async def judge_document_timestamp(embedded: EmbeddedPdfSignature, *, env: Environment,
                                   document: DocumentData, moment: datetime | None = None) -> SignatureReport:
    """A PAdES document timestamp (/DocTimeStamp): the TSA's token over the byte range, its TSA judged at
    `moment` (now, or the time proven by a later document timestamp)."""
    integrity = judge_integrity(embedded, env.policy)
    moment = moment or env.now
    check = await check_timestamp_token(
        embedded.signed_data, expected_imprint=embedded.compute_digest,
        context=env.new_context(moment=moment, document=document), algorithms=env.policy.algorithms,
        as_document_timestamp=True, document_revinfo=document.revinfo_dumps,
        cache=env.chain_cache, url_of=env.url_of)
    candidates = [integrity.failure[:2]] if integrity.failure else []
    if check.failure is not None:
        candidates.append(check.failure)
    indication, sub = decide(candidates)
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


