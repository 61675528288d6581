"""`POST /api/v1/validations`: a PDF (body or multipart `file`), a .p7s with its `content`, or an edXML
package (its own branch: service/api/edxml_validations.py), judged by the verifier into the DESIGN.md report.
With `document_id` (a registered incoming document) every signature is recorded in the ledger and a failing document is marked for return to its sender with the reason
(Decree 30, art. 21). A signed PDF receipt of the verification, in Vietnamese, is at `.../receipt`.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from flask import Blueprint, Response, jsonify, request, url_for

from service.accounts import Permission
from service.api import payload
from service.api.documents import check_agency
from service.errors import BadRequest, DocumentTooComplex, Forbidden, NotFound
from service.evidence import cades_signer_serial, pdf_signature_evidence
from service.guard import db, require, runtime, writing
from service.openapi import json_response, operation
from service.tables import Validation
from service.translation import library_errors

blueprint = Blueprint("validations", __name__)

REPORT_SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {"type": "array", "items": {"type": "object", "required": ["path", "indication", "signatures"]}},
        "validation_id": {"type": "string"},
        "receipt_url": {"type": "string"},
        "returned": {"type": "boolean"},
        "ledger_records": {"type": "array", "items": {"type": "string"}},
    },
}


def _language() -> str:
    lang = request.args.get("lang", "en")
    if lang not in ("vi", "en"):
        raise BadRequest("Tham số 'lang' phải là vi hoặc en", "query parameter 'lang' must be vi or en")
    return lang


def _document_id() -> int | None:
    value = request.args.get("document_id") or request.form.get("document_id")
    if value in (None, ""):
        return None
    return payload.identifier(value, "document_id")


def _is_cades(filename: str) -> bool:
    return filename.lower().endswith((".p7s", ".p7m")) or request.mimetype == "application/pkcs7-signature"


@blueprint.post("/validations")
@operation(
    "Validate a signed PDF or a detached .p7s (with its content) into the ETSI report",
    tag="validations",
    permission="validate",
    request_body={
        "required": True,
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "PDF or .p7s"},
                        "content": {"type": "string", "format": "binary", "description": "what a .p7s signs"},
                        "document_id": {"type": "integer", "description": "a registered incoming document"},
                    },
                }
            },
        },
    },
    parameters=[
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["vi", "en"]}},
        {"name": "document_id", "in": "query", "schema": {"type": "integer"}},
    ],
    responses={
        "200": json_response("the report (DESIGN.md `kyso verify` JSON)", REPORT_SCHEMA),
        "400": json_response("no file, or a .p7s without its content"),
        "404": json_response("unknown document"),
        "403": json_response("linking to a document of another agency, or without the 'documents' permission"),
        "413": json_response("upload too large"),
        "422": json_response("a PDF beyond the service's PDF limits (decoded size, objects, signature fields, "
                             "page tree, time) or a report beyond max_report_bytes"),
    },
)
def validate():
    principal = require(Permission.VALIDATE)
    lang = _language()
    document_id = _document_id()
    filename, data = payload.uploaded_file()
    filename = (filename or "document")[:255]
    from service.api.edxml_validations import is_edxml, validate_package

    if is_edxml(filename, data, request.mimetype):  # QCVN 102:2016 packages have their own branch
        return validate_package(principal, lang=lang, document_id=document_id, filename=filename, data=data)
    components = runtime().components
    content = None
    if _is_cades(filename):
        storage = request.files.get("content")
        if storage is None:
            raise BadRequest(
                "Chữ ký .p7s cần tệp được ký trong trường multipart 'content'",
                "a .p7s signature needs the signed file in multipart field 'content'",
            )
        content = storage.read()
    ledger = components.ledger
    document = None
    if document_id is not None:
        from ledger import Direction, get_document

        with library_errors():
            document = get_document(ledger, document_id)
        if document.direction is not Direction.INCOMING:
            raise BadRequest(
                f"Văn bản {document_id} không phải văn bản đến", f"document {document_id} is not an incoming document"
            )
        _require_document_rights(principal, document)
    if content is None:
        report = components.verifier.verify_pdf(data, path=filename)
    else:
        report = components.verifier.verify_cades(data, content, path=filename)
    refusal = report.limit_refusal
    if refusal is not None:  # issue 9: a Flate bomb, 20,000 fields, a page tree 5,000 deep: nothing is kept
        runtime().audit(principal.label, "validation.create", "refused", target=f"document:{document_id}"
                        if document_id is not None else filename, detail={"reason": refusal.en})
        raise DocumentTooComplex(refusal.vi, refusal.en, detail={"reason": "limit_exceeded"})
    report_en = json.dumps(report.to_json("en"), ensure_ascii=False)
    report_vi = json.dumps(report.to_json("vi"), ensure_ascii=False)
    _check_report_size(report_en, report_vi)
    now = runtime().clock()
    validation = Validation(
        id=uuid.uuid4().hex,
        principal=principal.label,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        indication=report.indication.value,
        report_en=report_en,
        report_vi=report_vi,
        document_id=document_id,
        returned=False,
        created_at=now,
    )
    records: list[str] = []
    if document is not None:
        records, returned = _record_incoming(report, data, content, document, validation, now=now)
        validation.returned = returned
    else:
        session = writing()
        session.add(validation)
        session.commit()
    runtime().audit(
        principal.label,
        "validation.create",
        "ok",
        target=f"document:{document_id}" if document_id is not None else filename,
        detail={"indication": report.indication.value, "validation": validation.id, "returned": validation.returned},
    )
    body = {
        "files": [report.to_json(lang)],
        "validation_id": validation.id,
        "receipt_url": url_for("validations.receipt", validation_id=validation.id),
        "returned": validation.returned,
        "ledger_records": records,
    }
    return jsonify(body)


def _check_report_size(*reports: str) -> None:
    """Issue 9, item 3: a stored report is bounded (a 20,000-signature file once stored 24 MB)."""
    limit = runtime().settings.max_report_bytes
    size = max(len(report.encode("utf-8")) for report in reports)
    if size > limit:
        raise DocumentTooComplex(
            f"Từ chối: báo cáo kiểm tra dài {size} byte, vượt giới hạn {limit} byte",
            f"refused: the validation report would be {size} bytes, over the limit of {limit} bytes",
            detail={"reason": "report_too_large", "limit": limit},
        )


def _require_document_rights(principal, document) -> None:
    """Linking a validation to a document writes in that document's agency's name (ledger records, and a
    return to its sender that blocks signing it): it needs the `documents` permission on that agency, not
    just `validate` (issue 9, item 1)."""
    if not principal.may(Permission.DOCUMENTS):
        runtime().audit(principal.label, "denied:documents", "forbidden", target=f"document:{document.id}")
        raise Forbidden(
            "Cần quyền 'documents' để gắn kết quả kiểm tra vào văn bản",
            "permission 'documents' is required to link a validation to a document",
        )
    check_agency(principal, document.agency_code)


def _return_reason(report) -> str:
    reasons = [m.text("vi") for m in report.messages]
    for signature in report.signatures:
        if not signature.passed:
            sub = signature.sub_indication.value if signature.sub_indication else "-"
            reasons.append(f"{signature.field}: {signature.indication.value}/{sub}")
            reasons.extend(m.text("vi") for m in signature.messages[:2])
    if not reasons:
        reasons.append(report.indication.value)
    return "Kiểm tra chữ ký không đạt / signature check failed: " + "; ".join(reasons)[:900]


def _record_incoming(report, data: bytes, content: bytes | None, document, validation: Validation, *, now):
    """Record every signature of an incoming document in the ledger, together with the validation row,
    in one transaction; mark a failing document for return (Decree 30, art. 21)."""
    from ledger import Indication as LedgerIndication
    from ledger import LedgerEntry, RecordEvent, TimeSource
    from ledger import SignatureKind as LedgerKind
    from ledger.chain import append_in
    from ledger.models import Document, SignedFile
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from service.database import write_transaction

    evidence = pdf_signature_evidence(data) if content is None else {}
    entries = []
    for signature in report.signatures:
        if signature.kind.value == "timestamp":
            continue  # document timestamps are not anyone's signature
        found = evidence.get(signature.field)
        serial = found.certificate_serial if found else cades_signer_serial(data) if content is not None else None
        digest = found.revision_sha256 if found else hashlib.sha256(content or data).hexdigest()
        source = signature.signing_time_source.value
        entries.append(
            LedgerEntry(
                event=RecordEvent.VERIFIED,
                agency_code=document.agency_code,
                signature_kind=LedgerKind(signature.kind.value),
                certificate_serial=serial if serial is not None else 0,
                signer_name=(signature.signer.common_name if signature.signer and signature.signer.common_name else "?"),
                signed_digest=digest,
                signing_time=signature.signing_time or now,
                signing_time_source=TimeSource.TIMESTAMP if source == "timestamp" else TimeSource.CLAIMED,
                indication=LedgerIndication(signature.indication.value),
                sub_indication=signature.sub_indication.value if signature.sub_indication else None,
                signer_identifiers=tuple(str(i) for i in signature.signer.identifiers) if signature.signer else (),
                document_id=document.id,
                purpose="incoming",
                note=None if signature.signing_time else "no signing time in the signature / chữ ký không có thời gian ký",
            )
        )
    returned = not report.passed
    with library_errors(), Session(runtime().engine, expire_on_commit=False) as session:
        write_transaction(session)
        records = append_in(session, entries, clock=runtime().clock, seal=runtime().components.ledger.head_seal)
        if returned:
            row = session.get(Document, document.id)
            row.returned_at, row.return_reason = now, _return_reason(report)
        # The received file is linked to its document (once; a file already known elsewhere stays there).
        signed_files = []
        if session.scalar(select(SignedFile.id).where(SignedFile.digest == validation.sha256)) is None:
            signed_file = SignedFile(document_id=document.id, digest=validation.sha256, size=len(data),
                                     filename=validation.filename, created_at=now)
            session.add(signed_file)
            session.flush()
            signed_files.append(signed_file.id)
        from ledger.covered import cover_in

        # A returned document and the received file enter the chain with the records (ledger.covered).
        cover_in(session, documents=[document.id] if returned else [], signed_files=signed_files,
                 seal=runtime().components.ledger.head_seal, clock=runtime().clock)
        session.add(validation)
        session.commit()
    if returned:
        runtime().audit("service", "document.return", "marked", target=f"document:{document.id}",
                        detail={"indication": report.indication.value})
    return [record.record_id for record in records], returned


@blueprint.get("/validations/<validation_id>")
@operation("A stored validation report", tag="validations", permission="validate",
           parameters=[{"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["vi", "en"]}}])
def get_validation(validation_id: str):
    principal = require(Permission.VALIDATE)
    validation = _find(validation_id, principal)
    report = json.loads(validation.report_vi if _language() == "vi" else validation.report_en)
    return jsonify({
        "files": [report],
        "validation_id": validation.id,
        "document_id": validation.document_id,
        "returned": validation.returned,
        "created_at": validation.created_at.isoformat(),
        "receipt_url": url_for("validations.receipt", validation_id=validation.id),
    })


def _find(validation_id: str, principal) -> Validation:
    """A validation the caller may read (issue 9, item 12): its own, one linked to a document of an agency
    the caller keeps documents for (`documents` permission, same rule as `check_agency`), or any for an
    administrator. Others are reported as unknown: their
    existence is none of the caller's business."""
    validation = db().get(Validation, validation_id[:32])
    if validation is None or not _may_read(principal, validation):
        raise NotFound(f"Không có kết quả kiểm tra {validation_id[:32]}", f"no validation {validation_id[:32]}")
    return validation


