"""The national document axis over HTTP (QCVN 102:2016/BTTTT), in the hash-only flow of DESIGN.md:

- `POST /api/v1/edxml/packages` {document_id, recipients, certificate, chain?, competence?}: the package of an
  issued document, from its registration and its stored signed PDF; answers the digest for the bridge.
- `POST /api/v1/edxml/status` {package (base64) | validation_id, agency_code, certificate, chain?, status?,
  staff?}: verifies the received package and prepares the status message answering it (02 refused, with the
  verifier's reasons in Vietnamese, when it fails).
- `POST /api/v1/edxml/sessions/{id}/signature` {signature}: the seal key's signature of that digest (from the
  token bridge); the signed XML comes back (base64 in `xml`), the signature checked first.
The seal key never leaves its token: the service only ever holds the digest and the signature value.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from flask import Blueprint, jsonify

from service.accounts import Permission
from service.api import payload
from service.api.documents import check_agency, document_file
from service.errors import BadRequest, Conflict, NotFound
from service.guard import require, runtime, writing
from service.openapi import json_body, json_response, operation
from service.signing_sessions import load_session, parse_certificate
from service.tables import SigningSession
from service.translation import library_errors

blueprint = Blueprint("edxml", __name__)
SESSION_MINUTES = 10
_SESSION = {"type": "object", "properties": {
    "id": {"type": "string"}, "digest": {"type": "string", "format": "byte"}, "digest_algorithm": {"type": "string"},
    "signature_algorithm": {"type": "string"}, "description": {"type": "string"},
    "expires_at": {"type": "string", "format": "date-time"}, "bridge_request": {"type": "object"}}}


def _ascii_name(name: str) -> str:
    """A file name that fits an HTTP header (latin-1): "07-QĐ-UBND.edxml" -> "07-QD-UBND.edxml"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if c.isascii() and (c.isalnum() or c in ".-_")) or "package.edxml"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _edxml_errors():
    from contextlib import contextmanager

    from edxml import EdxmlError

    @contextmanager
    def translating():
        try:
            yield
        except EdxmlError as exc:
            raise BadRequest(exc.vi, exc.en) from exc
    return translating()


def _chain(data: dict):
    chain = data.get("chain") or []
    if not isinstance(chain, list) or len(chain) > 8:
        raise BadRequest("'chain' phải là danh sách chứng thư (tối đa 8)", "'chain' must be a list of at most 8 certificates")
    return tuple(parse_certificate(payload.base64_bytes({"c": c}, "c"), "chain") for c in chain)


def _store_session(*, principal, kind: str, document_id, certificate, prepared, description: str, fields: dict):
    now = runtime().clock()
    row = SigningSession(
        id=uuid.uuid4().hex, principal=principal.label, kind=kind,
        document_id=str(document_id) if document_id is not None else None, document_revision=None,
        filename=fields.get("filename", "package.edxml"), certificate=certificate.dump(), digest=prepared.digest,
        digest_algorithm=prepared.digest_algorithm.value, signature_algorithm=prepared.scheme.value,
        description=description, state=prepared.xml,
        fields=json.dumps({**fields, "key_bits": prepared.key_bits}, ensure_ascii=False), status="prepared",
        created_at=now, expires_at=now + dt.timedelta(minutes=SESSION_MINUTES))
    session = writing()
    session.add(row)
    session.commit()
    return jsonify({
        "id": row.id, "digest": _b64(row.digest), "digest_algorithm": row.digest_algorithm,
        "signature_algorithm": row.signature_algorithm, "description": description,
        "expires_at": row.expires_at.isoformat(),
        "bridge_request": {"digest": _b64(row.digest), "digest_algorithm": row.digest_algorithm,
                           "signature_algorithm": row.signature_algorithm, "description": description},
    }), 201


