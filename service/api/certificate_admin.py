"""Certificate administration for the console, beside service/api/certificates.py: one certificate in full
(parsed identity, extensions, chain, its OCSP status now, its history), the profile's checks of a CSR shown
before issuing, renewal (Decree 68/2024: at most 3 more years) and publishing a CRL now. A logged-in
administrator only, never an API key; every action audited."""

from __future__ import annotations

import hashlib

from flask import Blueprint, jsonify

from service.api import payload
from service.api.certificates import _authority, _certificate_json
from service.audit import list_events
from service.errors import BadRequest, NotFound
from service.guard import db, require_administrator, runtime
from service.openapi import json_body, json_response, operation
from service.translation import library_errors

blueprint = Blueprint("certificate_admin", __name__)


def parse_serial(text: str) -> int:
    try:
        return int(text.replace(":", ""), 16)
    except ValueError as exc:
        raise BadRequest(f"Số hiệu không hợp lệ: {text[:40]!r}", f"invalid serial {text[:40]!r} (hex)") from exc


def _record(authority, serial_number: int):
    with library_errors():
        record = authority.store.find_certificate(serial_number)
    if record is None:
        raise NotFound(f"Không có chứng thư số hiệu {serial_number:x}", f"no certificate with serial {serial_number:x}")
    return record


def _identity_json(certificate) -> dict:
    from policies.identity import parse_identity

    identity = parse_identity(certificate)
    return {"common_name": identity.common_name, "identifiers": [str(i) for i in identity.identifiers],
            "units": list(identity.units), "organization": identity.organization, "title": identity.title,
            "locality": identity.locality, "state": identity.state, "country": identity.country,
            "email": identity.email}


def _plain(value) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return "; ".join(_plain(v) for v in items)
    return str(value)


def _value_text(extension) -> str:
    # A readable value for the page from asn1crypto's native form (bytes as hex), shortened.
    try:
        value = extension["extn_value"].parsed.native
    except (ValueError, TypeError):
        value = extension["extn_value"].contents
    return _plain(value)[:400]


def _extensions_json(certificate) -> list[dict]:
    return [{"name": e["extn_id"].native, "oid": e["extn_id"].dotted, "critical": bool(e["critical"].native),
             "value": _value_text(e)} for e in certificate["tbs_certificate"]["extensions"]]


def ocsp_status_now(authority, record) -> dict:
    """Ask the CA's OCSP responder (RFC 6960) about the certificate, as a relying party would, and read the
    signed answer: good, revoked (with time and reason) or unknown."""
    from asn1crypto import ocsp

    issuer = authority.issuer(record.issuer).certificate
    cert_id = {"hash_algorithm": {"algorithm": "sha256"},
               "issuer_name_hash": hashlib.sha256(issuer.subject.dump()).digest(),
               "issuer_key_hash": hashlib.sha256(issuer.public_key["public_key"].contents[1:]).digest(),
               "serial_number": record.serial_number}
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}}).dump()
    response = ocsp.OCSPResponse.load(authority.respond_ocsp(request))
    if response["response_status"].native != "successful":
        return {"status": "error", "response_status": response["response_status"].native}
    data = response.basic_ocsp_response["tbs_response_data"]
    single = data["responses"][0]
    status = single["cert_status"]
    answer = {"status": status.name, "produced_at": data["produced_at"].native.isoformat(),
              "this_update": single["this_update"].native.isoformat()}
    if status.name == "revoked":
        answer["revoked_at"] = status.chosen["revocation_time"].native.isoformat()
        reason = status.chosen["revocation_reason"]
        answer["reason"] = reason.native if reason.native is not None else None
    return answer


@blueprint.get("/certificates/<serial>")
@operation("One certificate: parsed identity, extensions, chain, OCSP status now, roster holder, history",
           tag="certificates", permission="certificates",
           responses={"200": json_response("the certificate"), "404": json_response("unknown serial")})
def view_certificate(serial: str):
    from asn1crypto import pem

    require_administrator()
    authority = _authority()
    record = _record(authority, parse_serial(serial))
    certificate = record.certificate
    issuer = authority.issuer(record.issuer)
    with library_errors():
        ocsp_answer = ocsp_status_now(authority, record)
    answer = _certificate_json(record)
    answer.update({
        "identity": _identity_json(certificate),
        "extensions": _extensions_json(certificate),
        "chain": [c.subject.human_friendly for c in (issuer.certificate, *issuer.chain)],
        "fingerprint_sha256": hashlib.sha256(record.der).hexdigest(),
        "ocsp": ocsp_answer,
        "pem": pem.armor("CERTIFICATE", record.der).decode("ascii"),
        "history": list_events(db(), limit=100, target=format(record.serial_number, "x")),
    })
    return jsonify(answer)


_CHECK_SCHEMA = {"type": "object", "required": ["csr", "profile"], "properties": {
    "csr": {"type": "string"}, "profile": {"type": "string", "enum": ["personal", "agency"]},
    "validity_days": {"type": "integer"}}}


def _check(name: str, problem=None) -> dict:
    if problem is None:
        return {"check": name, "ok": True, "message": None, "message_vi": None}
    return {"check": name, "ok": False, "message": problem[1], "message_vi": problem[0]}


@blueprint.post("/certificates/checks")
@operation("The profile's checks of a CSR, each with its outcome, before anything is issued (nothing stored)",
           tag="certificates", permission="certificates", request_body=json_body(_CHECK_SCHEMA),
           responses={"200": json_response("the checks and whether the request may be issued")})
