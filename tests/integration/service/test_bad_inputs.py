"""Bad inputs get precise 4xx answers and change no stored data (SQLite and PostgreSQL)."""

import base64

import pytest
from sqlalchemy import text

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.integration.service.test_signing_flow import B64, register
from tests.support.documents import sample_decision, seal_png, signature_png

pytestmark = pytest.mark.integration

TABLES = ("service_signing_sessions", "service_document_files", "service_users", "service_api_keys",
          "ledger_documents", "ledger_records", "ledger_signed_files", "ledger_agencies")
SQL = "x'); DROP TABLE ledger_records; --"


def counts(world) -> dict[str, int]:
    engine = world.app.extensions["kyso"].engine
    with engine.connect() as connection:
        return {name: connection.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one() for name in TABLES}


def approve_body(pki, document_id):
    return {"kind": "approve", "certificate": B64(pki.official_rsa.der), "document_id": document_id,
            "signature_image": B64(signature_png()), "title": "GIÁM ĐỐC"}


def test_completion_refusals_leave_nothing_behind(signing_world, pki):
    api = signing_world.api("dms")
    document = register(api)
    prepared = api.post("/api/v1/signing-sessions", json=approve_body(pki, document["id"])).json
    before = counts(signing_world)

    # A signature over another digest (by the right key) is refused and does not burn the session.
    other = pki.official_rsa.key.sign_digest(b"\x01" * 32, digest_algorithm=DigestAlgorithm.SHA256,
                                             scheme=SignatureScheme.RSA_PKCS1V15)
    wrong = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(other)})
    assert (wrong.status_code, wrong.json["error"]) == (422, "signature_mismatch")
    assert wrong.json["detail"]["reason"] == "SignatureValueMismatch"
    # A signature by another key over the right digest, likewise.
    foreign = pki.official_ec.key.sign_digest(base64.b64decode(prepared["digest"]),
                                              digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
    assert api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature",
                    json={"signature": B64(foreign)}).status_code == 422
    garbage = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": "@@@"})
    assert (garbage.status_code, garbage.json["message"]) == (400, "field 'signature' is not valid base64")
    assert counts(signing_world) == before
    assert api.get(f"/api/v1/signing-sessions/{prepared['id']}").json["status"] == "prepared"

    good = pki.official_rsa.key.sign_digest(base64.b64decode(prepared["digest"]),
                                            digest_algorithm=DigestAlgorithm.SHA256,
                                            scheme=SignatureScheme.RSA_PKCS1V15)
    done = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(good)})
    assert done.status_code == 200
    after_first = counts(signing_world)
    again = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(good)})
    assert (again.status_code, again.json["message"]) == (409, "this signing session is already completed")
    assert counts(signing_world) == after_first
    # Someone else's session does not exist for another caller.
    stranger = signing_world.api("validator").get(f"/api/v1/signing-sessions/{prepared['id']}")
    assert stranger.status_code == 403  # no sign permission at all
    assert signing_world.logged_in("official").get(f"/api/v1/signing-sessions/{prepared['id']}").status_code == 404


def test_policy_refusals_name_the_rule(signing_world, pki):
    api = signing_world.api("dms")
    document = register(api)
    before = counts(signing_world)
    wrong_type = api.post("/api/v1/signing-sessions", json={**approve_body(pki, document["id"]),
                                                            "certificate": B64(pki.agency_ec.der)})
    assert (wrong_type.status_code, wrong_type.json["error"]) == (422, "policy_refused")
    assert wrong_type.json["detail"]["rule"] == "signing:certificate-type"
    too_early = api.post("/api/v1/signing-sessions", json={
        "kind": "issue", "certificate": B64(pki.agency_rsa.der), "document_id": document["id"],
        "seal_image": B64(seal_png()), "series": "QĐ-UBND"})
    assert (too_early.status_code, too_early.json["error"]) == (422, "policy_refused")
    assert "personal" in too_early.json["message"]
    revoked = api.post("/api/v1/signing-sessions", json={**approve_body(pki, document["id"]),
                                                         "certificate": B64(pki.revoked.der)})
    assert (revoked.status_code, revoked.json["detail"]["reason"]) == (422, "CertificateRevoked")
    expired = api.post("/api/v1/signing-sessions", json={**approve_body(pki, document["id"]),
                                                         "certificate": B64(pki.expired.der)})
    assert (expired.status_code, expired.json["detail"]["reason"]) == (422, "CertificateExpired")
    assert counts(signing_world) == before


