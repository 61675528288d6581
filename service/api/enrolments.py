"""Token enrolment from the browser (DESIGN.md flow 1, issue 13). An administrator starts an enrolment for a
subject under a profile and an agency and gets a one-use ticket (a link); on the official's computer the
console page has the bridge generate the key on the token and sign the CSR (token_bridge/enrolment.py),
sends the CSR here with the ticket, and gets the certificate and chain to write back through the bridge.

The ticket is a signed, timed token (itsdangerous) holding what the administrator decided: the CSR must ask
for exactly that subject, and one ticket issues one certificate (claimed in the audit trail under a writer lock,
given back when issuing fails; a second use is refused). The private key never reaches the service: only the CSR does.
"""

from __future__ import annotations

import base64
import secrets

from flask import Blueprint, jsonify
from sqlalchemy import select

from service.api import payload
from service.api.certificates import _authority
from service.errors import BadRequest, Conflict, Unauthenticated
from service.guard import check_csrf, current_principal, db, require_administrator, runtime
from service.openapi import json_body, json_response, operation
from service.tables import AuditEvent
from service.translation import library_errors

blueprint = Blueprint("enrolments", __name__)

TICKET_SECONDS = 7 * 24 * 3600
_SALT = "kyso-enrolment"


def _serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(runtime().settings.secret_key, salt=_SALT)


def _subject(data: dict) -> list[list[str]]:
    value = data.get("subject")
    if (not isinstance(value, list) or not 0 < len(value) <= 20
            or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) and v.strip() for v in p) for p in value)):
        raise BadRequest("'subject' phải là danh sách cặp [thuộc tính, giá trị]",
                         "'subject' must be a list of [attribute, value] pairs")
    return [[n, v.strip()] for n, v in value]


@blueprint.post("/enrolments")
@operation("Start a token enrolment: the subject is checked against the profile now; the answer's ticket (a "
           "one-use link, 7 days) lets the official's computer finish it through the bridge",
           tag="certificates", permission="certificates",
           request_body=json_body({"type": "object", "required": ["subject", "profile", "agency_code"], "properties": {
               "subject": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
               "profile": {"type": "string", "enum": ["personal", "agency"]}, "agency_code": {"type": "string"}}}),
           responses={"201": json_response("the ticket and the link"), "400": json_response("subject outside the profile")})
def start_enrolment():
    from ca.errors import RequestRejected
    from policies.profiles import ProfileError
    from service import stamp_images

    principal = require_administrator()
    data = payload.json_object()
    payload.reject_unknown(data, {"subject", "profile", "agency_code"})
    subject = _subject(data)
    profile = payload.choice(data, "profile", ("personal", "agency"))
    agency = payload.code(data, "agency_code")
    authority = _authority()
    stamp_images.require_agency(runtime().components.ledger, agency)
    try:
        authority.profiles.get(profile).check_subject([tuple(p) for p in subject])
    except ProfileError as exc:
        raise BadRequest(exc.vietnamese, exc.english) from exc
    except RequestRejected as exc:
        raise BadRequest(exc.vietnamese, exc.english) from exc
    ticket_id = secrets.token_hex(8)
    ticket = _serializer().dumps({"id": ticket_id, "subject": subject, "profile": profile, "agency": agency})
    runtime().audit(principal.label, "enrolment.start", "ok", target=f"enrolment:{ticket_id}",
                    detail={"agency_code": agency, "profile": profile, "subject": subject})
    return jsonify({"ticket": ticket, "id": ticket_id, "link": f"/console/enrol?ticket={ticket}",
                    "subject": subject, "profile": profile, "agency_code": agency}), 201


def read_ticket(ticket: str) -> dict:
    from itsdangerous import BadSignature

    try:
        return _serializer().loads(ticket, max_age=TICKET_SECONDS)
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise BadRequest("Phiếu đăng ký thiết bị không hợp lệ hoặc đã hết hạn",
                         "the enrolment ticket is invalid or expired") from exc


def _person():
    principal = current_principal()
    if principal is None or principal.kind != "user":
        raise Unauthenticated("Cần đăng nhập", "a logged-in person is required")
    check_csrf()
    db().commit()
    return principal


@blueprint.get("/enrolments/<ticket>")
@operation("What an enrolment ticket asks for (subject, profile, agency) and whether it was used",
           tag="certificates", permission="sign", responses={"200": json_response("the ticket")})
def view_ticket(ticket: str):
    _person()
    claims = read_ticket(ticket)
    return jsonify({"id": claims["id"], "subject": claims["subject"], "profile": claims["profile"],
                    "agency_code": claims["agency"], "used": _used(claims["id"])})


