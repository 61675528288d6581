"""`POST /api/v1/signature-reports`: a signature made outside the service (the token bridge's plugin
endpoint, used by existing document systems) is reported with the signed PDF; the service verifies the file
itself and records its newest signature in the ledger, so the monthly rate counts documents signed from
those systems too.

- multipart: `file` (the signed PDF), `agency_code`, `purpose` (approve | issue | incoming | appendix |
  copy), optional `document_number` ("15/QĐ-UBND" for issue), `doc_type`, `report_id` (the reporter's id,
  echoed back);
- the document: the one whose known signed revision the new signature builds on (an approval reported
  earlier), else a new outgoing document; an issue sets its number and notation;
- exactly once: a report of a signature already recorded (same signed bytes, same serial) answers 200 with
  the existing record instead of a second one (a reporter retrying after a lost answer adds nothing);
- the record's indication is the service's own judgement of the signature, never the reporter's claim.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from flask import Blueprint, jsonify, request

from service.accounts import Permission
from service.api import payload
from service.api.documents import check_agency
from service.errors import BadRequest
from service.guard import require, runtime
from service.openapi import json_response, operation
from service.translation import library_errors

blueprint = Blueprint("signature_reports", __name__)

PURPOSES = ("approve", "issue", "incoming", "appendix", "copy")
_NUMBER = re.compile(r"^\s*(\d{1,9})\s*/\s*(\S.{0,99})$")


def _field(name: str, *, required: bool = True, limit: int = 100) -> str | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        if required:
            raise BadRequest(f"Thiếu trường '{name}'", f"field '{name}' is missing")
        return None
    if len(value) > limit:
        raise BadRequest(f"Trường '{name}' dài quá {limit} ký tự", f"field '{name}' is longer than {limit} characters")
    return value


def _revision_digests(pdf: bytes) -> list[tuple[str, int, str, str]]:
    """Per embedded signature, in file order: (field, serial, SHA-256 of the covered bytes, SHA-256 of the
    whole revision up to the end of its byte range: the file as it was right after that signature)."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    found = []
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        for signature in reader.embedded_signatures:
            byte_range = [int(v) for v in signature.sig_object["/ByteRange"]]
            covered = b"".join(pdf[s:s + n] for s, n in zip(byte_range[::2], byte_range[1::2], strict=True))
            end = byte_range[-2] + byte_range[-1]
            found.append((signature.field_name, signature.signer_cert.serial_number,
                          hashlib.sha256(covered).hexdigest(), hashlib.sha256(pdf[:end]).hexdigest()))
    except Exception:  # noqa: BLE001 - a broken file has no evidence; the verifier's report says why
        return []
    return found


