"""The loopback HTTP API on real SoftHSM tokens: listings, signatures, refusals with precise messages."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess

import pytest
import requests
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from policies.keys import DigestAlgorithm, DigestSigner, SignatureScheme
from token_bridge.catalogue import certificate_id
from token_bridge.client import BridgeClient, BridgeKey, BridgeRequestRefused

pytestmark = pytest.mark.integration

DOCUMENT = "Quyết định số 45/QĐ-UBND ngày 29/11/2026".encode()
DESCRIPTION = "Quyết định 45/QĐ-UBND – Hệ thống quản lý văn bản Hà Nội"


def _body(provisioned, **changes):
    body = {
        "certificate_id": certificate_id(provisioned.certificate),
        "digest": base64.b64encode(hashlib.sha256(DOCUMENT).digest()).decode(),
        "digest_algorithm": "sha256",
        "signature_algorithm": "rsassa_pkcs1v15" if provisioned.certificate.public_key.algorithm == "rsa" else "ecdsa",
        "description": DESCRIPTION,
    }
    body.update(changes)
    return body


def _error(response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_tokens_endpoint_lists_the_tokens_with_flags(token_bridge):
    answer = requests.get(f"{token_bridge.url}/v1/tokens", timeout=10)
    assert answer.status_code == 200
    tokens = {t["label"]: t for t in answer.json()["tokens"]}
    assert {"test-personal-rsa", "test-agency-ec"} <= set(tokens)
    personal = tokens["test-personal-rsa"]
    assert personal["model"] == "SoftHSM v2" and personal["flags"]["login_required"] is True
    assert personal["pin_state"] == "ok"
    # slots also show what is not a usable token: SoftHSM's spare slot holds an uninitialised one
    spare = [s for s in answer.json()["slots"] if s["token"] and not s["token"]["flags"]["initialised"]]
    assert len(spare) == 1 and spare[0]["token"]["label"] == ""


def test_certificates_endpoint_gives_identity_kind_and_chain(token_bridge, personal_rsa_token, agency_ec_token, pki):
    answer = requests.get(f"{token_bridge.url}/v1/certificates", timeout=10).json()["certificates"]
    by_id = {c["id"]: c for c in answer}
    personal = by_id[certificate_id(personal_rsa_token.certificate)]
    assert personal["kind"] == "personal" and personal["token"] == "test-personal-rsa"
    assert personal["key_algorithm"] == "rsa" and personal["key_size"] == 2048
    assert personal["signature_algorithms"] == ["rsassa_pkcs1v15", "rsassa_pss"]
    identity = personal["identity"]
    assert identity["common_name"] == "Nguyễn Thị Thu Hà"
    assert identity["units"] == ["Phòng Văn hóa - Xã hội", "UBND Phường Hoàn Kiếm"]
    assert identity["title"] == "Phó Chủ tịch"
    assert [base64.b64decode(c) for c in personal["chain"]] == [pki.gov.certificate.dump(), pki.root.certificate.dump()]
    agency = by_id[certificate_id(agency_ec_token.certificate)]
    assert agency["kind"] == "agency" and agency["curve"] == "secp256r1"
    # CA certificates on the tokens are chain material, not signing certificates
    assert certificate_id(pki.gov.certificate) not in by_id


def test_rsa_signature_through_the_api_verifies_and_is_audited(token_bridge, personal_rsa_token):
    before = len(token_bridge.audit.records())
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=_body(personal_rsa_token), timeout=30)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert set(result) == {"signature", "certificate", "chain"}
    certificate = cx509.load_der_x509_certificate(base64.b64decode(result["certificate"]))
    certificate.public_key().verify(base64.b64decode(result["signature"]), DOCUMENT, padding.PKCS1v15(), hashes.SHA256())
    assert len(result["chain"]) == 2
    record = token_bridge.audit.records()[before]
    assert (record.outcome, record.origin, record.token_label, record.description) == (
        "signed", "local application", "test-personal-rsa", DESCRIPTION)
    assert record.digest == hashlib.sha256(DOCUMENT).hexdigest()
    assert token_bridge.consent.requests[-1].description == DESCRIPTION
    assert "123456" not in json.dumps(result) and "123456" not in repr(record)


def test_ecdsa_signature_through_the_api_verifies(token_bridge, agency_ec_token):
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=_body(agency_ec_token), timeout=30)
    assert answer.status_code == 200, answer.text
    certificate = cx509.load_der_x509_certificate(base64.b64decode(answer.json()["certificate"]))
    certificate.public_key().verify(base64.b64decode(answer.json()["signature"]), DOCUMENT, ec.ECDSA(hashes.SHA256()))


def test_bridge_key_is_a_digest_signer_judged_by_openssl(token_bridge, agency_ec_token, personal_rsa_token, tmp_path):
    key = BridgeKey(token_bridge.url, certificate_id(agency_ec_token.certificate), description=DESCRIPTION)
    assert isinstance(key, DigestSigner)
    assert key.public_key_info().dump() == agency_ec_token.certificate.public_key.dump()
    digest = hashlib.sha384(DOCUMENT).digest()
    signature = key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA384, scheme=SignatureScheme.ECDSA)
    (tmp_path / "cert.der").write_bytes(key.certificate.dump())
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", tmp_path / "cert.der", "-pubkey", "-noout",
                    "-out", tmp_path / "pub.pem"], check=True)
    (tmp_path / "digest").write_bytes(digest)
    (tmp_path / "sig").write_bytes(signature)
    result = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-in",
                             tmp_path / "digest", "-sigfile", tmp_path / "sig"], capture_output=True, text=True)
    assert result.stdout.strip() == "Signature Verified Successfully"
    assert [c.dump() for c in key.chain] == [c.dump() for c in agency_ec_token.chain]
    # PSS through the bridge
    rsa_key = BridgeKey(token_bridge.url, certificate_id(personal_rsa_token.certificate), description=DESCRIPTION)
    pss = rsa_key.sign_digest(hashlib.sha256(DOCUMENT).digest(), digest_algorithm=DigestAlgorithm.SHA256,
                              scheme=SignatureScheme.RSA_PSS)
    cx509.load_der_x509_certificate(rsa_key.certificate.dump()).public_key().verify(
        pss, DOCUMENT, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


@pytest.mark.parametrize(
    "changes, status, code, message",
    [
        ({"digest": "not base64!"}, 400, "invalid_request", "Field digest is not valid base64."),
        ({"digest": base64.b64encode(b"x" * 20).decode()}, 400, "invalid_request",
         "The digest is 20 bytes; sha256 digests are 32 bytes."),
        ({"certificate_id": "ab" * 32}, 404, "certificate_not_found",
         f"No certificate with id '{'ab' * 32}' on any present token."),
        ({"digest_algorithm": "md5"}, 400, "invalid_request",
         "Unknown digest_algorithm 'md5'; one of: sha1, sha256, sha384, sha512."),
        ({"signature_algorithm": "dsa"}, 400, "invalid_request",
         "Unknown signature_algorithm 'dsa'; one of: rsassa_pkcs1v15, rsassa_pss, ecdsa."),
        ({"description": "  "}, 400, "invalid_request",
         "Field description is empty: say what is signed (document, number, requesting system)."),
        ({"description": "Quyết định 1\nĐồng ý ký? Có"}, 400, "invalid_request",
         "Field description contains a character that is not allowed: U+000A (control character)."),
        ({"description": "Hợp đồng \u202etxt.exe"}, 400, "invalid_request",
         "Field description contains a character that is not allowed: U+202E (RIGHT-TO-LEFT OVERRIDE)."),
        ({"pin": "123456"}, 400, "invalid_request",
         "Unknown field(s): pin; known: certificate_id, description, digest, digest_algorithm, signature_algorithm."),
        ({"digest_algorithm": "sha1", "digest": base64.b64encode(b"x" * 20).decode()}, 422, "algorithm_refused",
         "Digest sha1 is not allowed for new signatures (SHA-256, SHA-384 or SHA-512 required)."),
        ({"signature_algorithm": "ecdsa"}, 422, "algorithm_refused", "Scheme ecdsa does not fit an RSA key."),
    ],
)
def test_malformed_or_forbidden_requests_get_precise_4xx(token_bridge, personal_rsa_token, changes, status, code, message):
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=_body(personal_rsa_token, **changes), timeout=10)
    assert _error(answer) == (status, code, message)
    assert answer.json()["error"]["message_vi"]


def test_missing_fields_and_non_json_bodies(token_bridge, personal_rsa_token):
    body = _body(personal_rsa_token)
    del body["description"], body["digest"]
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=body, timeout=10)
    assert _error(answer) == (400, "invalid_request", "Missing field(s): description, digest.")
    answer = requests.post(f"{token_bridge.url}/v1/signatures", data="{not json",
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert _error(answer) == (400, "invalid_request", "The body is not valid JSON.")
    answer = requests.post(f"{token_bridge.url}/v1/signatures", data=json.dumps(_body(personal_rsa_token)),
                           headers={"Content-Type": "text/plain"}, timeout=10)
    assert _error(answer) == (415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json).")


def test_oversized_body_is_413(token_bridge, personal_rsa_token):
    answer = requests.post(f"{token_bridge.url}/v1/signatures",
                           json=_body(personal_rsa_token, description="x" * 20000), timeout=10)
    assert _error(answer) == (413, "body_too_large", "The body is larger than 16384 bytes.")


def test_refused_consent_is_403_and_audited(token_bridge, personal_rsa_token):
    token_bridge.consent.answers.append(False)
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=_body(personal_rsa_token),
                           headers={"Origin": "http://kyso.test"}, timeout=10)
    assert _error(answer) == (403, "consent_refused", "The user refused to sign.")
    assert answer.json()["error"]["message_vi"] == "Người dùng đã từ chối ký."
    record = token_bridge.audit.records()[-1]
    assert (record.outcome, record.error_code, record.origin) == ("refused", "consent_refused", "http://kyso.test")
    assert token_bridge.consent.requests[-1].origin == "http://kyso.test"


def test_foreign_host_header_is_refused(token_bridge):
    port = token_bridge.settings.port
    answer = requests.get(f"{token_bridge.url}/v1/certificates", headers={"Host": f"attacker.example:{port}"}, timeout=10)
    assert _error(answer) == (421, "host_refused",
                              f"Host 'attacker.example:{port}' does not name this bridge; use {token_bridge.url}.")
    assert requests.get(f"{token_bridge.url}/v1/status", headers={"Host": f"localhost:{port}"}, timeout=10).status_code == 200
    assert requests.get(f"{token_bridge.url}/v1/status", headers={"Host": "127.0.0.1:1"}, timeout=10).status_code == 421


def test_origin_allowlist_and_cors(token_bridge):
    url = f"{token_bridge.url}/v1/certificates"
    allowed = requests.get(url, headers={"Origin": token_bridge.page_origin}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == token_bridge.page_origin
    foreign = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert _error(foreign) == (403, "origin_refused", "Origin 'https://evil.example' is not allowed to use this token bridge.")
    assert "Access-Control-Allow-Origin" not in foreign.headers
    # a browser that sends no Origin (e.g. a top-level navigation) is refused too
    browser = requests.get(url, headers={"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}, timeout=10)
    assert _error(browser) == (403, "origin_required", "A browser request without an allowed Origin is refused.")
    assert requests.get(url, headers={"Origin": "null"}, timeout=10).status_code == 403


def test_preflight_answers_cors_and_private_network_access(token_bridge):
    url = f"{token_bridge.url}/v1/signatures"
    answer = requests.options(url, headers={
        "Origin": token_bridge.page_origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type", "Access-Control-Request-Private-Network": "true"}, timeout=10)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == token_bridge.page_origin
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"
    foreign = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Private-Network": "true"}, timeout=10)
    assert foreign.status_code == 403 and "Access-Control-Allow-Private-Network" not in foreign.headers


def test_bridge_listens_on_ipv6_loopback_too(token_bridge):
    port = token_bridge.settings.port
    answer = requests.get(f"http://[::1]:{port}/v1/status", timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_client_translates_errors(token_bridge, personal_rsa_token):
    client = BridgeClient(token_bridge.url)
    with pytest.raises(BridgeRequestRefused) as caught:
        client.sign(certificate_id="00" * 32, digest=b"\x00" * 32, digest_algorithm=DigestAlgorithm.SHA256,
                    scheme=SignatureScheme.RSA_PKCS1V15, description="x")
    assert (caught.value.code, caught.value.http_status) == ("certificate_not_found", 404)
    from token_bridge.errors import BridgeUnavailable
    from tests.support.servers import free_port

    with pytest.raises(BridgeUnavailable, match=r"^Cannot reach the token bridge at http://127\.0\.0\.1:\d+: ConnectionError\.$"):
        BridgeClient(f"http://127.0.0.1:{free_port()}", timeout=5).status()


def test_expired_certificate_is_not_used(softhsm, token_bridge):
    import datetime as dt

    from tests.support.softhsm import PERSONAL_SUBJECT, name_from, self_signed_certificate

    token = softhsm.create_token("test-bridge-expired")
    key = token.generate_ec("expired", b"\x0e")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    certificate = self_signed_certificate(key, name_from(PERSONAL_SUBJECT), not_before=start, days=30)
    token.write_certificate(certificate, label="expired", key_id=b"\x0e")
    body = {"certificate_id": certificate_id(certificate), "digest": base64.b64encode(b"\x00" * 32).decode(),
            "digest_algorithm": "sha256", "signature_algorithm": "ecdsa", "description": DESCRIPTION}
    consents = len(token_bridge.consent.requests)
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=body, timeout=10)
    assert _error(answer) == (422, "certificate_not_usable", "The certificate expired on 2024-01-31T00:00:00+00:00.")
    assert len(token_bridge.consent.requests) == consents  # refused before the user is bothered


def test_a_certificate_paired_with_another_key_is_caught(softhsm, token_bridge):
    from tests.support.softhsm import AGENCY_SUBJECT, name_from, self_signed_certificate

    token = softhsm.create_token("test-bridge-mixup")
    right = token.generate_ec("right", b"\x21")
    token.generate_ec("wrong", b"\x22")
    certificate = self_signed_certificate(right, name_from(AGENCY_SUBJECT))
    token.write_certificate(certificate, label="wrong", key_id=b"\x22")  # the CKA_ID of the other key
    body = {"certificate_id": certificate_id(certificate), "digest": base64.b64encode(b"\x00" * 32).decode(),
            "digest_algorithm": "sha256", "signature_algorithm": "ecdsa", "description": DESCRIPTION}
    answer = requests.post(f"{token_bridge.url}/v1/signatures", json=body, timeout=10)
    assert _error(answer) == (
        502, "key_certificate_mismatch",
        "The signature made by token 'test-bridge-mixup' with key id 22 does not verify with the certificate's "
        "public key: the key does not belong to this certificate, or the token failed.")
    assert "signature" not in answer.json()
    assert token_bridge.audit.records()[-1].outcome == "failed"
