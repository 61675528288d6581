"""The session test PKI judged by openssl: chains, CRLs, OCSP and RFC 3161 over real loopback HTTP."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
import requests
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp, tsp

pytestmark = pytest.mark.integration


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def pem_dir(pki, tmp_path_factory):
    return pki.write_pem(tmp_path_factory.mktemp("pki-pem"))


@pytest.mark.parametrize("name", ["official_rsa", "official_ec", "agency_ec", "agency_rsa", "tsa", "ocsp"])
def test_openssl_accepts_every_valid_entity_with_crl_checks(pki, pem_dir, name):
    crls = pem_dir / "crls.pem"
    crls.write_bytes((pem_dir / "gov.crl.pem").read_bytes() + (pem_dir / "root.crl.pem").read_bytes())
    result = run("openssl", "verify", "-crl_check_all", "-CRLfile", str(crls), "-CAfile", str(pem_dir / "root.pem"),
                 "-untrusted", str(pem_dir / "gov.pem"), str(pem_dir / f"{name}.pem"))
    assert result.stdout.strip() == f"{pem_dir / name}.pem: OK", result.stderr


def test_openssl_rejects_the_revoked_and_the_expired(pki, pem_dir):
    crls = pem_dir / "crls.pem"
    crls.write_bytes((pem_dir / "gov.crl.pem").read_bytes() + (pem_dir / "root.crl.pem").read_bytes())
    revoked = run("openssl", "verify", "-crl_check_all", "-CRLfile", str(crls), "-CAfile", str(pem_dir / "root.pem"),
                  "-untrusted", str(pem_dir / "gov.pem"), str(pem_dir / "revoked.pem"))
    assert revoked.returncode == 2
    assert "certificate revoked" in revoked.stderr + revoked.stdout
    expired = run("openssl", "verify", "-CAfile", str(pem_dir / "root.pem"),
                  "-untrusted", str(pem_dir / "gov.pem"), str(pem_dir / "expired.pem"))
    assert expired.returncode == 2
    assert "certificate has expired" in expired.stderr + expired.stdout


def test_http_endpoints_publish_certificates_and_crls(pki):
    root = requests.get(f"{pki.base_url}/pki/root.crt", timeout=10)
    assert root.status_code == 200
    assert root.headers["Content-Type"] == "application/pkix-cert"
    assert root.content == pki.root.der
    crl = requests.get(pki.crl_url("gov"), timeout=10)
    assert crl.headers["Content-Type"] == "application/pkix-crl"
    revoked = asn1_crl.CertificateList.load(crl.content)["tbs_cert_list"]["revoked_certificates"]
    assert [entry["user_certificate"].native for entry in revoked] == [pki.revoked.serial_number]
    assert revoked[0]["revocation_date"].native == pki.revoked.revoked_at
    missing = requests.get(f"{pki.base_url}/pki/nobody.crt", timeout=10)
    assert missing.status_code == 404
    assert "no CA named 'nobody'" in missing.text


def test_certificates_point_to_the_served_urls(pki):
    extensions = {ext["extn_id"].native: ext["extn_value"].native for ext in
                  pki.official_ec.certificate["tbs_certificate"]["extensions"]}
    assert extensions["crl_distribution_points"][0]["distribution_point"] == [f"{pki.base_url}/pki/gov.crl"]
    assert [(a["access_method"], a["access_location"]) for a in extensions["authority_information_access"]] == [
        ("ocsp", f"{pki.base_url}/pki/ocsp"), ("ca_issuers", f"{pki.base_url}/pki/gov.crt"),
    ]


@pytest.mark.parametrize("name, expected", [("official_rsa", "good"), ("revoked", "revoked")])
def test_openssl_ocsp_against_the_served_responder(pki, pem_dir, name, expected):
    result = run("openssl", "ocsp", "-issuer", str(pem_dir / "gov.pem"), "-cert", str(pem_dir / f"{name}.pem"),
                 "-url", pki.ocsp_url, "-CAfile", str(pem_dir / "root.pem"), "-verify_other", str(pem_dir / "gov.pem"))
    assert result.returncode == 0, result.stderr
    assert "Response verify OK" in result.stderr
    assert f"{pem_dir / name}.pem: {expected}" in result.stdout
    if expected == "revoked":
        assert "Reason: keyCompromise" in result.stdout


def test_openssl_ts_query_is_stamped_and_verified(pki, pem_dir, tmp_path):
    data = tmp_path / "document.txt"
    data.write_text("Công văn số 123/UBND-VP\n", encoding="utf-8")
    query = tmp_path / "request.tsq"
    made = run("openssl", "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query))
    assert made.returncode == 0, made.stderr
    reply = requests.post(pki.tsa_url, data=query.read_bytes(),
                          headers={"Content-Type": "application/timestamp-query"}, timeout=10)
    assert reply.headers["Content-Type"] == "application/timestamp-reply"
    response = tmp_path / "reply.tsr"
    response.write_bytes(reply.content)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.gov.pem + pki.root.pem)
    verified = run("openssl", "ts", "-verify", "-data", str(data), "-in", str(response), "-CAfile",
                   str(pem_dir / "root.pem"), "-untrusted", str(pem_dir / "gov.pem"))
    assert verified.stdout.strip() == "Verification: OK", verified.stderr
    info = tsp.TimeStampResp.load(reply.content)["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(data.read_bytes()).digest()
    assert info["accuracy"]["seconds"].native == 1


def test_frozen_clock_gives_a_time_stamp_before_revocation(pki):
    from asn1crypto import algos

    imprint = hashlib.sha256(b"signed before the key was compromised").digest()
    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": imprint},
        "nonce": 42, "cert_req": True,
    }).dump()
    moment = pki.revoked.revoked_at.replace(microsecond=0) - __import__("datetime").timedelta(hours=2)
    with pki.clock.frozen_at(moment):
        reply = requests.post(pki.tsa_url, data=request, timeout=10).content
    token = tsp.TimeStampResp.load(reply)["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["gen_time"].native == moment
    assert info["nonce"].native == 42
    assert len(token["content"]["certificates"]) == 3  # TSA, gov, root on certReq


def test_pyhanko_time_stamper_and_validator_accept_our_tsa(pki):
    """The signer time-stamps with pyHanko's HTTP client pointed at /pki/tsa; pyHanko validates the token."""
    import asyncio

    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    digest = hashlib.sha256(b"Quyet dinh so 15/QD-UBND").digest()
    stamper = RequestsHTTPTimeStamper(pki.tsa_url, timeout=10)
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    context = ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True,
                                fetcher_backend=RequestsFetcherBackend(), revocation_mode="hard-fail")
    status = asyncio.run(validate_tst_signed_data(token["content"], context, lambda algorithm: digest))
    assert status["intact"] is True
    assert status["valid"] is True
    assert status["trust_problem_indic"] is None
    assert [c.subject.native["common_name"] for c in status["validation_path"]][-1] == "Dich vu cap dau thoi gian (Demo TSA)"
    assert status["signing_cert"].subject.native["common_name"] == "Dich vu cap dau thoi gian (Demo TSA)"