def test_unknown_documents_malformed_fields_and_non_pdfs(signing_world, pki):
    api = signing_world.api("dms")
    before = counts(signing_world)
    unknown = api.post("/api/v1/signing-sessions", json=approve_body(pki, 999999))
    assert (unknown.status_code, unknown.json["message"]) == (404, "no document with id 999999")
    assert api.get("/api/v1/documents/424242").status_code == 404
    not_pdf = api.post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "outgoing",
                                                   "doc_type": "Công văn", "file": B64(b"PK\x03\x04 a zip file")})
    assert (not_pdf.status_code, not_pdf.json["error"]) == (400, "not_a_pdf")
    upload = api.post("/api/v1/signing-sessions", json={**approve_body(pki, None), "document_id": None,
                                                        "document": B64(b"GIF89a"), "agency_code": "H26.10"})
    assert (upload.status_code, upload.json["error"]) == (400, "not_a_pdf")
    bad_cert = api.post("/api/v1/signing-sessions", json={**approve_body(pki, 1), "certificate": B64(b"\x30\x03abc")})
    assert bad_cert.json["message"] == "field 'certificate' is not an X.509 certificate (DER)"
    extra = api.post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "outgoing",
                                                 "doc_type": "Công văn", "is_admin": True})
    assert (extra.status_code, extra.json["detail"]) == (400, {"fields": ["is_admin"]})
    wrong_direction = api.post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "sideways",
                                                           "doc_type": "Công văn"})
    assert wrong_direction.json["message"] == "field 'direction' must be one of: outgoing, incoming"
    unknown_agency = api.post("/api/v1/documents", json={"agency_code": "H99", "direction": "outgoing",
                                                         "doc_type": "Công văn"})
    assert (unknown_agency.status_code, unknown_agency.json["message"]) == (400, "no agency with code 'H99' on the roster")
    no_json = api.post("/api/v1/documents", data="agency_code=H26.10")
    assert no_json.json["message"] == "body must be JSON (application/json)"
    assert counts(signing_world) == before
    # The verifier judges a non-PDF instead of refusing it (DESIGN.md): TOTAL_FAILED / FORMAT_FAILURE.
    judged = api.post("/api/v1/validations", data=b"not a pdf at all", content_type="application/pdf")
    assert judged.status_code == 200
    assert (judged.json["files"][0]["indication"], judged.json["files"][0]["sub_indication"]) == (
        "TOTAL_FAILED", "FORMAT_FAILURE")


def test_sql_looking_text_is_refused_where_a_code_and_kept_verbatim_where_text(signing_world, pki):
    api = signing_world.api("dms")
    before = counts(signing_world)
    for field in ("agency_code", "counterpart_code", "series"):
        body = {"agency_code": "H26.10", "direction": "incoming", "doc_type": "Công văn", field: SQL}
        answer = api.post("/api/v1/documents", json=body)
        assert (answer.status_code, answer.json["detail"]["field"]) == (400, field), field
    assert counts(signing_world) == before
    for field in ("doc_type", "title", "notation", "external_id", "filename"):
        body = {"agency_code": "H26.10", "direction": "incoming", "doc_type": "Công văn", field: SQL[:60]}
        answer = api.post("/api/v1/documents", json=body)
        assert answer.status_code == 201, (field, answer.json)
        if field != "filename":
            assert answer.json[field] == SQL[:60]
    # Each registration is covered by one record of the chain (ledger.covered), kept verbatim; no signature.
    assert counts(signing_world)["ledger_records"] == before["ledger_records"] + 5
    assert api.get("/api/v1/documents?direction=" + SQL).status_code == 400
    assert signing_world.api("reader").get("/api/v1/reports/monthly?month=" + SQL).json["message"].startswith(
        "invalid month")
    login = signing_world.client()
    page = login.get("/login").data.decode()
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    refused = login.post("/login", data={"username": SQL, "password": SQL, "csrf_token": token})
    assert refused.status_code == 401
    with signing_world.app.extensions["kyso"].engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM ledger_records")).scalar_one() == 5
        assert connection.execute(text("SELECT COUNT(*) FROM ledger_records WHERE covers IS NULL")).scalar_one() == 0