@blueprint.post("/edxml/packages")
@operation("Prepare the signed edXML package of an issued document (QCVN 102:2016); the digest goes to the "
           "bridge", tag="edxml", permission="sign",
           request_body=json_body({"type": "object", "required": ["document_id", "recipients", "certificate"],
                                   "properties": {"document_id": {"type": "integer"},
                                                  "recipients": {"type": "array", "items": {"type": "string"}},
                                                  "certificate": {"type": "string", "format": "byte"},
                                                  "chain": {"type": "array", "items": {"type": "string"}},
                                                  "competence": {"type": "string"}}}),
           responses={"201": json_response("the signing session", _SESSION),
                      "400": json_response("not an issued document, unknown recipient, PDF not valid"),
                      "404": json_response("unknown document")})
def prepare_package():
    from edxml.envelope import build_package_xml
    from edxml.signing import prepare_envelope
    from ledger import get_document

    from service.edxml_exchange import outgoing_package

    principal = require(Permission.SIGN)
    data = payload.json_object()
    payload.reject_unknown(data, {"document_id", "recipients", "certificate", "chain", "competence"})
    document_id = data.get("document_id")
    if not isinstance(document_id, int) or isinstance(document_id, bool) or document_id < 1:
        raise BadRequest("'document_id' phải là số nguyên dương", "'document_id' must be a positive integer")
    recipients = data.get("recipients")
    if not isinstance(recipients, list) or not recipients or len(recipients) > 50 or \
            not all(isinstance(r, str) and 0 < len(r) <= 40 for r in recipients):
        raise BadRequest("'recipients' phải là danh sách mã cơ quan (1 đến 50)",
                         "'recipients' must be a list of 1 to 50 agency codes")
    certificate = parse_certificate(payload.base64_bytes(data, "certificate"))
    chain = _chain(data)
    components = runtime().components
    with library_errors():
        document = get_document(components.ledger, document_id)
    check_agency(principal, document.agency_code)
    stored = document_file(document_id)
    if stored is None:
        raise NotFound(f"Văn bản {document_id} chưa có tệp đã ký", f"document {document_id} has no signed file")
    with library_errors(), _edxml_errors():
        package = outgoing_package(components.ledger, document_id=document_id, pdf=stored.content,
                                   recipients=recipients, verifier=components.verifier, filename=stored.filename,
                                   competence=payload.text(data, "competence", required=False, max_length=200) or "",
                                   require_linked=False,  # the service's own stored file of this document
                                   at=runtime().clock())
        prepared = prepare_envelope(build_package_xml(package), public_key_info=certificate.public_key,
                                    certificate=certificate, chain=chain)
    header = package.header
    description = (f"Ký gói tin edXML {header.document_id} gửi "
                   f"{', '.join(r.name for r in header.recipients)}")[:500]
    return _store_session(principal=principal, kind="edxml-package", document_id=document_id,
                          certificate=certificate, prepared=prepared, description=description,
                          fields={"filename": _ascii_name(f"{header.number:02d}-{header.notation}.edxml"),
                                  "document_id": header.document_id})


@blueprint.post("/edxml/status")
@operation("Verify a received edXML package and prepare the status message answering it (02 refused with "
           "the reasons in Vietnamese when it fails)", tag="edxml", permission="sign",
           request_body=json_body({"type": "object", "required": ["package", "agency_code", "certificate"],
                                   "properties": {"package": {"type": "string", "format": "byte"},
                                                  "agency_code": {"type": "string"},
                                                  "certificate": {"type": "string", "format": "byte"},
                                                  "chain": {"type": "array", "items": {"type": "string"}},
                                                  "status": {"type": "string"}, "staff": {"type": "string"}}}),
           responses={"201": json_response("the signing session, with the status code and the package report",
                                           _SESSION), "400": json_response("unreadable package or input")})