def check_request():
    import base64 as b64

    from asn1crypto import pem

    from ca.errors import CaError
    from ca.requests import read_csr
    from policies.profiles import ProfileError

    require_administrator()
    data = payload.json_object()
    payload.reject_unknown(data, {"csr", "profile", "validity_days"})
    csr_text = payload.text(data, "csr", max_length=20000)
    profile_name = payload.choice(data, "profile", ("personal", "agency"))
    validity = data.get("validity_days")
    authority = _authority()
    profile = authority.profiles.get(profile_name)
    raw = csr_text.encode()
    try:
        der = pem.unarmor(raw)[2] if pem.detect(raw) else b64.b64decode(csr_text, validate=True)
    except ValueError:
        der = b""
    checks, subject, identity = [], None, None
    try:
        request = read_csr(der)
        checks.append(_check("csr_signature"))
    except CaError as exc:
        checks.append(_check("csr_signature", (exc.vietnamese, exc.english)))
        request = None
    if request is not None:
        subject = request.subject.human_friendly
        try:
            profile.check_subject(request.attributes)
            checks.append(_check("subject"))
        except ProfileError as exc:
            checks.append(_check("subject", (exc.vietnamese, exc.english)))
        try:
            authority.profiles.check_public_key(request.public_key)
            checks.append(_check("key"))
        except ProfileError as exc:
            checks.append(_check("key", (exc.vietnamese, exc.english)))
        identity = dict(request.attributes)
    if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool) or validity < 1
                                 or validity > profile.max_validity_days):
        checks.append(_check("validity", (f"thời hạn phải từ 1 đến {profile.max_validity_days} ngày (hồ sơ {profile.name})",
                                          f"validity must be 1 to {profile.max_validity_days} days (profile {profile.name})")))
    else:
        checks.append(_check("validity"))
    return jsonify({"profile": profile.name, "description": profile.description,
                    "max_validity_days": profile.max_validity_days, "subject": subject, "attributes": identity,
                    "checks": checks, "may_issue": all(c["ok"] for c in checks)})


@blueprint.post("/certificates/<serial>/renewal")
@operation("Renew a valid certificate for the same subject (optionally a new key by CSR); the roster follows",
           tag="certificates", permission="certificates",
           request_body=json_body({"type": "object", "properties": {"csr": {"type": "string"},
                                                                   "validity_days": {"type": "integer"}}}),
           responses={"201": json_response("the new certificate"), "400": json_response("refused")})
def renew_certificate(serial: str):
    from asn1crypto import pem
    from sqlalchemy import select

    from ledger import enrol_certificate
    from ledger.models import Certificate as RosterCertificate
    from policies.identity import parse_identity

    principal = require_administrator()
    data = payload.json_object()
    payload.reject_unknown(data, {"csr", "validity_days"})
    csr_text = payload.text(data, "csr", required=False, max_length=20000)
    validity = data.get("validity_days")
    if validity is not None and (not isinstance(validity, int) or isinstance(validity, bool) or not 1 <= validity <= 1826):
        raise BadRequest("'validity_days' phải từ 1 đến 1826", "'validity_days' must be 1 to 1826")
    authority = _authority()
    old = _record(authority, parse_serial(serial))
    store = runtime().components.ledger
    with store.transaction() as session:
        roster = session.scalar(select(RosterCertificate).where(RosterCertificate.serial == format(old.serial_number, "x")))
        agency, kind = (roster.agency_code, roster.kind) if roster is not None else (None, None)
    with library_errors():
        issued = authority.renew(old.serial_number, csr=csr_text.encode() if csr_text else None, validity_days=validity)
        certificate = issued.certificate
        if agency is not None:
            identity = parse_identity(certificate)
            enrol_certificate(store, serial=certificate.serial_number, agency_code=agency, kind=kind,
                              not_before=certificate.not_valid_before, not_after=certificate.not_valid_after,
                              full_name=identity.common_name, identifiers=[str(i) for i in identity.identifiers],
                              title=identity.title, subject=certificate.subject.human_friendly)
    new_serial = format(certificate.serial_number, "x")
    detail = {"renewed_by": new_serial, "agency_code": agency}
    runtime().audit(principal.label, "certificate.renew", "ok", target=format(old.serial_number, "x"), detail=detail)
    runtime().audit(principal.label, "certificate.issue", "ok", target=new_serial,
                    detail={"renews": format(old.serial_number, "x"), "agency_code": agency})
    return jsonify({"serial": new_serial, "renews": format(old.serial_number, "x"),
                    "not_after": certificate.not_valid_after.isoformat(),
                    "certificate": pem.armor("CERTIFICATE", certificate.dump()).decode("ascii")}), 201


@blueprint.post("/crls/<issuer>")
@operation("Publish a new CRL of a CA now (the next CRL number)", tag="certificates", permission="certificates",
           responses={"201": json_response("the CRL's number and validity"), "404": json_response("unknown CA")})
def publish_crl(issuer: str):
    principal = require_administrator()
    authority = _authority()
    if issuer not in authority.issuers:
        raise NotFound(f"Không có CA {issuer}", f"no CA named {issuer}")
    with library_errors():
        crl = authority.publish_crl(issuer)
    tbs = crl["tbs_cert_list"]
    number = crl.crl_number_value.native
    answer = {"issuer": issuer, "crl_number": number, "this_update": tbs["this_update"].native.isoformat(),
              "next_update": tbs["next_update"].native.isoformat(),
              "revoked": len(tbs["revoked_certificates"]) if tbs["revoked_certificates"].native else 0}
    runtime().audit(principal.label, "crl.publish", "ok", target=issuer, detail={"crl_number": number})
    return jsonify(answer), 201
