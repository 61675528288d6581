"""A failed enrolment takes its key pair back off the official's token (kyso.enrolment.enroll_token).

Both failures below happen after the key pair was generated on the token, in the CA's issuance: the CSR is
signed by the new key and read (its signature verified) before either refusal, so the key pair existed.
The token must then hold exactly the objects it held before (our listing and pkcs11-tool agree), the CA
database must be unchanged, and the error must be the CA's own, unchanged.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from ca.authority import Authority
from ca.endpoints import PkiEndpoints
from ca.errors import RequestRejected, StorageError
from ca.store import Store
from kyso.enrolment import enroll_token
from tests.support.pkcs11_tool import pkcs11_tool_objects
from tests.support.pki import build_small_authority
from tests.support.softhsm import PERSONAL_SUBJECT, provision_key
from token_bridge.keys import delete_objects, list_objects
from token_bridge.pin import RepeatingPinPrompt

pytestmark = pytest.mark.integration

TOKEN = "ca-enrolment-cleanup"


@pytest.fixture(scope="module")
def official_token(softhsm):
    """An official's token already holding a key pair and its certificate (they must survive)."""
    token = softhsm.create_token(TOKEN)
    provision_key(token, kind="ec", key_label="existing", key_id=b"\xe0", subject=PERSONAL_SUBJECT)
    yield token
    # Every test of the run shares one SoftHSM (the token bridge lists all its certificates): leave nothing.
    for obj in list_objects(token.session):
        delete_objects(token.session, key_id=obj.key_id, label=obj.label)
    assert list_objects(token.session) == []


@pytest.fixture
def authority(database_url):
    authority = build_small_authority(database_url)
    yield authority
    authority.store.close()


def _token_state(softhsm, token):
    ours = sorted((o.kind.value, o.label, o.key_id.hex(), o.certificate and hashlib.sha256(o.certificate).hexdigest())
                  for o in list_objects(token.session))
    return ours, pkcs11_tool_objects(softhsm.directory.environment(), token.label, token.user_pin)


def _enroll(authority, softhsm, token, **options):
    return enroll_token(
        authority, softhsm.module, token_label=token.label, pin_prompt=RepeatingPinPrompt(token.user_pin),
        profile="personal", attributes=PERSONAL_SUBJECT, key_label="Nguyen Thi Thu Ha", **options,
    )


@pytest.mark.parametrize("key_kind", ["rsa", "ec"])
def test_validity_refused_at_issuance_leaves_the_token_and_the_ca_database_as_they_were(
    softhsm, official_token, authority, key_kind
):
    before, judged_before = _token_state(softhsm, official_token)
    assert ("Private Key Object", "existing", "e0") in judged_before
    records_before = authority.store.table_contents()

    with pytest.raises(RequestRejected) as refused:
        _enroll(authority, softhsm, official_token, key_kind=key_kind, validity_days=5000)

    # The CA's refusal (Decree 68/2024: at most 5 years), unchanged and without a cleanup note.
    assert str(refused.value) == ("thời hạn vượt quá 1826 ngày cho phép của hồ sơ personal / "
                                  "validity exceeds the 1826 days allowed by profile personal")
    assert getattr(refused.value, "__notes__", []) == []
    assert _token_state(softhsm, official_token) == (before, judged_before)
    assert authority.store.table_contents() == records_before


