"""Certificate administration through `ca`: list, issue from a CSR (and enrol on the roster), revoke (and
mark on the roster). A logged-in administrator only, never an API key; every action audited."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from service.api import payload
from service.errors import BadRequest
from service.guard import runtime
from service.openapi import json_body, json_response, operation

blueprint = Blueprint("certificates", __name__)


def _authority():
    from service.errors import NotAvailable

    authority = runtime().components.authority
    if authority is None:
        raise NotAvailable("Dịch vụ này không vận hành CA", "this service does not run the certificate authority")
    return authority


def _certificate_json(record) -> dict:
    return {
        "serial": format(record.serial_number, "x"),
        "issuer": record.issuer,
        "profile": record.profile,
        "subject": record.subject,
        "not_before": record.not_before.isoformat(),
        "not_after": record.not_after.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "revocation_reason": record.revocation_reason.value if record.revocation_reason else None,
    }


@blueprint.get("/certificates")
@operation("Certificates issued by a CA of this service, searchable by holder or serial, status and expiry",
           tag="certificates", permission="certificates",
           parameters=[{"name": "issuer", "in": "query", "schema": {"type": "string"}},
                       {"name": "q", "in": "query", "schema": {"type": "string"},
                        "description": "text in the subject (holder) or the serial"},
                       {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["valid", "revoked", "expired"]}},
                       {"name": "expires_before", "in": "query", "schema": {"type": "string", "format": "date"}}])
def list_certificates():
    from service.guard import require_administrator
    from service.translation import library_errors

    require_administrator()
    authority = _authority()
    args = dict(request.args)
    issuers = [request.args["issuer"]] if request.args.get("issuer") else sorted(authority.issuers)
    text = (payload.text(args, "q", required=False, max_length=100) or "").lower().replace(":", "")
    status = payload.choice(args, "status", ("valid", "revoked", "expired"), required=False)
    before = payload.date(args, "expires_before", required=False)
    now = runtime().clock()
    with library_errors():
        records = [record for name in issuers for record in authority.store.certificates_of(name)]

    def state(record) -> str:
        return "revoked" if record.revoked_at is not None else ("expired" if record.not_after < now else "valid")

    records = [r for r in records
               if (not text or text in r.subject.lower() or text in format(r.serial_number, "x"))
               and (status is None or state(r) == status)
               and (before is None or r.not_after.date() < before)]
    return jsonify({"certificates": [dict(_certificate_json(r), status=state(r)) for r in records]})


@blueprint.post("/certificates")
@operation(
    "Issue a certificate from a PKCS#10 request (PEM or base64 DER) under a profile, and enrol it on the roster",
    tag="certificates", permission="certificates",
    request_body=json_body({"type": "object", "required": ["csr", "profile", "agency_code"], "properties": {
        "csr": {"type": "string"}, "profile": {"type": "string", "enum": ["personal", "agency"]},
        "issuer": {"type": "string"}, "agency_code": {"type": "string"}, "validity_days": {"type": "integer"}}}),
    responses={"201": json_response("the certificate (PEM) and its serial"), "400": json_response("refused request")},
)
def issue_certificate():
    import base64 as b64

    from asn1crypto import pem

    from ca.requests import read_csr
    from ledger import check_certificate_holder, enrol_certificate
    from policies.identity import parse_identity, parse_name
    from service.guard import require_administrator
    from service.translation import library_errors

    principal = require_administrator()
    data = payload.json_object()
    payload.reject_unknown(data, {"csr", "profile", "issuer", "agency_code", "validity_days"})
    csr_text = payload.text(data, "csr", max_length=20000)
    profile = payload.choice(data, "profile", ("personal", "agency"))
    agency = payload.code(data, "agency_code")
    issuer = payload.code(data, "issuer", required=False) or "gov"
    validity = data.get("validity_days")
    if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool) or not 1 <= validity <= 1826):
        raise BadRequest("'validity_days' phải từ 1 đến 1826", "'validity_days' must be 1 to 1826")
    raw = csr_text.encode()
    try:
        csr = pem.unarmor(raw)[2] if pem.detect(raw) else b64.b64decode(csr_text, validate=True)
    except ValueError as exc:
        raise BadRequest("CSR không đọc được (PEM hoặc base64 DER)", "unreadable CSR (PEM or base64 DER)") from exc
    authority = _authority()
    with library_errors():
        if profile == "personal":
            # A person identifier belongs to one official on the roster: a CSR naming another official's CCCD
            # is refused before anything is issued (issue 9, item 9).
            holder = parse_name(read_csr(csr).subject)
            check_certificate_holder(runtime().components.ledger, agency_code=agency, full_name=holder.common_name,
                                     identifiers=[str(i) for i in holder.identifiers])
        issued = authority.issue_from_csr(csr, issuer=issuer, profile=profile, validity_days=validity)
        certificate = issued.certificate
        identity = parse_identity(certificate)
        enrol_certificate(
            runtime().components.ledger, serial=certificate.serial_number, agency_code=agency, kind=profile,
            not_before=certificate.not_valid_before, not_after=certificate.not_valid_after,
            full_name=identity.common_name, identifiers=[str(i) for i in identity.identifiers],
            title=identity.title, subject=certificate.subject.human_friendly,
        )
    runtime().audit(principal.label, "certificate.issue", "ok", target=format(certificate.serial_number, "x"),
                    detail={"profile": profile, "agency": agency, "subject": certificate.subject.human_friendly})
    return jsonify({
        "serial": format(certificate.serial_number, "x"),
        "certificate": pem.armor("CERTIFICATE", certificate.dump()).decode("ascii"),
        "chain": [pem.armor("CERTIFICATE", c.dump()).decode("ascii") for c in issued.chain],
    }), 201


@blueprint.post("/certificates/<serial>/revocation")
@operation("Revoke a certificate (idempotent) with an RFC 5280 reason; the roster follows", tag="certificates",
           permission="certificates",
           request_body=json_body({"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}))
def revoke_certificate(serial: str):
    from ca.revocation import RevocationReason

    from ledger import revoke_certificate as revoke_on_roster
    from ledger.errors import UnknownCertificate
    from service.guard import require_administrator
    from service.translation import library_errors

    principal = require_administrator()
    data = payload.json_object()
    payload.reject_unknown(data, {"reason"})
    reasons = tuple(r.value for r in RevocationReason)
    reason = RevocationReason(payload.choice(data, "reason", reasons))
    try:
        serial_number = int(serial.replace(":", ""), 16)
    except ValueError as exc:
        raise BadRequest(f"Số hiệu không hợp lệ: {serial[:40]!r}", f"invalid serial {serial[:40]!r} (hex)") from exc
    authority = _authority()
    now = runtime().clock()
    with library_errors():
        revocation = authority.revoke(serial_number, reason=reason, revoked_at=now)
        try:
            revoke_on_roster(runtime().components.ledger, serial_number, revoked_at=now, reason=reason.value)
        except UnknownCertificate:
            pass  # issued before the roster knew it: the CA's own record is what counts for CRL/OCSP
    runtime().audit(principal.label, "certificate.revoke", "ok", target=format(serial_number, "x"),
                    detail={"reason": reason.value})
    return jsonify({"serial": format(serial_number, "x"), "reason": reason.value,
                    "revoked_at": revocation.record.revoked_at.isoformat(),
                    "newly_revoked": revocation.newly_revoked})
