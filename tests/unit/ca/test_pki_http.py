"""The PKI HTTP views (service/pki.py) through Flask's test client: media types, GET OCSP, errors."""

from __future__ import annotations

import base64
import urllib.parse

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp
from flask import Flask

from ca.requests import build_csr
from ca.tsa import TimeStampResponse
from service.pki import create_pki_app, create_pki_blueprint
from signer.keys import InMemoryKey
from tests.unit.ca.conftest import PERSON
from tests.support.pki import ocsp_request
from tests.support.pki import time_stamp_request as ts_request


@pytest.fixture
def client(authority):
    return create_pki_app(authority).test_client()


def test_certificates_and_crls(client, authority):
    response = client.get("/pki/gov.crt")
    assert response.status_code == 200
    assert response.mimetype == "application/pkix-cert"
    assert response.data == authority.issuer("gov").certificate.dump()
    crl = client.get("/pki/root.crl")
    assert crl.mimetype == "application/pkix-crl"
    assert asn1_crl.CertificateList.load(crl.data).crl_number_value.native == 1
    missing = client.get("/pki/vnpt.crl")
    assert missing.status_code == 404
    assert missing.get_data(as_text=True) == "không có CA tên 'vnpt' (có: gov, root)\nno CA named 'vnpt' (known: gov, root)\n"


def test_ocsp_by_get_with_url_encoded_base64(client, authority):
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    request = ocsp_request(authority.issuer("gov").certificate, issued.serial_number)
    encoded = urllib.parse.quote(base64.b64encode(request).decode(), safe="")
    response = client.get(f"/pki/ocsp/{encoded}")
    assert response.mimetype == "application/ocsp-response"
    parsed = ocsp.OCSPResponse.load(response.data)
    assert parsed["response_status"].native == "successful"
    single = parsed.basic_ocsp_response["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "good"
    assert single["cert_id"]["serial_number"].native == issued.serial_number


def test_tsa_and_oversized_bodies(client):
    granted = TimeStampResponse.load(client.post("/pki/tsa", data=ts_request(b"x")).data)
    assert granted["status"]["status"].native == "granted"
    assert client.post("/pki/tsa", data=b"\x30" * (64 * 1024 + 1)).status_code == 413
    assert client.post("/pki/ocsp", data=b"\x30" * (64 * 1024 + 1)).status_code == 413


def test_blueprint_mounts_in_another_application(authority):
    app = Flask("central")
    app.register_blueprint(create_pki_blueprint(authority))
    response = app.test_client().post("/pki/ocsp", data=b"not der")
    assert ocsp.OCSPResponse.load(response.data)["response_status"].native == "malformed_request"


def test_no_time_stamping_unit_is_a_system_failure(tmp_path):
    from ca.authority import Authority
    from ca.endpoints import PkiEndpoints
    from ca.store import Store

    bare = Authority(store=Store.open(f"sqlite:///{tmp_path / 'x.db'}"), endpoints=PkiEndpoints("http://x"))
    status = TimeStampResponse.load(create_pki_app(bare).test_client().post("/pki/tsa", data=ts_request(b"x")).data)["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {"system_failure"}
    bare.store.close()