def _used(ticket_id: str, session=None) -> bool:
    """Whether the ticket was claimed by a completion that did not give it back (claims minus releases)."""
    from sqlalchemy import func

    counts = dict((session or db()).execute(
        select(AuditEvent.action, func.count()).where(AuditEvent.target == f"enrolment:{ticket_id}",
                                                      AuditEvent.action.in_(("enrolment.claim", "enrolment.release")))
        .group_by(AuditEvent.action)).all())
    return counts.get("enrolment.claim", 0) > counts.get("enrolment.release", 0)


def _claim(ticket_id: str, actor: str) -> None:
    """Take the ticket for one completion, or answer 409: the check and the claim happen in one writer
    transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock on the ticket), so two concurrent
    completions cannot both issue."""
    import datetime as dt

    from sqlalchemy import text

    from service.guard import writing

    session = writing()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(ticket_id[:15], 16)})
    if _used(ticket_id, session):
        session.rollback()
        raise Conflict("Phiếu đăng ký này đã được dùng", "this enrolment ticket was already used")
    session.add(AuditEvent(at=runtime().clock().astimezone(dt.timezone.utc), actor=actor[:120], action="enrolment.claim",
                           target=f"enrolment:{ticket_id}", outcome="ok", detail="{}"))
    session.commit()


@blueprint.post("/enrolments/<ticket>/certificate")
@operation("Finish an enrolment: issue the certificate for the token's CSR (its subject must be the ticket's), "
           "enrol it on the roster, answer the certificate and chain (base64 DER) for the bridge to write back",
           tag="certificates", permission="sign",
           request_body=json_body({"type": "object", "required": ["csr"], "properties": {"csr": {"type": "string"}}}),
           responses={"201": json_response("the certificate and chain"), "400": json_response("refused"),
                      "409": json_response("the ticket was used")})
def finish_enrolment(ticket: str):
    from ca.names import name_attributes
    from ca.requests import read_csr

    principal = _person()
    claims = read_ticket(ticket)
    data = payload.json_object()
    payload.reject_unknown(data, {"csr"})
    try:
        csr = base64.b64decode(payload.text(data, "csr", max_length=20000), validate=True)
    except ValueError as exc:
        raise BadRequest("CSR phải là base64 DER", "the CSR must be base64 DER") from exc
    if _used(claims["id"]):
        raise Conflict("Phiếu đăng ký này đã được dùng", "this enrolment ticket was already used")
    authority = _authority()
    with library_errors():
        request = read_csr(csr)
        if [list(p) for p in name_attributes(request.subject)] != claims["subject"]:
            raise BadRequest("Chủ thể của CSR khác với phiếu đăng ký", "the CSR's subject differs from the enrolment ticket")
    _claim(claims["id"], principal.label)
    try:
        issued = _issue(authority, csr, claims)
    except Exception:
        # Issuing (or enrolling on the roster) failed: give the ticket back so the official can try again.
        runtime().audit(principal.label, "enrolment.release", "ok", target=f"enrolment:{claims['id']}")
        raise
    certificate = issued.certificate
    serial = format(certificate.serial_number, "x")
    runtime().audit(principal.label, "enrolment.issue", "ok", target=f"enrolment:{claims['id']}",
                    detail={"agency_code": claims["agency"], "serial": serial})
    runtime().audit(principal.label, "certificate.issue", "ok", target=serial,
                    detail={"profile": claims["profile"], "agency_code": claims["agency"], "enrolment": claims["id"]})
    return jsonify({"serial": serial, "certificate": base64.b64encode(certificate.dump()).decode("ascii"),
                    "chain": [base64.b64encode(c.dump()).decode("ascii") for c in issued.chain]}), 201


def _issue(authority, csr: bytes, claims: dict):
    """Issue under the ticket's profile and enrol the certificate on the roster under its agency."""
    from ledger import enrol_certificate
    from policies.identity import parse_identity

    with library_errors():
        issued = authority.issue_from_csr(csr, issuer="gov" if "gov" in authority.issuers else sorted(authority.issuers)[0],
                                          profile=claims["profile"])
        certificate = issued.certificate
        identity = parse_identity(certificate)
        enrol_certificate(runtime().components.ledger, serial=certificate.serial_number, agency_code=claims["agency"],
                          kind=claims["profile"], not_before=certificate.not_valid_before,
                          not_after=certificate.not_valid_after, full_name=identity.common_name,
                          identifiers=[str(i) for i in identity.identifiers], title=identity.title,
                          subject=certificate.subject.human_friendly)
    return issued