@blueprint.post("/signature-reports")
@operation(
    "Report a signature made outside the service (the plugin endpoint); the service verifies and records it",
    tag="validations", permission="sign",
    request_body={"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "agency_code": {"type": "string"},
        "purpose": {"type": "string", "enum": list(PURPOSES)}, "document_number": {"type": "string"},
        "doc_type": {"type": "string"}, "report_id": {"type": "string"}}}}}},
    responses={"201": json_response("recorded"), "200": json_response("already recorded (the same signature)"),
               "400": json_response("invalid field or no signature"), "403": json_response("another agency")},
)
def report_signature():
    from ledger import Indication, LedgerEntry, RecordEvent, TimeSource
    from ledger import SignatureKind as LedgerKind
    from ledger.chain import append_in
    from ledger.entries import normalise_serial
    from ledger.models import Agency, Document, Record, SignedFile
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from service.database import write_transaction

    principal = require(Permission.SIGN)
    agency_code = _field("agency_code", limit=40)
    check_agency(principal, agency_code)
    purpose = _field("purpose", limit=16)
    if purpose not in PURPOSES:
        raise BadRequest(f"'purpose' phải là một trong {', '.join(PURPOSES)}",
                         f"'purpose' must be one of {', '.join(PURPOSES)}")
    number_text = _field("document_number", required=False)
    number = None
    if purpose == "issue" and number_text:
        match = _NUMBER.match(number_text)
        if not match:
            raise BadRequest("'document_number' phải có dạng số/ký hiệu, ví dụ 15/QĐ-UBND",
                             "'document_number' must be number/notation, e.g. 15/QĐ-UBND")
        number = (int(match.group(1)), match.group(2).strip())
    doc_type = _field("doc_type", required=False, limit=60) or "văn bản"
    report_id = _field("report_id", required=False, limit=64)
    filename, data = payload.uploaded_file()
    payload.require_pdf(data)
    revisions = _revision_digests(data)
    report = runtime().components.verifier.verify_pdf(data, path=filename[:255])
    signatures = [s for s in report.signatures if s.kind.value != "timestamp"]
    if not revisions or not signatures:
        raise BadRequest("Tệp không có chữ ký số", "the file carries no signature")
    newest = signatures[-1]
    field, serial, covered_digest, _ = next((r for r in revisions if r[0] == newest.field), revisions[-1])
    now = runtime().clock()
    with library_errors(), Session(runtime().engine, expire_on_commit=False) as session:
        write_transaction(session)
        existing = session.scalar(select(Record).where(Record.signed_digest == covered_digest,
                                                       Record.certificate_serial == normalise_serial(serial),
                                                       Record.event == RecordEvent.SIGNED.value))
        if existing is not None:
            session.rollback()
            return jsonify({"record_id": existing.record_id, "document_id": existing.document_id,
                            "indication": existing.indication, "duplicate": True, "report_id": report_id}), 200
        if session.get(Agency, agency_code) is None:
            raise BadRequest(f"Không có cơ quan {agency_code}", f"unknown agency {agency_code}")
        earlier = [r[3] for r in revisions if r[0] != field]
        document_id = session.scalar(select(SignedFile.document_id).where(SignedFile.digest.in_(earlier))) \
            if earlier else None
        if document_id is None:
            from ledger.documents import default_series
            from ledger import Direction

            local = now.astimezone(dt.timezone(dt.timedelta(hours=7)))
            row = Document(agency_code=agency_code, direction="outgoing", dated_at=now, year=local.year,
                           series=default_series(Direction.OUTGOING, False), number=None, notation=None,
                           doc_type=doc_type, title=filename[:1000], secret=False, electronic=True,
                           registered_at=now)
            session.add(row)
            session.flush()
            document_id = row.id
        if number is not None:
            document = session.get(Document, document_id)
            document.number, document.notation, document.dated_at = number[0], number[1], now
        source = newest.signing_time_source.value
        entry = LedgerEntry(
            event=RecordEvent.SIGNED, agency_code=agency_code,
            signature_kind=LedgerKind(newest.kind.value), certificate_serial=serial,
            signer_name=(newest.signer.common_name if newest.signer and newest.signer.common_name else "?"),
            signed_digest=covered_digest, signing_time=newest.signing_time or now,
            signing_time_source=TimeSource.TIMESTAMP if source == "timestamp" else TimeSource.CLAIMED,
            indication=Indication(newest.indication.value),
            sub_indication=newest.sub_indication.value if newest.sub_indication else None,
            signer_identifiers=tuple(str(i) for i in newest.signer.identifiers) if newest.signer else (),
            document_id=document_id, purpose=purpose,
            note="reported by the token bridge's plugin endpoint / báo cáo từ cổng plugin của cầu nối ký số",
        )
        (record,) = append_in(session, [entry], clock=runtime().clock, seal=runtime().components.ledger.head_seal)
        file_digest = hashlib.sha256(data).hexdigest()
        if session.scalar(select(SignedFile.id).where(SignedFile.digest == file_digest)) is None:
            session.add(SignedFile(document_id=document_id, digest=file_digest, size=len(data),
                                   filename=filename[:300], created_at=now))
        session.commit()
    runtime().audit(principal.label, "signature.report", "recorded", target=f"document:{document_id}",
                    detail={"purpose": purpose, "indication": newest.indication.value})
    return jsonify({"record_id": record.record_id, "document_id": document_id, "indication": newest.indication.value,
                    "duplicate": False, "report_id": report_id}), 201