@pytest.mark.parametrize("fetch", ["ocsp", "crl"])
def test_pyhanko_certvalidator_fetches_our_revocation_data(pki, fetch):
    """pyhanko-certvalidator (the verifier's engine) fetches OCSP or CRLs from the served PKI, hard-fail."""
    import asyncio

    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    rule = RevocationCheckingRule.OCSP_REQUIRED if fetch == "ocsp" else RevocationCheckingRule.CRL_REQUIRED
    policy = CertRevTrustPolicy(RevocationCheckingPolicy(ee_certificate_rule=rule, intermediate_ca_cert_rule=rule))

    def context():
        return ValidationContext(trust_roots=pki.trust_roots, allow_fetching=True,
                                 fetcher_backend=RequestsFetcherBackend(), revinfo_policy=policy)

    good = CertificateValidator(pki.official_rsa.certificate, intermediate_certs=[pki.gov.certificate],
                                validation_context=context())
    path = asyncio.run(good.async_validate_usage({"non_repudiation"}))
    assert [c.subject.native["common_name"] for c in path] == [
        "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)", "Co quan chung thuc so Chinh phu (Demo)",
        "Nguyễn Văn An",
    ]
    revoked = CertificateValidator(pki.revoked.certificate, intermediate_certs=[pki.gov.certificate],
                                   validation_context=context())
    with pytest.raises(RevokedError) as caught:
        asyncio.run(revoked.async_validate_usage({"non_repudiation"}))
    source = "OCSP response" if fetch == "ocsp" else "CRL"
    moment = pki.revoked.revoked_at
    assert str(caught.value) == (f"{source} indicates the end-entity certificate was revoked at "
                                 f"{moment:%H:%M:%S} on {moment:%Y-%m-%d}, due to a compromised key.")