def _read_only_url(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{quote(url.database)}?mode=ro&uri=true"
    return url.update_query_dict({"options": "-c default_transaction_read_only=on"}).render_as_string(
        hide_password=False
    )


def test_read_only_ca_database_leaves_the_token_and_the_ca_database_as_they_were(
    softhsm, official_token, authority, database_url
):
    """The CA signs, then cannot record the certificate: its database connection is read-only."""
    gov = authority.issuer("gov")
    read_only = Authority(store=Store.open(_read_only_url(database_url), migrate_schema=False),
                          endpoints=PkiEndpoints("http://pki.test"), clock=authority.clock)
    read_only.attach_issuer("gov", certificate=gov.certificate, key=gov.key, chain=gov.chain)
    before, judged_before = _token_state(softhsm, official_token)
    records_before = authority.store.table_contents()
    try:
        with pytest.raises(StorageError) as failed:
            _enroll(read_only, softhsm, official_token, key_kind="ec")
    finally:
        read_only.store.close()

    refusal = ("attempt to write a readonly database" if database_url.startswith("sqlite")
               else "cannot execute INSERT in a read-only transaction")
    assert str(failed.value).startswith("lỗi cơ sở dữ liệu: ")
    assert refusal in str(failed.value)
    assert getattr(failed.value, "__notes__", []) == []
    assert _token_state(softhsm, official_token) == (before, judged_before)
    assert authority.store.table_contents() == records_before


def test_a_successful_enrolment_after_a_failed_one_adds_its_key_pair_certificate_and_chain(
    softhsm, official_token, authority
):
    before, _ = _token_state(softhsm, official_token)
    with pytest.raises(RequestRejected):
        _enroll(authority, softhsm, official_token, key_kind="ec", validity_days=5000)
    enrolment = _enroll(authority, softhsm, official_token, key_kind="ec", validity_days=365)
    after, judged = _token_state(softhsm, official_token)
    added = sorted(set(after) - set(before))
    key_id = enrolment.key_id.hex()
    assert [(kind, label, object_id) for kind, label, object_id, _ in added] == sorted([
        ("certificate", "Demo Gov CA (small)", authority.issuer("gov").certificate.key_identifier.hex()),
        ("certificate", "Demo Root (small)", authority.issuer("root").certificate.key_identifier.hex()),
        ("certificate", "Nguyen Thi Thu Ha", key_id),
        ("private_key", "Nguyen Thi Thu Ha", key_id),
        ("public_key", "Nguyen Thi Thu Ha", key_id),
    ])
    assert ("Private Key Object", "Nguyen Thi Thu Ha", key_id) in judged
    assert len(authority.store.certificates_of("gov")) == 3  # OCSP, TSA and this official


def test_kyso_token_enroll_refused_at_issuance_leaves_no_key_pair(tmp_path):
    """The command an administrator runs, in its own process with its own home and SoftHSM directory."""
    home = tmp_path / "home"
    env = {**os.environ, "KYSO_HOME": str(home), "KYSO_CA_PIN": "4321", "KYSO_CA_SO_PIN": "87654321",
           "KYSO_TOKEN_PIN": "1111", "KYSO_TOKEN_SO_PIN": "22222222", "SOFTHSM2_CONF": str(home / "softhsm2.conf")}
    env.pop("KYSO_DATABASE_URL", None)

    def kyso(*args):
        return subprocess.run([sys.executable, "-m", "kyso", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    for step in (["pki", "init", "--base-url", "http://127.0.0.1:8470"], ["token", "init", "--label", "official-x"]):
        done = kyso(*step)
        assert done.returncode == 0, done.stderr
    database = Store.open(f"sqlite:///{home / 'kyso.db'}", migrate_schema=False)
    try:
        records_before = database.table_contents()
        before = pkcs11_tool_objects(env, "official-x", "1111")
        refused = kyso("token", "enroll", "--label", "official-x", "--profile", "personal", "--cn", "Lê Văn Xuân",
                       "--uid", "CCCD:001190099999", "--o", "UBND Phường Hoàn Kiếm", "--days", "5000")
        assert refused.returncode == 1
        assert ("thời hạn vượt quá 1826 ngày cho phép của hồ sơ personal / "
                "validity exceeds the 1826 days allowed by profile personal") in refused.stderr
        assert pkcs11_tool_objects(env, "official-x", "1111") == before
        assert database.table_contents() == records_before
    finally:
        database.close()