def prepare_status():
    from edxml import EdxmlSettings, Organisation, StatusCode, status_for, verify_package
    from edxml.envelope import build_status_xml
    from edxml.signing import prepare_envelope
    from ledger import get_agency

    principal = require(Permission.SIGN)
    data = payload.json_object()
    payload.reject_unknown(data, {"package", "agency_code", "certificate", "chain", "status", "staff"})
    settings = runtime().settings.edxml or EdxmlSettings()
    package = payload.base64_bytes(data, "package", max_length=settings.max_bytes)
    agency_code = payload.code(data, "agency_code")
    check_agency(principal, agency_code)
    code = payload.choice(data, "status", tuple(c.value for c in StatusCode if c is not StatusCode.REFUSED),
                          required=False)
    certificate = parse_certificate(payload.base64_bytes(data, "certificate"))
    chain = _chain(data)
    components = runtime().components
    with library_errors():
        agency = get_agency(components.ledger, agency_code)
    report = verify_package(package, verifier=components.verifier, settings=settings, path="package.edxml")
    with _edxml_errors():
        status = status_for(report, receiver=Organisation(agency.code, agency.name, agency.legacy_code),
                            at=runtime().clock(), status=StatusCode(code) if code else None,
                            staff=payload.text(data, "staff", required=False, max_length=200) or "")
        prepared = prepare_envelope(build_status_xml(status), public_key_info=certificate.public_key,
                                    certificate=certificate, chain=chain)
    response, created = _store_session(
        principal=principal, kind="edxml-status", document_id=None, certificate=certificate, prepared=prepared,
        description=f"Ký thông điệp trạng thái {status.status.value} ({status.status.label_vi}) cho "
                    f"{status.response_for_document_id}"[:500],
        fields={"filename": "status.edxml", "status": status.status.value})
    body = response.get_json()
    body.update({"status": status.status.value, "status_description": status.description,
                 "report": report.to_json("vi")})
    return jsonify(body), created


@blueprint.post("/edxml/sessions/<session_id>/signature")
@operation("Complete an edXML signing session with the seal key's signature of its digest", tag="edxml",
           permission="sign",
           request_body=json_body({"type": "object", "required": ["signature"],
                                   "properties": {"signature": {"type": "string", "format": "byte"}}}),
           responses={"200": json_response("the signed XML (base64 in `xml`)"),
                      "400": json_response("the signature does not verify"), "404": json_response("unknown"),
                      "409": json_response("already completed or expired")})
def complete(session_id: str):
    from edxml.signing import PreparedEnvelope, complete_envelope, signature_value_matches
    from policies.keys import DigestAlgorithm, SignatureScheme

    principal = require(Permission.SIGN)
    data = payload.json_object()
    payload.reject_unknown(data, {"signature"})
    value = payload.base64_bytes(data, "signature", max_length=2048)
    session = writing()
    row = load_session(session, session_id, principal=principal)
    if not row.kind.startswith("edxml-"):
        raise NotFound(f"Không có phiên ký edXML {session_id[:32]}", f"no edXML signing session {session_id[:32]}")
    if row.status != "prepared":
        raise Conflict(f"Phiên ký đang ở trạng thái {row.status}", f"this signing session is {row.status}")
    if runtime().clock() >= row.expires_at:
        raise Conflict("Phiên ký đã hết hạn", "this signing session has expired")
    fields = json.loads(row.fields)
    prepared = PreparedEnvelope(row.state, row.digest, DigestAlgorithm(row.digest_algorithm),
                                SignatureScheme(row.signature_algorithm), fields["key_bits"])
    certificate = parse_certificate(row.certificate)
    if not signature_value_matches(prepared, certificate=certificate, signature_value=value):
        raise BadRequest("Chữ ký không khớp với bản tóm lược và chứng thư số của phiên ký",
                         "the signature does not verify against the session's digest and certificate")
    with _edxml_errors():
        xml = complete_envelope(prepared, value)
    row.status, row.completed_at, row.result = "completed", runtime().clock(), xml
    import hashlib

    row.result_sha256 = hashlib.sha256(xml).hexdigest()
    session.commit()
    runtime().audit(principal.label, f"{row.kind}.sign", "ok", target=row.document_id or row.id,
                    detail={"session": row.id, "sha256": row.result_sha256})
    return jsonify({"id": row.id, "kind": row.kind, "filename": fields.get("filename"), "sha256": row.result_sha256,
                    "xml": _b64(xml)})
