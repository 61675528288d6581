"""The national document axis seen from the ledger: outgoing packages from a registered issued document,
incoming packages registered and recorded (QCVN 102:2016/BTTTT; Decree 30, art. 21 for incoming documents).

Used by the service's API and by `kyso edxml`; the edxml library knows nothing of the ledger, the ledger
nothing of edXML: this module composes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from edxml import (Attachment, InvalidPackageData, Organisation, Package, PackageHeader, PackageReport, SignerInfo,
                   TraceEntry)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _organisation(agency) -> Organisation:
    return Organisation(agency.code, agency.name, legacy_code=agency.legacy_code)


def outgoing_package(store, *, document_id: int, pdf: bytes, recipients: list[str], verifier,
                     filename: str | None = None, competence: str = "", require_linked: bool = True,
                     at: datetime | None = None) -> Package:
    """The package for an issued outgoing document: codes, number, date, subject from its registration,
    recipients from the roster, the signer from the PDF's valid personal signature. The PDF must verify
    TOTAL_PASSED and be the file linked to that document in the ledger (`require_linked`; the service
    passes False for the file it stores for that document itself)."""
    from ledger import Direction, find_document_by_digest, get_agency, get_document

    document = get_document(store, document_id)
    if document.direction is not Direction.OUTGOING or document.number is None:
        raise InvalidPackageData(f"document {document_id} is not an issued outgoing document (no number yet)",
                                 f"văn bản {document_id} không phải văn bản đi đã ban hành (chưa có số)")
    if not recipients:
        raise InvalidPackageData("give at least one recipient agency code", "cần ít nhất một mã cơ quan nhận")
    linked = find_document_by_digest(store, hashlib.sha256(pdf).hexdigest()) if require_linked else document
    if linked is None or linked.id != document_id:
        raise InvalidPackageData(f"this PDF is not the signed file of document {document_id}",
                                 f"tệp PDF này không phải tệp đã ký của văn bản {document_id}")
    report = verifier.verify_pdf(pdf, path=filename or f"document-{document_id}.pdf")
    if not report.passed:
        raise InvalidPackageData(f"the PDF does not verify ({report.indication.value}): it cannot be sent",
                                 f"tệp PDF không hợp lệ ({report.indication.value}): không gửi được")
    personal = next((s for s in report.signatures if s.kind.value == "personal"), None)
    signer = SignerInfo(personal.signer.common_name or "", personal.signer.title or "", competence) \
        if personal is not None and personal.signer is not None else SignerInfo("", "", competence)
    header = PackageHeader(
        sender=_organisation(get_agency(store, document.agency_code)),
        recipients=tuple(_organisation(get_agency(store, code)) for code in recipients),
        number=document.number, notation=document.notation or document.series,
        promulgated_on=document.dated_at.astimezone(VIETNAM).date(), place="Hà Nội",
        document_type=document.doc_type, subject=document.title or document.doc_type, signer=signer)
    name = filename or f"{document.number:02d}-{(document.notation or document.series).replace('/', '-')}.pdf"
    # TraceHeaderList: the sender is the first system the package passes (QCVN 102:2016).
    trace = (TraceEntry(header.sender.code, (at or datetime.now(timezone.utc)).astimezone(VIETNAM)),)
    return Package(header, (Attachment("cid:1", name, "application/pdf", pdf),), trace)


@dataclass(frozen=True)
class Reception:
    """What recording a received package did."""

    document_id: int | None
    records: tuple[str, ...]
    returned: bool
    reason: str | None


def return_reason(report: PackageReport) -> str:
    return ("Kiểm tra gói tin edXML không đạt: " + "; ".join(report.reasons("vi")))[:900]


def record_received_package(store, report: PackageReport, *, data: bytes, now: datetime, document_id: int | None,
                            clock) -> Reception:
    """Register the package as an incoming document of the recipient agency the roster knows (or use
    `document_id`), record its package signature (with the package's verdict) and every attached PDF's
    signatures, and mark it for return when it did not pass (Decree 30, art. 21)."""
    from ledger import (Direction, DocumentDraft, Indication, LedgerEntry, RecordEvent, SignatureKind, TimeSource,
                        find_document_by_external_id, get_agency, get_document, link_signed_file, mark_returned,
                        register_document)
    from ledger.chain import append_many
    from ledger.errors import Conflict, UnknownAgency

    from service.evidence import pdf_signature_evidence

    header = report.header or report.unverified_header  # a refused package is registered as returned
    if document_id is None:
        if header is None:
            return Reception(None, (), False, None)  # nothing readable to register (the report says why)
        agency = None
        for recipient in header.recipients:
            for code in (recipient.code, recipient.legacy_code):
                try:
                    agency = agency or (get_agency(store, code) if code else None)
                except UnknownAgency:
                    continue
        if agency is None:
            return Reception(None, (), False, None)
        # Only a verified header names the document: a package received again (resent after a refusal)
        # joins its first registration; an unverified one is registered on its own, so that a forgery
        # claiming a genuine DocumentId can never mark the genuine document as returned.
        verified = report.package is not None
        document = find_document_by_external_id(store, agency.code, header.document_id[:100]) if verified else None
        if document is None:
            document = register_document(store, DocumentDraft(
                agency_code=agency.code, direction=Direction.INCOMING, dated_at=now,
                doc_type=header.document_type or "Văn bản", title=header.subject[:500],
                notation=header.number_notation[:100], counterpart_code=header.sender.code[:40],
                external_id=header.document_id[:100] if verified else None), clock=clock)
    else:
        document = get_document(store, document_id)
    digest = hashlib.sha256(data).hexdigest()
    entries = []
    if report.signature is not None:
        signature = report.signature
        entries.append(LedgerEntry(
            event=RecordEvent.VERIFIED, agency_code=document.agency_code, signature_kind=SignatureKind.PACKAGE,
            certificate_serial=str(report.certificate_serial or 0), signer_name=signature.signer.common_name if signature.signer and
            signature.signer.common_name else "?", signed_digest=digest, signing_time=now,
            signing_time_source=TimeSource.CLAIMED, indication=Indication(report.indication.value),
            sub_indication=report.sub_indication.value if report.sub_indication else None,
            signer_identifiers=tuple(str(i) for i in signature.signer.identifiers) if signature.signer else (),
            document_id=document.id, purpose="incoming",
            note="edXML package: the package's verdict, header and attachments included / kết luận cả gói tin"))
    files = report.package.attachments if report.package is not None else ()
    for attachment, carried in zip(report.attachments, files):
        evidence = pdf_signature_evidence(carried.data)
        for signature in attachment.signatures:
            if signature.kind.value == "timestamp":
                continue
            found = evidence.get(signature.field)
            entries.append(LedgerEntry(
                event=RecordEvent.VERIFIED, agency_code=document.agency_code,
                signature_kind=SignatureKind(signature.kind.value),
                certificate_serial=str(found.certificate_serial if found else 0),
                signer_name=signature.signer.common_name if signature.signer and signature.signer.common_name else "?",
                signed_digest=found.revision_sha256 if found else hashlib.sha256(carried.data).hexdigest(),
                signing_time=signature.signing_time or now,
                signing_time_source=TimeSource.TIMESTAMP if signature.signing_time_source.value == "timestamp"
                else TimeSource.CLAIMED,
                indication=Indication(signature.indication.value),
                sub_indication=signature.sub_indication.value if signature.sub_indication else None,
                signer_identifiers=tuple(str(i) for i in signature.signer.identifiers) if signature.signer else (),
                document_id=document.id, purpose="incoming", note=f"edXML attachment {attachment.path}"[:200]))
    records = append_many(store, entries, clock=clock) if entries else []
    try:
        link_signed_file(store, document.id, digest=digest, size=len(data), filename="package.edxml", clock=clock)
    except Conflict:
        pass  # the same bytes were received before, for another registration: that link stays

    returned, reason = not report.passed, None
    if returned:
        reason = return_reason(report)
        mark_returned(store, document.id, reason=reason, returned_at=now)
    return Reception(document.id, tuple(r.record_id for r in records), returned, reason)
