"""The declarative test PKI: one declaration, built once per session with our own `ca/`, served on loopback.

Modelled on VGCA (DOMAIN.md) the way certomancer declares a PKI: `DECLARATION` below lists the CAs and end
entities; the session fixture `pki` builds them with `ca.authority.Authority` (in-memory keys: tests only),
records everything in a SQLite database of the session, and serves the PKI HTTP endpoints on a loopback
port chosen *before* issuing, so the AIA and CRL distribution point URLs in every certificate are right.

Fixture API (session scope):

    pki                        -> TestPki, built and served for the whole session
    pki.base_url               "http://127.0.0.1:PORT"; pki.ocsp_url, pki.tsa_url, pki.crl_url("gov")
    pki.root, pki.gov          CA entities: "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)"
                               (RSA-2048) and the issuing CA for state agencies (RSA-2048)
    pki.tsa, pki.ocsp          the TSA (EC P-256, EKU timeStamping) and the gov OCSP responder (EC P-256)
    pki.official_rsa           personal RSA-2048: Nguyễn Văn An, UID=CCCD:001085012345, T=Chánh Văn phòng
    pki.official_ec            personal EC P-256: Trần Thị Bình, UID=CCCD:001190054321, T=Phó Chủ tịch
    pki.agency_ec              agency seal EC P-256: UBND Phường Hoàn Kiếm, UID=MST:0101234567
    pki.agency_rsa             agency seal RSA-2048: Sở Nội vụ Thành phố Hà Nội, UID=MST:0100686209-199
    pki.revoked                personal EC P-256 revoked (keyCompromise) at pki.revoked.revoked_at
                               (= pki.anchor - 1 day), already in the published CRL
    pki.expired                personal EC P-256, valid from anchor-400d to anchor-35d
    pki.anchor                 the build time (UTC, whole seconds); end entities are valid from anchor-30d
    entity.key                 an InMemoryKey (DigestSigner); entity.key.private_key for stock pyHanko
    entity.certificate         asn1crypto x509.Certificate; entity.der / entity.pem
    entity.chain               issuer first, up to and including the root (asn1crypto certificates)
    pki.trust_roots            [root certificate]; pki.crl_der("gov"|"root") the current CRL
    pki.entity(name)           any entity by its declared name
    pki.issue(name, profile=, attributes=, key=None, issuer="gov") -> a new TestEntity (fresh EC key)
    pki.clock.frozen_at(dt)    context manager: the authority's clock (OCSP producedAt, TSA genTime,
                               CRL thisUpdate) reads `dt` inside the block; e.g. a genTime before revocation
    pki.authority              the ca.authority.Authority behind it all (store, revoke, publish_crl, ...)
    pki.write_pem(directory)   writes <name>.pem for every entity and <ca>.crl.pem; returns the directory

Helpers (plain functions):
    build_small_authority(database_url, base_url=..., clock=None) -> a fresh Authority (EC root "root",
                               issuing CA "gov", delegated OCSP, TSA) for tests that revoke or count rows
    ocsp_request(issuer_certificate, serial, nonce=..., algorithm="sha1") -> DER OCSPRequest
    time_stamp_request(data, algorithm="sha256", nonce=7, cert_req=True, policy=None) -> DER TimeStampReq

Only `ca/` builds this PKI (DESIGN.md: the product issues certificates itself).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import pem, x509

from ca.authority import Authority, OcspResponder, TimeStampUnit
from ca.endpoints import PkiEndpoints
from ca.requests import build_csr
from ca.revocation import RevocationReason
from ca.store import Store
from service.pki import create_pki_app
from signer.keys import InMemoryKey

ORG_CA = "Ban Co yeu Chinh phu"

# name -> declaration. `issuer` None: a self-signed root. `key`: ("rsa", bits) or ("ec", curve).
# `valid`: (days before the anchor, days after the anchor); None takes the profile's default from anchor-30d.
DECLARATION: dict[str, dict] = {
    "root": {
        "issuer": None, "profile": "root-ca", "key": ("rsa", 2048), "valid": (1095, 6205),
        "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                       ("common_name", "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)")],
    },
    "gov": {
        "issuer": "root", "profile": "issuing-ca", "key": ("rsa", 2048), "valid": (730, 2920),
        "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                       ("common_name", "Co quan chung thuc so Chinh phu (Demo)")],
    },
    "tsa": {
        "issuer": "gov", "profile": "tsa", "key": ("ec", "secp256r1"), "valid": (30, 1800),
        "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                       ("common_name", "Dich vu cap dau thoi gian (Demo TSA)")],
    },
    "ocsp": {
        "issuer": "gov", "profile": "ocsp", "key": ("ec", "secp256r1"), "valid": (30, 365),
        "attributes": [("country_name", "VN"), ("organization_name", ORG_CA),
                       ("common_name", "OCSP Co quan chung thuc so Chinh phu (Demo)")],
    },
    "official_rsa": {
        "issuer": "gov", "profile": "personal", "key": ("rsa", 2048), "valid": None,
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Thành phố Hà Nội"),
                       ("organizational_unit_name", "Phòng Hành chính - Tổ chức"),
                       ("organizational_unit_name", "Văn phòng UBND Thành phố"),
                       ("title", "Chánh Văn phòng"), ("common_name", "Nguyễn Văn An"),
                       ("user_id", "CCCD:001085012345")],
    },
    "official_ec": {
        "issuer": "gov", "profile": "personal", "key": ("ec", "secp256r1"), "valid": None,
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Phường Hoàn Kiếm"),
                       ("organizational_unit_name", "Lãnh đạo UBND Phường"),
                       ("title", "Phó Chủ tịch"), ("common_name", "Trần Thị Bình"),
                       ("user_id", "CCCD:001190054321")],
    },
    "agency_ec": {
        "issuer": "gov", "profile": "agency", "key": ("ec", "secp256r1"), "valid": None,
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Thành phố Hà Nội"),
                       ("common_name", "UBND Phường Hoàn Kiếm"), ("user_id", "MST:0101234567")],
    },
    "agency_rsa": {
        "issuer": "gov", "profile": "agency", "key": ("rsa", 2048), "valid": None,
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Thành phố Hà Nội"),
                       ("common_name", "Sở Nội vụ Thành phố Hà Nội"), ("user_id", "MST:0100686209-199")],
    },
    "revoked": {
        "issuer": "gov", "profile": "personal", "key": ("ec", "secp256r1"), "valid": None,
        "revoke": (RevocationReason.KEY_COMPROMISE, 1),  # reason, days before the anchor
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Phường Ba Đình"),
                       ("title", "Chủ tịch"), ("common_name", "Lê Văn Cường"),
                       ("user_id", "CCCD:001080099999")],
    },
    "expired": {
        "issuer": "gov", "profile": "personal", "key": ("ec", "secp256r1"), "valid": (400, -35),
        "attributes": [("country_name", "VN"), ("locality_name", "Hà Nội"),
                       ("organization_name", "UBND Phường Đống Đa"),
                       ("title", "Phó Chủ tịch"), ("common_name", "Phạm Thị Dung"),
                       ("user_id", "CMND:012345678")],
    },
}


class SettableClock:
    """The authority's clock: real UTC time unless a test freezes it (`with pki.clock.frozen_at(dt):`)."""

    def __init__(self):
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        frozen = self._frozen
        if frozen is not None:
            return frozen
        return datetime.now(timezone.utc).replace(microsecond=0)

    @contextlib.contextmanager
    def frozen_at(self, moment: datetime):
        with self._lock:
            self._frozen = moment.astimezone(timezone.utc).replace(microsecond=0)
            try:
                yield self
            finally:
                self._frozen = None


