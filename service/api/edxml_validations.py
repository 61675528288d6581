"""`POST /api/v1/validations` with an edXML package (QCVN 102:2016/BTTTT): its own branch, kept apart from the
PDF and CAdES handling of service/api/validations.py.

The package is verified (its signature, then every attached PDF, then the header against the issued PDF),
registered as an incoming document of the recipient agency the roster knows (or recorded on `document_id`),
every signature recorded in the ledger, and a failing package marked for return with the reason (Decree 30,
art. 21). The answer is the DESIGN.md report: the package is one file whose signatures hold the entry of
kind `package`, with the attached PDFs as nested reports in `attachments`.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from flask import jsonify, url_for

from service.errors import BadRequest
from service.guard import runtime, writing
from service.tables import Validation
from service.translation import library_errors

XML_TYPES = ("application/xml", "text/xml", "application/edxml+xml")


def is_edxml(filename: str, data: bytes, mimetype: str | None) -> bool:
    """An .edxml file, an XML content type, or XML bytes (a PDF starts with %PDF, a CMS with 0x30)."""
    if filename.lower().endswith((".edxml", ".xml")) or (mimetype or "").lower() in XML_TYPES:
        return True
    return data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def validate_package(principal, *, lang: str, document_id: int | None, filename: str, data: bytes):
    from edxml import EdxmlSettings, verify_package
    from ledger import Direction, get_document

    from service.edxml_exchange import record_received_package

    components = runtime().components
    if document_id is not None:
        with library_errors():
            document = get_document(components.ledger, document_id)
        if document.direction is not Direction.INCOMING:
            raise BadRequest(f"Văn bản {document_id} không phải văn bản đến",
                             f"document {document_id} is not an incoming document")
    report = verify_package(data, verifier=components.verifier, settings=runtime().settings.edxml or EdxmlSettings(),
                            path=filename)
    now = runtime().clock()
    with library_errors():
        reception = record_received_package(components.ledger, report, data=data, now=now,
                                            document_id=document_id, clock=runtime().clock)
    validation = Validation(
        id=uuid.uuid4().hex, principal=principal.label, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
        indication=report.indication.value, report_en=json.dumps(report.to_json("en"), ensure_ascii=False),
        report_vi=json.dumps(report.to_json("vi"), ensure_ascii=False), document_id=reception.document_id,
        returned=reception.returned, created_at=now)
    session = writing()
    session.add(validation)
    session.commit()
    runtime().audit(principal.label, "validation.create", "ok",
                    target=f"document:{reception.document_id}" if reception.document_id else filename,
                    detail={"indication": report.indication.value, "validation": validation.id, "format": "edxml",
                            "returned": reception.returned})
    return jsonify({
        "files": [report.to_json(lang)],
        "validation_id": validation.id,
        "receipt_url": url_for("validations.receipt", validation_id=validation.id),
        "returned": reception.returned,
        "return_reason": reception.reason,
        "document_id": reception.document_id,
        "ledger_records": list(reception.records),
    })
