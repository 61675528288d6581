"""Signing sessions over HTTP: `POST /api/v1/signing-sessions` (prepare) and
`POST /api/v1/signing-sessions/{id}/signature` (complete), as in DESIGN.md."""

from __future__ import annotations

import base64
import re

from flask import Blueprint, Response, jsonify, url_for

from service import stamp_images
from service.accounts import Permission
from service.api import payload
from service.api.documents import check_agency, document_file
from service.errors import BadRequest, Conflict, NotFound
from service.guard import db, require, runtime
from service.openapi import json_body, json_response, operation
from service.signing_sessions import (
    KINDS,
    LEVELS,
    SessionRequest,
    complete_session,
    load_session,
    parse_certificate,
    prepare_session,
)
from service.translation import library_errors

blueprint = Blueprint("signing", __name__)

PREPARE_FIELDS = {
    "document_id", "document", "filename", "kind", "certificate", "chain", "level", "agency_code",
    "signature_image", "seal_image", "title", "signer_name", "series", "notation", "copy_form",
    "copying_agency", "incoming_number", "received_on",
}
PREPARE_SCHEMA = {
    "type": "object",
    "required": ["kind", "certificate"],
    "properties": {
        "document_id": {"type": "integer", "description": "a registered document (or send `document`)"},
        "document": {"type": "string", "format": "byte", "description": "the PDF, base64"},
        "filename": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "certificate": {"type": "string", "format": "byte", "description": "signer certificate, DER base64"},
        "chain": {"type": "array", "items": {"type": "string", "format": "byte"}},
        "level": {"type": "string", "enum": list(LEVELS), "description": "B-T by default; issue: [signer] level of kyso.toml, B-LT at least (B-LTA when configured)"},
        "agency_code": {"type": "string", "description": "for an uploaded document"},
        "signature_image": {"type": "string", "format": "byte",
                            "description": "approve: blue PNG; default: the holder's stored image"},
        "seal_image": {"type": "string", "format": "byte",
                       "description": "issue: red PNG; default: the agency's stored seal image"},
        "title": {"type": "string"}, "signer_name": {"type": "string"},
        "series": {"type": "string", "description": "issue: the notation after the number, e.g. QĐ-UBND"},
        "notation": {"type": "string", "description": "appendix: e.g. 15/QĐ-UBND"},
        "copy_form": {"type": "string", "enum": ["SAO Y", "SAO LỤC", "TRÍCH SAO"]},
        "copying_agency": {"type": "string"},
        "incoming_number": {"type": "integer"}, "received_on": {"type": "string", "format": "date"},
    },
}
SESSION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "digest": {"type": "string", "format": "byte"},
        "digest_algorithm": {"type": "string"},
        "signature_algorithm": {"type": "string"},
        "description": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "bridge_request": {"type": "object", "description": "the body for the bridge's POST /v1/signatures"},
    },
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse_prepare(principal) -> SessionRequest:
    data = payload.json_object()
    payload.reject_unknown(data, PREPARE_FIELDS)
    kind = payload.choice(data, "kind", KINDS)
    certificate = parse_certificate(payload.base64_bytes(data, "certificate"))
    chain_values = data.get("chain") or []
    if not isinstance(chain_values, list) or len(chain_values) > 8:
        raise BadRequest("Trường 'chain' phải là danh sách (tối đa 8) chứng thư base64",
                         "field 'chain' must be a list of at most 8 base64 certificates")
    chain = tuple(parse_certificate(payload.base64_bytes({"chain": v}, "chain"), "chain") for v in chain_values)
    components = runtime().components
    chain = chain or components.chain_for(certificate)
    issue_level = runtime().settings.issue_level  # [signer] level: B-LT, or B-LTA when configured
    level = payload.choice(data, "level", LEVELS, default=issue_level if kind == "issue" else "B-T")
    if kind == "issue" and level == "B-T":
        # Issue 6: B-LT for issued documents (they are archived; the first VGCA chain expires in 2030).
        level = issue_level
    document = None
    fields: dict = {}
    if data.get("document_id") is not None:
        if data.get("document"):
            raise BadRequest("Gửi 'document_id' hoặc 'document', không cả hai", "send 'document_id' or 'document', not both")
        document_id = data["document_id"]
        if not isinstance(document_id, int) or isinstance(document_id, bool):
            raise BadRequest("Trường 'document_id' phải là số nguyên dương", "field 'document_id' must be a positive integer")
        document_id = payload.identifier(document_id, "document_id")
        from ledger import Direction, get_document

        with library_errors():
            document = get_document(components.ledger, document_id)
        check_agency(principal, document.agency_code)
        row = document_file(document_id)
        if row is None:
            raise NotFound(f"Văn bản {document_id} chưa có tệp để ký", f"document {document_id} has no file to sign")
        if document.returned_at is not None:
            raise Conflict(f"Văn bản {document_id} đã bị trả lại", f"document {document_id} was returned to its sender")
        wanted = Direction.INCOMING if kind == "incoming" else Direction.OUTGOING
        if document.direction is not wanted:
            raise BadRequest(
                f"Loại ký {kind} không dùng cho văn bản {'đến' if document.direction is Direction.INCOMING else 'đi'}",
                f"a signature of kind '{kind}' does not apply to an {document.direction.value} document",
            )
        if kind == "issue" and document.number is not None:
            raise Conflict(f"Văn bản {document_id} đã được cấp số {document.number:02d}",
                           f"document {document_id} already has number {document.number:02d}")
        content, filename, agency = row.content, row.filename, document.agency_code
        fields["_revision"] = row.revision
    else:
        content = payload.base64_bytes(data, "document", max_length=runtime().settings.max_upload_bytes)
        payload.require_pdf(content)
        filename = payload.text(data, "filename", required=False, max_length=255, default="document.pdf")
        agency = payload.code(data, "agency_code", required=False) or principal.agency_code
        if agency is None:
            raise BadRequest("Cần 'agency_code' cho văn bản tải lên", "'agency_code' is required for an uploaded document")
        check_agency(principal, agency)
        if kind == "issue":
            raise BadRequest("Ký phát hành cần văn bản đã đăng ký ('document_id') để cấp số",
                             "an issue signature needs a registered document ('document_id') to number")
    if kind == "approve":
        if data.get("signature_image"):
            fields["signature_image"] = payload.base64_bytes(data, "signature_image", max_length=2 * 1024 * 1024)
        else:  # none sent: the stored image of the certificate's holder (service.stamp_images)
            fields["signature_image"] = stamp_images.signature_for(runtime().engine, components.ledger, certificate).png
        fields["title"] = payload.text(data, "title", required=False, max_length=200)
        fields["signer_name"] = payload.text(data, "signer_name", required=False, max_length=200)
    elif kind == "issue":
        if data.get("seal_image"):
            fields["seal_image"] = payload.base64_bytes(data, "seal_image", max_length=2 * 1024 * 1024)
        else:  # none sent: the agency's stored seal, at its stored real diameter
            stored = stamp_images.seal_for(runtime().engine, agency)
            fields["seal_image"], fields["seal_diameter_mm"] = stored.png, stored.diameter_mm
        fields["series"] = payload.text(data, "series", max_length=40)
    elif kind == "appendix":
        fields["notation"] = payload.text(data, "notation", max_length=100)
    elif kind == "copy":
        fields["copy_form"] = payload.choice(data, "copy_form", ("SAO Y", "SAO LỤC", "TRÍCH SAO"))
        fields["copying_agency"] = payload.text(data, "copying_agency", max_length=200)
    elif kind == "incoming":
        number = data.get("incoming_number")
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10**6):
            raise BadRequest("'incoming_number' phải là số nguyên dương", "'incoming_number' must be a positive integer")
        fields["incoming_number"] = number
        fields["received_on"] = payload.date(data, "received_on", required=False)
    return SessionRequest(kind=kind, certificate=certificate, chain=chain, content=content, filename=filename,
                          document=document, agency_code=agency, level=level, fields=fields)


