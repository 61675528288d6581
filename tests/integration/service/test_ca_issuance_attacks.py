"""Issue 9, item 9, through the service and the CA: the root never issues an end-entity certificate; a name
with a bidi override or a control character is refused; a CSR naming another official's CCCD is refused
before anything is issued. Exact errors; nothing issued or enrolled on refusal. SQLite and PostgreSQL."""

import pytest
from asn1crypto import pem
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ca.errors import RequestRejected
from ca.requests import build_csr
from ledger.models import Certificate, Official
from signer.keys import InMemoryKey
from tests.integration.service.test_administration import SUBJECT, ca_world  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

OTHER_OFFICIAL = """agency_code,full_name,title,identifiers
H26.10,Lê Thị Mai,Giám đốc,CCCD:001190022222
"""


def _csr(subject) -> str:
    return pem.armor("CERTIFICATE REQUEST", build_csr(subject, InMemoryKey.generate_ec())).decode()


def _counts(world, authority):
    with Session(world.app.extensions["kyso"].engine) as db:
        roster = (db.scalar(select(func.count()).select_from(Official)),
                  db.scalar(select(func.count()).select_from(Certificate)))
    return roster, len(authority.store.certificates_of("gov")), len(authority.store.certificates_of("root"))


def test_root_issuing_an_end_entity_certificate_is_refused(ca_world):
    world, authority = ca_world
    admin = world.logged_in("admin")
    before = _counts(world, authority)
    answer = admin.post("/api/v1/certificates", json={"csr": _csr(SUBJECT), "profile": "personal",
                                                       "agency_code": "H26.10", "issuer": "root"})
    assert (answer.status_code, answer.json["message"]) == (
        400, "root CA root issues only subordinate CA certificates, not profile personal")
    assert _counts(world, authority) == before
    for profile in ("agency", "tsa", "ocsp"):
        with pytest.raises(RequestRejected) as caught:
            authority.issue(issuer="root", profile=profile, public_key=InMemoryKey.generate_ec().public_key_info(),
                            attributes=[("country_name", "VN"), ("organization_name", "Sở Nội vụ"),
                                        ("common_name", "Dịch vụ")])
        assert caught.value.english == f"root CA root issues only subordinate CA certificates, not profile {profile}"


@pytest.mark.parametrize("name, english", [
    ("Đỗ Thị Hoa\u202efdp.exe", "subject attribute CN contains a character that is not allowed: "
                                  "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("Đỗ Thị\u0007Hoa", "subject attribute CN contains a character that is not allowed: U+0007 (control character)"),
    ("Đỗ Thị\u2066Hoa", "subject attribute CN contains a character that is not allowed: "
                          "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
])
def test_name_with_bidi_or_control_characters_is_refused(ca_world, name, english):
    world, authority = ca_world
    admin = world.logged_in("admin")
    before = _counts(world, authority)
    subject = [(k, name if k == "common_name" else v) for k, v in SUBJECT]
    answer = admin.post("/api/v1/certificates", json={"csr": _csr(subject), "profile": "personal",
                                                       "agency_code": "H26.10"})
    assert (answer.status_code, answer.json["message"]) == (400, english)
    assert _counts(world, authority) == before


def test_csr_naming_another_officials_cccd_is_refused(ca_world):
    world, authority = ca_world
    admin = world.logged_in("admin")
    imported = admin.post("/api/v1/roster/officials", data=OTHER_OFFICIAL.encode(), content_type="text/csv")
    assert imported.json == {"imported": 1}
    before = _counts(world, authority)
    stolen = [(k, "CCCD:001190022222" if k == "user_id" else v) for k, v in SUBJECT]  # Đỗ Thị Hoa with Mai's CCCD
    answer = admin.post("/api/v1/certificates", json={"csr": _csr(stolen), "profile": "personal",
                                                       "agency_code": "H26.10"})
    assert answer.status_code == 409
    assert answer.json["message"] == ("CCCD:001190022222 belongs to another official on the roster (official 1, "
                                      "agency H26.10), not to 'Đỗ Thị Hoa' of H26.10")
    assert _counts(world, authority) == before
    # The official herself gets her certificate, attached to her roster entry.
    own = [(k, "CCCD:001190022222" if k == "user_id" else "Lê Thị Mai" if k == "common_name" else v)
           for k, v in SUBJECT]
    issued = admin.post("/api/v1/certificates", json={"csr": _csr(own), "profile": "personal", "agency_code": "H26.10"})
    assert issued.status_code == 201, issued.json
    with Session(world.app.extensions["kyso"].engine) as db:
        assert db.scalar(select(Certificate.official_id).where(Certificate.serial == issued.json["serial"])) == 1