@dataclass(frozen=True)
class TestEntity:
    __test__ = False  # not a pytest test class

    name: str
    profile: str
    key: InMemoryKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    revoked_at: datetime | None = None
    revocation_reason: RevocationReason | None = None

    @property
    def der(self) -> bytes:
        return self.certificate.dump()

    @property
    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.certificate.dump())

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number


class TestPki:
    __test__ = False

    def __init__(self, *, authority: Authority, entities: dict[str, TestEntity], anchor: datetime,
                 clock: SettableClock):
        self.authority = authority
        self.entities = entities
        self.anchor = anchor
        self.clock = clock

    def __getattr__(self, name: str) -> TestEntity:
        entities = self.__dict__.get("entities", {})
        if name in entities:
            return entities[name]
        raise AttributeError(name)

    def entity(self, name: str) -> TestEntity:
        return self.entities[name]

    @property
    def base_url(self) -> str:
        return self.authority.endpoints.base_url

    @property
    def ocsp_url(self) -> str:
        return self.authority.endpoints.ocsp_url

    @property
    def tsa_url(self) -> str:
        return self.authority.endpoints.tsa_url

    def crl_url(self, ca_name: str) -> str:
        return self.authority.endpoints.crl_url(ca_name)

    @property
    def trust_roots(self) -> list[x509.Certificate]:
        return [self.entities["root"].certificate]

    def crl_der(self, ca_name: str) -> bytes:
        return self.authority.current_crl(ca_name)

    def issue(self, name: str, *, profile: str, attributes, key: InMemoryKey | None = None,
              issuer: str = "gov", **validity) -> TestEntity:
        """Issue one more end entity (through a CSR) for a test of its own."""
        key = key or InMemoryKey.generate_ec()
        issued = self.authority.issue_from_csr(
            build_csr(attributes, key), issuer=issuer, profile=profile, **validity
        )
        entity = TestEntity(name, profile, key, issued.certificate, issued.chain)
        self.entities.setdefault(name, entity)
        return entity

    def write_pem(self, directory: Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, entity in self.entities.items():
            (directory / f"{name}.pem").write_bytes(entity.pem)
        for ca_name in self.authority.issuers:
            (directory / f"{ca_name}.crl.pem").write_bytes(pem.armor("X509 CRL", self.crl_der(ca_name)))
        return directory


def _generate(spec) -> InMemoryKey:
    kind, size = spec
    return InMemoryKey.generate_rsa(size) if kind == "rsa" else InMemoryKey.generate_ec(size)


def build_test_pki(*, base_url: str, database_url: str, declaration=None) -> TestPki:
    """Build every CA and entity of `declaration` (default `DECLARATION`) with our own `ca/`."""
    declaration = declaration or DECLARATION
    clock = SettableClock()
    anchor = clock()
    store = Store.open(database_url)
    authority = Authority(store=store, endpoints=PkiEndpoints(base_url), clock=clock)
    entities: dict[str, TestEntity] = {}

    def window(spec):
        if spec.get("valid") is None:
            return {"not_before": anchor - timedelta(days=30)}
        before, after = spec["valid"]
        return {"not_before": anchor - timedelta(days=before), "not_after": anchor + timedelta(days=after)}

    for name, spec in declaration.items():
        key = _generate(spec["key"])
        if spec["issuer"] is None:
            issuer = authority.create_root(name, attributes=spec["attributes"], key=key, **window(spec))
            entities[name] = TestEntity(name, spec["profile"], key, issuer.certificate, ())
            continue
        if spec["profile"] == "issuing-ca":
            issuer = authority.create_subordinate(
                name, parent=spec["issuer"], attributes=spec["attributes"], key=key, **window(spec)
            )
            entities[name] = TestEntity(name, spec["profile"], key, issuer.certificate, issuer.chain)
            continue
        issued = authority.issue_from_csr(
            build_csr(spec["attributes"], key), issuer=spec["issuer"], profile=spec["profile"], **window(spec)
        )
        revoked_at = reason = None
        if "revoke" in spec:
            reason, days = spec["revoke"]
            revoked_at = anchor - timedelta(days=days)
            authority.revoke(issued.serial_number, reason=reason, revoked_at=revoked_at)
        entities[name] = TestEntity(
            name, spec["profile"], key, issued.certificate, issued.chain, revoked_at, reason
        )
        if spec["profile"] == "ocsp":
            authority.set_ocsp_responder(
                spec["issuer"], OcspResponder(issued.certificate, key, delegated=True)
            )
        elif spec["profile"] == "tsa":
            authority.set_time_stamp_unit(TimeStampUnit(issued.certificate, key, issued.chain))
    for ca_name in authority.issuers:
        authority.publish_crl(ca_name)
    return TestPki(authority=authority, entities=entities, anchor=anchor, clock=clock)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPki:
    """The session's test PKI, served on a loopback port (see the module docstring)."""
    from tests.support.servers import free_port, serve_wsgi

    port = free_port()
    directory = tmp_path_factory.mktemp("test-pki")
    built = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{directory / 'ca.db'}")
    with serve_wsgi(create_pki_app(built.authority), port=port):
        yield built
    built.authority.store.close()


def build_small_authority(database_url: str, *, base_url: str = "http://pki.test", clock=None) -> Authority:
    """A fresh authority (EC root "root", issuing CA "gov", delegated OCSP, TSA) on `database_url`.

    For tests that revoke or count rows and so must not touch the session PKI; EC keys keep it fast.
    """
    clock = clock or SettableClock()
    now = clock()
    org = ("organization_name", ORG_CA)
    authority = Authority(store=Store.open(database_url), endpoints=PkiEndpoints(base_url), clock=clock)
    authority.create_root("root", key=InMemoryKey.generate_ec("secp384r1"), not_before=now - timedelta(days=365),
                          attributes=[("country_name", "VN"), org, ("common_name", "Demo Root (small)")])
    authority.create_subordinate("gov", parent="root", key=InMemoryKey.generate_ec(),
                                 not_before=now - timedelta(days=300),
                                 attributes=[("country_name", "VN"), org, ("common_name", "Demo Gov CA (small)")])
    ocsp_key, tsa_key = InMemoryKey.generate_ec(), InMemoryKey.generate_ec()
    ocsp = authority.issue(issuer="gov", profile="ocsp", public_key=ocsp_key.public_key_info(),
                           attributes=[("country_name", "VN"), org, ("common_name", "Demo OCSP (small)")])
    authority.set_ocsp_responder("gov", OcspResponder(ocsp.certificate, ocsp_key, delegated=True))
    tsa = authority.issue(issuer="gov", profile="tsa", public_key=tsa_key.public_key_info(),
                          attributes=[("country_name", "VN"), org, ("common_name", "Demo TSA (small)")])
    authority.set_time_stamp_unit(TimeStampUnit(tsa.certificate, tsa_key, tsa.chain))
    return authority


def ocsp_request(issuer_certificate: x509.Certificate, serial_number: int, *,
                 nonce: bytes | None = b"nonce-0123456789", algorithm: str = "sha1") -> bytes:
    """A DER OCSP request (RFC 6960) for one certificate of `issuer_certificate`."""
    import hashlib

    from asn1crypto import ocsp

    cert_id = {
        "hash_algorithm": {"algorithm": algorithm},
        "issuer_name_hash": hashlib.new(algorithm, issuer_certificate.subject.dump()).digest(),
        "issuer_key_hash": hashlib.new(algorithm, issuer_certificate.public_key["public_key"].contents[1:]).digest(),
        "serial_number": serial_number,
    }
    tbs = {"request_list": [{"req_cert": cert_id}]}
    if nonce is not None:
        tbs["request_extensions"] = [{"extn_id": "nonce", "extn_value": nonce}]
    return ocsp.OCSPRequest({"tbs_request": tbs}).dump()


def time_stamp_request(data: bytes, *, algorithm: str = "sha256", nonce: int | None = 7, cert_req: bool = True,
                       policy: str | None = None, imprint: bytes | None = None) -> bytes:
    """A DER RFC 3161 TimeStampReq for `data` (or for an explicit `imprint`)."""
    import hashlib

    from asn1crypto import algos, tsp

    request = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
                            "hashed_message": imprint if imprint is not None else hashlib.new(algorithm, data).digest()},
        "nonce": nonce,
        "cert_req": cert_req,
    }
    if policy:
        request["req_policy"] = policy
    return tsp.TimeStampReq(request).dump()