@blueprint.post("/signing-sessions")
@operation("Prepare a signature: policy check, layout, the digest for the token bridge", tag="signing",
           permission="sign", request_body=json_body(PREPARE_SCHEMA),
           responses={"201": json_response("the session and the digest to sign", SESSION_SCHEMA),
                      "400": json_response("invalid field or not a PDF"), "404": json_response("unknown document"),
                      "409": json_response("document already numbered or returned"),
                      "422": json_response("the signing policy refuses (certificate type, order, validity), "
                                           "or no image was sent and none is stored")})
def prepare():
    principal = require(Permission.SIGN)
    request_values = _parse_prepare(principal)
    try:
        row, prepared = prepare_session(
            request_values, principal=principal, components=runtime().components, engine=runtime().engine,
            clock=runtime().clock, ttl_seconds=runtime().settings.signing_session_ttl_seconds,
        )
    except Exception as exc:
        reason = getattr(exc, "message_en", type(exc).__name__)
        runtime().audit(principal.label, "signing.prepare", "refused", target=_target(request_values),
                        detail={"kind": request_values.kind, "reason": reason})
        raise
    runtime().audit(principal.label, "signing.prepare", "ok", target=_target(request_values),
                    detail={"session": row.id, "kind": row.kind, "certificate_serial": format(request_values.certificate.serial_number, "x")})
    body = _session_json(row)
    body["number"] = _number_json(prepared.number)
    return jsonify(body), 201


