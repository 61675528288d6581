"""A small authority for unit tests: EC keys (fast), SQLite in a temporary folder, a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ca.authority import Authority, OcspResponder, TimeStampUnit
from ca.endpoints import PkiEndpoints
from ca.store import Store
from signer.keys import InMemoryKey

NOW = datetime(2026, 11, 29, 2, 37, 36, tzinfo=timezone.utc)
CA_ORG = ("organization_name", "Ban Co yeu Chinh phu")
PERSON = [("country_name", "VN"), ("locality_name", "Hà Nội"), ("organization_name", "UBND Phường Hoàn Kiếm"),
          ("title", "Chủ tịch"), ("common_name", "Nguyễn Văn An"), ("user_id", "CCCD:001085012345")]
AGENCY = [("country_name", "VN"), ("organization_name", "UBND Thành phố Hà Nội"),
          ("common_name", "UBND Phường Hoàn Kiếm"), ("user_id", "MST:0101234567")]


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def authority(tmp_path, clock) -> Authority:
    store = Store.open(f"sqlite:///{tmp_path / 'ca.db'}")
    authority = Authority(store=store, endpoints=PkiEndpoints("http://pki.test"), clock=clock)
    authority.create_root(
        "root", key=InMemoryKey.generate_ec("secp384r1"), not_before=NOW - timedelta(days=365),
        attributes=[("country_name", "VN"), CA_ORG, ("common_name", "Demo Root")],
    )
    authority.create_subordinate(
        "gov", parent="root", key=InMemoryKey.generate_ec(), not_before=NOW - timedelta(days=300),
        attributes=[("country_name", "VN"), CA_ORG, ("common_name", "Demo Gov CA")],
    )
    ocsp_key = InMemoryKey.generate_ec()
    ocsp = authority.issue(issuer="gov", profile="ocsp", public_key=ocsp_key.public_key_info(),
                           attributes=[("country_name", "VN"), CA_ORG, ("common_name", "Demo OCSP")])
    authority.set_ocsp_responder("gov", OcspResponder(ocsp.certificate, ocsp_key, delegated=True))
    tsa_key = InMemoryKey.generate_ec()
    tsa = authority.issue(issuer="gov", profile="tsa", public_key=tsa_key.public_key_info(),
                          attributes=[("country_name", "VN"), CA_ORG, ("common_name", "Demo TSA")])
    authority.set_time_stamp_unit(TimeStampUnit(tsa.certificate, tsa_key, tsa.chain))
    yield authority
    store.close()