def test_roles_keys_and_agencies_are_enforced(signing_world, pki):
    document = register(signing_world.api("dms"))
    before = counts(signing_world)
    auditor = signing_world.logged_in("auditor")
    refused = auditor.post("/api/v1/signing-sessions", json=approve_body(pki, document["id"]))
    assert (refused.status_code, refused.json["message"]) == (403, "permission 'sign' is required for this action")
    assert auditor.get("/api/v1/reports/monthly?month=2026-11").status_code == 200
    clerk = signing_world.logged_in("clerk")
    other_agency = clerk.post("/api/v1/documents", json={"agency_code": "H26", "direction": "outgoing",
                                                         "doc_type": "Công văn"})
    assert (other_agency.status_code, other_agency.json["message"]) == (403, "you may act for agency H26.10 only")
    assert signing_world.client().post("/api/v1/validations", data=b"%PDF-1.7").status_code == 401
    wrong = signing_world.client().post("/api/v1/documents", json={}, headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json["message"]) == (401, "malformed API key")
    certificates = signing_world.api("dms").get("/api/v1/certificates")
    assert certificates.status_code == 403
    assert clerk.get("/api/v1/certificates").json["message"] == "permission 'certificates' is required for this action"
    assert counts(signing_world) == before


def test_oversized_upload_is_413(database_url, pki):
    from tests.support.service import build_service_world, pki_components

    components = pki_components(database_url, pki)
    world = build_service_world(database_url, components=components, max_upload_bytes=50_000)
    before = counts(world)
    answer = world.api("dms").post("/api/v1/validations", data=b"%PDF-" + b"0" * 60_000, content_type="application/pdf")
    assert (answer.status_code, answer.json["error"], answer.json["detail"]) == (413, "payload_too_large", {"limit": 50000})
    big = world.api("dms").post("/api/v1/documents", json={"agency_code": "H26.10", "direction": "outgoing",
                                                           "doc_type": "x", "file": B64(sample_decision()) * 2})
    assert big.status_code == 413
    assert counts(world) == before
    components.dispose()


def test_expired_session_is_gone(database_url, pki):
    from tests.support.ledger import ROSTER_CSV
    from tests.support.service import FixedClock, build_service_world, pki_components

    import datetime as dt

    clock = FixedClock(dt.datetime.now(dt.timezone.utc))
    components = pki_components(database_url, pki)
    world = build_service_world(database_url, clock=clock, components=components, roster=ROSTER_CSV,
                                signing_session_ttl_seconds=300)
    api = world.api("dms")
    document = register(api)
    prepared = api.post("/api/v1/signing-sessions", json=approve_body(pki, document["id"])).json
    clock.advance(seconds=301)
    value = pki.official_rsa.key.sign_digest(base64.b64decode(prepared["digest"]), digest_algorithm=DigestAlgorithm.SHA256,
                                             scheme=SignatureScheme.RSA_PKCS1V15)
    before = counts(world)
    late = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(value)})
    assert (late.status_code, late.json["message"]) == (410, "this signing session has expired; prepare again")
    assert counts(world) == before
    components.dispose()