def _target(request_values: SessionRequest) -> str:
    return f"document:{request_values.document.id}" if request_values.document is not None else request_values.filename


def _number_json(number) -> dict | None:
    if number is None:
        return None
    return {"number": number.number, "notation": number.notation, "issued_on": number.issued_on.isoformat()}


def _session_json(row) -> dict:
    body = {
        "id": row.id,
        "status": row.status,
        "kind": row.kind,
        "document_id": int(row.document_id) if row.document_id is not None else None,
        "digest": _b64(row.digest),
        "digest_algorithm": row.digest_algorithm,
        "signature_algorithm": row.signature_algorithm,
        "description": row.description,
        "expires_at": row.expires_at.isoformat(),
        "bridge_request": {
            "digest": _b64(row.digest),
            "digest_algorithm": row.digest_algorithm,
            "signature_algorithm": row.signature_algorithm,
            "description": row.description,
        },
    }
    if row.status == "completed":
        body["sha256"] = row.result_sha256
        body["ledger_record"] = row.ledger_record
        body["download_url"] = url_for("signing.signed_document", session_id=row.id)
    return body


@blueprint.post("/signing-sessions/<session_id>/signature")
@operation("Complete a signature with the value the token made over the digest", tag="signing",
           permission="sign",
           request_body=json_body({"type": "object", "required": ["signature"], "properties": {
               "signature": {"type": "string", "format": "byte"}, "certificate": {"type": "string"},
               "chain": {"type": "array", "items": {"type": "string"}}}}),
           responses={"200": json_response("the signed document (base64), its report and ledger record"),
                      "404": json_response("unknown session"), "409": json_response("already completed"),
                      "410": json_response("expired"),
                      "422": json_response("a signature over another digest or by another key")})
def complete(session_id: str):
    principal = require(Permission.SIGN)
    data = payload.json_object()
    payload.reject_unknown(data, {"signature", "certificate", "chain"})
    signature = payload.base64_bytes(data, "signature", max_length=4096)
    session = db()
    row = load_session(session, session_id, principal=principal)
    session.close()
    if data.get("certificate"):
        given = parse_certificate(payload.base64_bytes(data, "certificate"))
        if given.dump() != row.certificate:
            raise BadRequest("Chứng thư gửi kèm khác chứng thư lúc chuẩn bị",
                             "the certificate sent differs from the one the session was prepared for")
    try:
        completed = complete_session(row, signature, components=runtime().components, engine=runtime().engine,
                                     clock=runtime().clock)
    except Exception as exc:
        runtime().audit(principal.label, "signing.complete", "refused", target=f"session:{row.id}",
                        detail={"reason": getattr(exc, "message_en", type(exc).__name__)})
        raise
    runtime().audit(principal.label, "signing.complete", "ok", target=f"session:{row.id}",
                    detail={"ledger_record": completed.record_id, "document_id": row.document_id})
    session = db()
    fresh = load_session(session, row.id, principal=principal)
    body = _session_json(fresh)
    body["number"] = _number_json(completed.number)
    body["signature_report"] = completed.signature_report.to_json("en")
    body["indication"] = completed.report.indication.value
    body["document"] = _b64(completed.pdf)
    return jsonify(body)


@blueprint.get("/signing-sessions/<session_id>")
@operation("A signing session's state", tag="signing", permission="sign")
def get_session(session_id: str):
    principal = require(Permission.SIGN)
    return jsonify(_session_json(load_session(db(), session_id, principal=principal)))


@blueprint.get("/signing-sessions/<session_id>/document")
@operation("The signed PDF of a completed session", tag="signing", permission="sign",
           responses={"200": {"description": "PDF", "content": {"application/pdf": {}}},
                      "409": json_response("not completed")})
def signed_document(session_id: str):
    principal = require(Permission.SIGN)
    row = load_session(db(), session_id, principal=principal)
    if row.status != "completed" or row.result is None:
        raise Conflict("Phiên ký chưa hoàn tất", "the signing session is not completed", detail={"status": row.status})
    response = Response(row.result, mimetype="application/pdf")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", row.filename.rsplit(".", 1)[0]).strip("_") or "document"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-signed.pdf"'
    return response
