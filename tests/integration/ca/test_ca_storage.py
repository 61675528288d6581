"""The authority's records on SQLite and on a real PostgreSQL: constraints, concurrency, refusals."""

from __future__ import annotations

import concurrent.futures

import pytest
import sqlalchemy as sa
from asn1crypto import csr as asn1_csr
from cryptography.hazmat.primitives.asymmetric import rsa

from ca.errors import InvalidCsr, RequestRejected, UnknownCertificate
from ca.requests import build_csr
from ca.revocation import RevocationReason
from ca.store import SerialTaken, Store, migrate
from signer.keys import InMemoryKey
from tests.support.pki import build_small_authority

pytestmark = pytest.mark.integration

PERSON = [("country_name", "VN"), ("organization_name", "UBND Phường Hoàn Kiếm"), ("title", "Chủ tịch"),
          ("common_name", "Nguyễn Văn An"), ("user_id", "CCCD:001085012345")]


@pytest.fixture
def authority(database_url):
    authority = build_small_authority(database_url)
    yield authority
    authority.store.close()


def test_migrations_keep_their_own_version_table_and_rerun_harmlessly(authority):
    migrate(authority.store.engine)
    with authority.store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM ca_alembic_version")).scalars().all() == ["ca0002"]
    tables = set(sa.inspect(authority.store.engine).get_table_names())
    assert {"ca_certificates", "ca_crls", "ca_timestamps", "ca_serial_blocks", "ca_alembic_version"} <= tables
    assert "alembic_version" not in tables


def test_twenty_concurrent_issuances_give_twenty_recorded_serials(authority):
    csrs = [build_csr(PERSON, InMemoryKey.generate_ec()) for _ in range(20)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        issued = list(pool.map(lambda csr: authority.issue_from_csr(csr, issuer="gov", profile="personal"), csrs))
    serials = {item.serial_number for item in issued}
    assert len(serials) == 20
    recorded = {record.serial_number for record in authority.store.certificates_of("gov")}
    assert serials <= recorded
    assert len(recorded) == 20 + 2  # plus the OCSP and TSA certificates


def test_the_database_refuses_a_duplicate_serial(authority):
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    before = authority.store.table_contents()
    with pytest.raises(SerialTaken):
        authority.store.record_certificate(issued.certificate, issuer="gov", profile="personal",
                                           issued_at=authority.clock())
    assert authority.store.table_contents() == before


def _forged_csr() -> bytes:
    request = asn1_csr.CertificationRequest.load(build_csr(PERSON, InMemoryKey.generate_ec()))
    other = asn1_csr.CertificationRequest.load(build_csr(PERSON, InMemoryKey.generate_ec()))
    return asn1_csr.CertificationRequest({
        "certification_request_info": request["certification_request_info"],
        "signature_algorithm": request["signature_algorithm"],
        "signature": other["signature"].native,
    }).dump()


BAD_REQUESTS = {
    "broken signature": (lambda: _forged_csr(), "personal", InvalidCsr,
                         "the CSR signature does not verify (no proof of possession of the key)"),
    "1024-bit key": (lambda: build_csr(PERSON, InMemoryKey(rsa.generate_private_key(public_exponent=65537, key_size=1024))),
                     "personal", RequestRejected, "RSA key of 1024 bits is too weak (minimum 2048)"),
    "subject violates profile": (lambda: build_csr(PERSON, InMemoryKey.generate_ec()), "agency", RequestRejected,
                                 "profile agency does not allow the subject attribute T"),
    "garbage": (lambda: b"garbage", "personal", InvalidCsr, "the certificate request is not a readable PKCS#10 CSR"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_refused_requests_change_nothing(authority, case):
    make, profile, error, english = BAD_REQUESTS[case]
    before = authority.store.table_contents()
    with pytest.raises(error) as caught:
        authority.issue_from_csr(make(), issuer="gov", profile=profile)
    assert caught.value.english == english
    assert authority.store.table_contents() == before


def test_revoking_unknown_serial_and_garbage_to_ocsp_change_nothing(authority):
    from asn1crypto import ocsp

    before = authority.store.table_contents()
    with pytest.raises(UnknownCertificate):
        authority.revoke(0x1234567890ABCDEF1234, reason=RevocationReason.KEY_COMPROMISE)
    assert ocsp.OCSPResponse.load(authority.respond_ocsp(b"\x00garbage"))["response_status"].native == "malformed_request"
    assert authority.store.table_contents() == before


def test_revocation_persists_across_stores(authority, database_url):
    issued = authority.issue_from_csr(build_csr(PERSON, InMemoryKey.generate_ec()), issuer="gov", profile="personal")
    moment = authority.clock()
    with authority.clock.frozen_at(moment):
        authority.revoke(issued.serial_number, reason=RevocationReason.CESSATION_OF_OPERATION)
    again = authority.revoke(issued.serial_number, reason=RevocationReason.KEY_COMPROMISE)
    assert again.newly_revoked is False
    other = Store.open(database_url)
    try:
        record = other.find_certificate(issued.serial_number)
        assert record.revocation_reason is RevocationReason.CESSATION_OF_OPERATION
        assert record.revoked_at == moment
        assert [entry.serial_number for entry in other.revoked_entries("gov")] == [issued.serial_number]
    finally:
        other.close()


def test_concurrent_crl_publications_get_distinct_increasing_numbers(authority):
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        published = list(pool.map(lambda _: authority.publish_crl("gov"), range(10)))
    numbers = sorted(crl.crl_number_value.native for crl in published)
    assert numbers == list(range(1, 11))
    with authority.store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT number FROM ca_crls WHERE issuer = 'gov' ORDER BY number")).scalars().all()
    assert stored == list(range(1, 11))


def _publish_from_another_process(database_url: str, key_pem: bytes, certificate_der: bytes, count: int) -> list[int]:
    from asn1crypto import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from ca.authority import Authority
    from ca.endpoints import PkiEndpoints

    store = Store.open(database_url, migrate_schema=False)
    authority = Authority(store=store, endpoints=PkiEndpoints("http://pki.test"))
    authority.attach_issuer("gov", certificate=x509.Certificate.load(certificate_der),
                            key=InMemoryKey(load_pem_private_key(key_pem, None)))
    try:
        return [authority.publish_crl("gov").crl_number_value.native for _ in range(count)]
    finally:
        store.close()


def test_crl_numbers_stay_unique_across_processes(authority, database_url):
    """Processes do not share the in-process lock: the (issuer, number) constraint keeps them apart."""
    import multiprocessing

    from cryptography.hazmat.primitives import serialization

    gov = authority.issuer("gov")
    key_pem = gov.key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.starmap(_publish_from_another_process,
                               [(database_url, key_pem, gov.certificate.dump(), 5)] * 3)
    numbers = sorted(n for result in results for n in result)
    assert numbers == list(range(1, 16))