def test_sql_looking_text_in_signing_and_account_fields(signing_world, pki):
    api = signing_world.api("dms")
    document = register(api)
    before = counts(signing_world)
    for field in ("title", "signer_name"):
        answer = api.post("/api/v1/signing-sessions", json={**approve_body(pki, document["id"]), field: SQL})
        assert (answer.status_code, answer.json["detail"]["reason"]) == (400, "PlaceNotFound"), field
    for field in ("agency_code",):
        answer = api.post("/api/v1/signing-sessions", json={**approve_body(pki, None), "document_id": None,
                                                            "document": B64(sample_decision()), field: SQL})
        assert (answer.status_code, answer.json["detail"]["field"]) == (400, field)
    assert api.get(f"/api/v1/signing-sessions/{SQL}").status_code == 404
    assert counts(signing_world) == before
    admin = signing_world.logged_in("admin")
    refused = admin.post("/api/v1/users", json={"username": SQL, "password": "0123456789ab", "roles": ["clerk"]})
    assert refused.json["message"] == "username must be 2-64 characters of a-z, 0-9, '.', '_', '-'"
    refused = admin.post("/api/v1/users", json={"username": "sqlname", "password": "0123456789ab", "roles": [SQL]})
    assert refused.json["message"].startswith("unknown role \"x'); DROP TABLE ledger_records; --\"")
    kept = admin.post("/api/v1/users", json={"username": "sqlname", "password": "0123456789ab", "roles": ["clerk"],
                                             "display_name": SQL})
    assert kept.status_code == 201 and kept.json["display_name"] == SQL
    assert counts(signing_world)["service_users"] == before["service_users"] + 1
    assert counts(signing_world)["ledger_records"] == before["ledger_records"]


def test_a_claim_left_by_a_dead_worker_is_released_after_a_while(database_url, pki):
    """A completion whose worker died after claiming the session recorded nothing; the same signature is
    refused while the claim is fresh and accepted once it is stale."""
    import datetime as dt

    from tests.support.ledger import ROSTER_CSV
    from tests.support.service import FixedClock, build_service_world, pki_components

    clock = FixedClock(dt.datetime.now(dt.timezone.utc))
    components = pki_components(database_url, pki)
    world = build_service_world(database_url, clock=clock, components=components, roster=ROSTER_CSV)
    api = world.api("dms")
    document = register(api)
    prepared = api.post("/api/v1/signing-sessions", json=approve_body(pki, document["id"])).json
    engine = world.app.extensions["kyso"].engine
    with engine.begin() as connection:  # what a worker killed between its claim and its commit leaves
        connection.execute(text("UPDATE service_signing_sessions SET status = 'completing', completed_at = :at "
                                "WHERE id = :id"), {"at": clock.now, "id": prepared["id"]})
    value = pki.official_rsa.key.sign_digest(base64.b64decode(prepared["digest"]),
                                             digest_algorithm=DigestAlgorithm.SHA256,
                                             scheme=SignatureScheme.RSA_PKCS1V15)
    busy = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(value)})
    assert (busy.status_code, busy.json["message"]) == (409, "this signing session is completing")
    clock.advance(seconds=121)
    done = api.post(f"/api/v1/signing-sessions/{prepared['id']}/signature", json={"signature": B64(value)})
    assert done.status_code == 200 and done.json["status"] == "completed"
    # The registration, the signature, then the document and the stored file (covering records, ledger.covered).
    assert counts(world)["ledger_records"] == 4
    components.dispose()


def test_the_roster_binds_seals_to_their_agency_and_knows_revocations(signing_world, pki):
    from ledger import enrol_certificate, revoke_certificate

    ledger = signing_world.app.extensions["kyso"].components.ledger
    seal = pki.agency_ec.certificate
    enrol_certificate(ledger, serial=seal.serial_number, agency_code="H26", kind="agency",
                      not_before=seal.not_valid_before, not_after=seal.not_valid_after)
    api = signing_world.api("dms")
    before = counts(signing_world)
    body = {"kind": "copy", "certificate": B64(pki.agency_ec.der), "document": B64(sample_decision()),
            "agency_code": "H26.10", "copy_form": "SAO Y", "copying_agency": "Sở Nội vụ"}
    foreign = api.post("/api/v1/signing-sessions", json=body)
    assert (foreign.status_code, foreign.json["detail"]["rule"], foreign.json["message"]) == (
        422, "roster:agency", "the seal certificate of agency H26 cannot sign for agency H26.10")
    assert api.post("/api/v1/signing-sessions", json={**body, "agency_code": "H26"}).status_code == 201
    revoke_certificate(ledger, seal.serial_number, revoked_at=signing_world.app.extensions["kyso"].clock(),
                       reason="key_compromise")
    revoked = api.post("/api/v1/signing-sessions", json={**body, "agency_code": "H26"})
    assert (revoked.status_code, revoked.json["detail"]["rule"]) == (422, "roster:revoked")
    assert counts(signing_world)["service_signing_sessions"] == before["service_signing_sessions"] + 1
