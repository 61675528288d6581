"""Documents registered by the document management system (`POST /api/v1/documents`), their current file
(the latest signed revision), and returning an incoming document to its sender (Decree 30, art. 21).

The ledger keeps the register (agency, number/notation, date, type, secret, sent electronically); the service
keeps the bytes of each document's current revision, so that signing sessions can refer to a document by id
and the document never leaves the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Integer, cast, select

from service.accounts import Permission, Principal
from service.api import payload
from service.errors import BadRequest, Forbidden, NotFound
from service.guard import db, require, require_any, runtime, writing
from service.openapi import json_body, json_response, operation
from service.tables import DocumentFile
from service.translation import library_errors

blueprint = Blueprint("documents", __name__)

DOCUMENT_FIELDS = {
    "agency_code", "direction", "doc_type", "title", "dated_at", "secret", "electronic", "number", "notation",
    "series", "counterpart_code", "external_id", "file", "filename",
}
DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["agency_code", "direction", "doc_type"],
    "properties": {
        "agency_code": {"type": "string", "description": "the registering agency's code, e.g. 000.00.01.H26"},
        "direction": {"type": "string", "enum": ["outgoing", "incoming"]},
        "doc_type": {"type": "string", "description": "Quyết định, Công văn, ..."},
        "title": {"type": "string", "description": "trích yếu"},
        "dated_at": {"type": "string", "format": "date-time"},
        "secret": {"type": "boolean", "default": False},
        "electronic": {"type": "boolean", "default": True},
        "number": {"type": "integer"},
        "notation": {"type": "string", "description": "ký hiệu, e.g. QĐ-UBND"},
        "series": {"type": "string"},
        "counterpart_code": {"type": "string", "description": "sender of an incoming document"},
        "external_id": {"type": "string"},
        "file": {"type": "string", "format": "byte", "description": "the PDF, base64"},
        "filename": {"type": "string"},
    },
}


def check_agency(principal: Principal, agency_code: str) -> None:
    """A person or system bound to an agency acts for that agency only."""
    if principal.agency_code is not None and principal.agency_code != agency_code:
        raise Forbidden(
            f"Bạn chỉ được thao tác cho cơ quan {principal.agency_code}",
            f"you may act for agency {principal.agency_code} only",
        )


def _datetime(data: dict, name: str, *, default: dt.datetime) -> dt.datetime:
    value = data.get(name)
    if value in (None, ""):
        return default
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(
            f"Trường '{name}' phải là thời điểm ISO 8601 có múi giờ", f"field '{name}' must be an ISO 8601 time with offset"
        ) from exc
    if moment.tzinfo is None:
        raise BadRequest(f"Trường '{name}' thiếu múi giờ (+07:00)", f"field '{name}' lacks its UTC offset (+07:00)")
    payload.check_year(moment.year, name)
    return moment


def _document_json(info, file_row: DocumentFile | None) -> dict:
    body = info.to_json()
    body["file"] = None if file_row is None else {
        "filename": file_row.filename,
        "sha256": file_row.sha256,
        "size": len(file_row.content),
        "revision": file_row.revision,
    }
    return body


@blueprint.post("/documents")
@operation("Register an outgoing or incoming document (optionally with its PDF)", tag="documents",
           permission="documents", request_body=json_body(DOCUMENT_SCHEMA),
           responses={"201": json_response("the registered document"), "400": json_response("invalid field"),
                      "409": json_response("number or external id already registered")})
def register():
    from ledger import DocumentDraft, register_document

    principal = require(Permission.DOCUMENTS)
    data = payload.json_object()
    payload.reject_unknown(data, DOCUMENT_FIELDS)
    agency_code = payload.code(data, "agency_code")
    check_agency(principal, agency_code)
    number = data.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10**9):
        raise BadRequest("Trường 'number' phải là số nguyên dương", "field 'number' must be a positive integer")
    content = None
    if data.get("file"):
        content = payload.base64_bytes(data, "file", max_length=runtime().settings.max_upload_bytes)
        payload.require_pdf(content)
    filename = payload.text(data, "filename", required=False, max_length=255, default="document.pdf")
    draft_values = dict(
        agency_code=agency_code,
        direction=payload.choice(data, "direction", ("outgoing", "incoming")),
        dated_at=_datetime(data, "dated_at", default=runtime().clock()),
        doc_type=payload.text(data, "doc_type", max_length=60),
        title=payload.text(data, "title", required=False, max_length=1000),
        secret=payload.boolean(data, "secret", default=False),
        electronic=payload.boolean(data, "electronic", default=True),
        number=number,
        notation=payload.text(data, "notation", required=False, max_length=100),
        counterpart_code=payload.code(data, "counterpart_code", required=False),
        external_id=payload.text(data, "external_id", required=False, max_length=100),
    )
    if data.get("series"):
        draft_values["series"] = payload.code(data, "series")
    with library_errors():
        info = register_document(runtime().components.ledger, DocumentDraft(**draft_values), clock=runtime().clock)
    file_row = None
    if content is not None:
        session = writing()
        file_row = DocumentFile(
            document_id=str(info.id), filename=filename, content=content,
            sha256=hashlib.sha256(content).hexdigest(), revision=0, updated_at=runtime().clock(),
        )
        session.add(file_row)
        session.commit()
    runtime().audit(principal.label, "document.register", "ok", target=f"document:{info.id}",
                    detail={"agency": agency_code, "direction": info.direction.value, "has_file": content is not None})
    return jsonify(_document_json(info, file_row)), 201


def _get(document_id: int):
    from ledger import get_document

    with library_errors():
        return get_document(runtime().components.ledger, document_id)


def document_file(document_id: int) -> DocumentFile | None:
    return db().get(DocumentFile, str(document_id))


@blueprint.get("/documents")
@operation("Registered documents (newest first)", tag="documents", permission="documents",
           parameters=[{"name": "direction", "in": "query", "schema": {"type": "string"}},
                       {"name": "agency_code", "in": "query", "schema": {"type": "string"}},
                       {"name": "with_file", "in": "query", "schema": {"type": "boolean"}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}}])
def list_documents():
    from ledger import DocumentInfo
    from ledger.models import Document

    principal = require_any(Permission.DOCUMENTS, Permission.SIGN)
    query = select(Document).order_by(Document.id.desc())
    direction = request.args.get("direction")
    if direction:
        query = query.where(Document.direction == payload.choice({"direction": direction}, "direction", ("outgoing", "incoming")))
    if request.args.get("with_file") in ("1", "true"):
        query = query.where(Document.id.in_(select(cast(DocumentFile.document_id, Integer))))
    agency = request.args.get("agency_code") or principal.agency_code
    if agency:
        check_agency(principal, agency)
        query = query.where(Document.agency_code == agency)
    try:
        limit = max(1, min(int(request.args.get("limit", 100)), 500))
    except ValueError as exc:
        raise BadRequest("Tham số 'limit' phải là số nguyên", "query parameter 'limit' must be an integer") from exc
    session = db()
    rows = list(session.scalars(query.limit(limit)))
    files = {
        row.document_id: row
        for row in session.scalars(select(DocumentFile).where(DocumentFile.document_id.in_([str(r.id) for r in rows])))
    } if rows else {}
    return jsonify({"documents": [_document_json(DocumentInfo.from_row(row), files.get(str(row.id))) for row in rows]})


@blueprint.get("/documents/<int:document_id>")
@operation("One registered document", tag="documents", permission="documents")
def get_document(document_id: int):
    principal = require_any(Permission.DOCUMENTS, Permission.SIGN)
    info = _get(document_id)
    check_agency(principal, info.agency_code)
    return jsonify(_document_json(info, document_file(document_id)))


@blueprint.get("/documents/<int:document_id>/file")
@operation("The current PDF of a registered document (its latest signed revision)", tag="documents",
           permission="documents", responses={"200": {"description": "PDF", "content": {"application/pdf": {}}},
                                              "404": json_response("no such document or no file")})
def get_file(document_id: int):
    principal = require_any(Permission.DOCUMENTS, Permission.SIGN)
    info = _get(document_id)
    check_agency(principal, info.agency_code)
    row = document_file(document_id)
    if row is None:
        raise NotFound(f"Văn bản {document_id} chưa có tệp", f"document {document_id} has no file")
    response = Response(row.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="document-{document_id}.pdf"'
    response.headers["ETag"] = row.sha256
    return response


@blueprint.post("/documents/<int:document_id>/return")
@operation("Return an incoming document to its sender, with the reason (Decree 30, art. 21)", tag="documents",
           permission="documents", request_body=json_body({"type": "object", "required": ["reason"],
                                                           "properties": {"reason": {"type": "string"}}}))
def return_document(document_id: int):
    from ledger import mark_returned

    principal = require(Permission.DOCUMENTS)
    data = payload.json_object()
    payload.reject_unknown(data, {"reason"})
    reason = payload.text(data, "reason", max_length=1000)
    info = _get(document_id)
    check_agency(principal, info.agency_code)
    with library_errors():
        info = mark_returned(runtime().components.ledger, document_id, reason=reason, returned_at=runtime().clock())
    runtime().audit(principal.label, "document.return", "ok", target=f"document:{document_id}")
    return jsonify(_document_json(info, document_file(document_id)))