def _may_read(principal, validation: Validation) -> bool:
    from service.accounts import Role

    if validation.principal == principal.label or Role.ADMINISTRATOR in principal.roles:
        return True
    if validation.document_id is None or not principal.may(Permission.DOCUMENTS):
        return False
    from ledger import get_document
    from ledger.errors import LedgerError

    try:
        document = get_document(runtime().components.ledger, validation.document_id)
    except LedgerError:
        return False
    # As `check_agency`: a principal bound to no agency keeps documents for all of them.
    return principal.agency_code is None or document.agency_code == principal.agency_code


@blueprint.get("/validations/<validation_id>/receipt")
@operation(
    "The signed PDF receipt of a validation, in Vietnamese (biên nhận kết quả kiểm tra)",
    tag="validations",
    permission="validate",
    responses={"200": {"description": "PDF", "content": {"application/pdf": {}}}, "404": json_response("unknown")},
)
def receipt(validation_id: str):
    principal = require(Permission.VALIDATE)
    validation = _find(validation_id, principal)
    if validation.receipt is None:
        from service.receipt import build_receipt

        pdf = build_receipt(validation, components=runtime().components, now=runtime().clock())
        session = writing()
        validation.receipt = pdf
        session.commit()
    response = Response(validation.receipt, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="bien-nhan-{validation.id}.pdf"'
    return response
