"""The CA of a kyso home through its commands, CA keys on a SoftHSM token, judged by openssl and pkcs11-tool.

Every command runs as a separate `kyso` process (as an administrator runs it): SoftHSM must be configured
before it loads, and the home has a token directory of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from asn1crypto import pem, x509

from tests.support.servers import free_port

pytestmark = pytest.mark.integration

KYSO = [sys.executable, "-m", "kyso"]
CA_PIN, CA_SO_PIN, TOKEN_PIN, TOKEN_SO_PIN = "4321", "87654321", "1111", "22222222"


def run(*args, env=None, check=True, timeout=120) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class Home:
    def __init__(self, path: Path, port: int):
        self.path = path
        self.port = port
        self.env = {**os.environ, "KYSO_HOME": str(path), "KYSO_CA_PIN": CA_PIN, "KYSO_CA_SO_PIN": CA_SO_PIN,
                    "KYSO_TOKEN_PIN": TOKEN_PIN, "KYSO_TOKEN_SO_PIN": TOKEN_SO_PIN,
                    "SOFTHSM2_CONF": str(path / "softhsm2.conf")}
        self.env.pop("KYSO_DATABASE_URL", None)

    def kyso(self, *args, check=True) -> subprocess.CompletedProcess:
        return run(*KYSO, *args, env=self.env, check=check)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pki_file(self, name: str) -> Path:
        return self.path / "pki" / name

    def table_contents(self) -> dict:
        engine = sa.create_engine(f"sqlite:///{self.path / 'kyso.db'}")
        try:
            with engine.connect() as connection:
                return {table: connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
                        for table in ("ca_certificates", "ca_crls", "ca_timestamps")}
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    port = free_port()
    home = Home(tmp_path_factory.mktemp("kyso-home"), port)
    created = home.kyso("pki", "init", "--base-url", home.base_url)
    assert "PKI created in" in created.stdout
    server = subprocess.Popen([*KYSO, "ca", "serve"], env=home.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                if requests.get(f"{home.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            server.kill()
            raise AssertionError(f"kyso ca serve did not start: {server.communicate()[1].decode()}")
        yield home
    finally:
        server.terminate()
        server.wait(timeout=10)


def openssl_csr(directory: Path, name: str, subject: str, *, key: str = "ec") -> Path:
    key_args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", key]
    csr = directory / f"{name}.csr"
    run("openssl", "req", "-new", *key_args, "-nodes", "-keyout", str(directory / f"{name}.key"),
        "-out", str(csr), "-utf8", "-subj", subject)
    return csr


def test_init_is_idempotent_and_keys_live_on_the_token(home):
    before = home.table_contents()
    again = home.kyso("pki", "init")
    assert "PKI already initialised" in again.stdout
    assert home.table_contents() == before
    listing = run("pkcs11-tool", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "kyso-ca",
                  "--login", "--pin", CA_PIN, "--list-objects", env=home.env).stdout
    for label in ("root", "gov", "ocsp", "tsa"):
        assert f"label:      {label}\n" in listing
    assert listing.count("Private Key Object") == 4
    assert "never extractable" in listing
    root = x509.Certificate.load(home.pki_file("root.crt").read_bytes())
    assert root.subject.native["common_name"] == "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)"
    assert root.self_signed == "maybe"


def test_openssl_verify_accepts_then_rejects_after_revocation_and_new_crl(home, tmp_path):
    csr = openssl_csr(tmp_path, "an", "/C=VN/L=Hà Nội/O=UBND Phường Hoàn Kiếm/OU=Văn phòng/title=Chủ tịch"
                                      "/CN=Nguyễn Văn An/UID=CCCD:001085012345")
    certificate = tmp_path / "an.pem"
    home.kyso("ca", "issue", str(csr), "--profile", "personal", "--out", str(certificate))
    crls = tmp_path / "crls.pem"

    def verify() -> subprocess.CompletedProcess:
        crls.write_bytes(b"".join(pem.armor("X509 CRL", home.pki_file(f"{n}.crl").read_bytes()) for n in ("gov", "root")))
        return run("openssl", "verify", "-crl_check_all", "-CRLfile", str(crls), "-CAfile", str(home.pki_file("root.pem")),
                   "-untrusted", str(home.pki_file("gov.pem")), str(certificate), check=False)

    assert verify().stdout.strip() == f"{certificate}: OK"
    serial = run("openssl", "x509", "-in", str(certificate), "-noout", "-serial").stdout.strip().split("=")[1]
    revoked = home.kyso("ca", "revoke", serial, "--reason", "keyCompromise")
    assert f"revoked {serial.lstrip('0')}" in revoked.stdout
    assert verify().stdout.strip() == f"{certificate}: OK"  # the old CRL does not know yet
    published = home.kyso("ca", "crl", "--issuer", "gov")
    assert "1 revoked" in published.stdout
    rejected = verify()
    assert rejected.returncode == 2
    assert "certificate revoked" in rejected.stdout + rejected.stderr


def test_openssl_ocsp_good_then_revoked_with_reason(home, tmp_path):
    csr = openssl_csr(tmp_path, "binh", "/C=VN/O=UBND Phường Hoàn Kiếm/CN=Trần Thị Bình/UID=CCCD:001190054321")
    certificate = tmp_path / "binh.pem"
    home.kyso("ca", "issue", str(csr), "--profile", "personal", "--out", str(certificate))

    def ask() -> subprocess.CompletedProcess:
        return run("openssl", "ocsp", "-issuer", str(home.pki_file("gov.pem")), "-cert", str(certificate),
                   "-url", f"{home.base_url}/pki/ocsp", "-CAfile", str(home.pki_file("root.pem")),
                   "-verify_other", str(home.pki_file("gov.pem")))

    good = ask()
    assert "Response verify OK" in good.stderr
    assert f"{certificate}: good" in good.stdout
    serial = run("openssl", "x509", "-in", str(certificate), "-noout", "-serial").stdout.strip().split("=")[1]
    home.kyso("ca", "revoke", serial, "--reason", "affiliationChanged")
    revoked = ask()
    assert "Response verify OK" in revoked.stderr
    assert f"{certificate}: revoked" in revoked.stdout
    assert "Reason: affiliationChanged" in revoked.stdout


def test_openssl_ts_query_through_the_served_tsa(home, tmp_path):
    data = tmp_path / "vanban.txt"
    data.write_text("Quyết định số 15/QĐ-UBND\n", encoding="utf-8")
    query = tmp_path / "q.tsq"
    run("openssl", "ts", "-query", "-data", str(data), "-sha512", "-cert", "-out", str(query))
    reply = requests.post(f"{home.base_url}/pki/tsa", data=query.read_bytes(), timeout=30)
    (tmp_path / "r.tsr").write_bytes(reply.content)
    verified = run("openssl", "ts", "-verify", "-data", str(data), "-in", str(tmp_path / "r.tsr"),
                   "-CAfile", str(home.pki_file("root.pem")), "-untrusted", str(home.pki_file("gov.pem")))
    assert verified.stdout.strip() == "Verification: OK"
    # The token's record is written in a batch (ca.store.JOURNAL_DELAY_SECONDS): it appears shortly after.
    from ca.tsa import TimeStampResponse

    token = TimeStampResponse.load(reply.content)["time_stamp_token"]["content"]
    serial = format(token["encap_content_info"]["content"].parsed["serial_number"].native, "x")
    deadline = time.monotonic() + 20
    while serial not in [row[1] for row in home.table_contents()["ca_timestamps"]] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert serial in [row[1] for row in home.table_contents()["ca_timestamps"]]


def test_served_endpoints_never_answer_500_to_garbage(home):
    from asn1crypto import ocsp

    from ca.tsa import TimeStampResponse

    garbage = requests.post(f"{home.base_url}/pki/ocsp", data=b"\xff" * 50, timeout=10)
    assert garbage.status_code == 200
    assert ocsp.OCSPResponse.load(garbage.content)["response_status"].native == "malformed_request"
    by_get = requests.get(f"{home.base_url}/pki/ocsp/not%2Bbase64!!", timeout=10)
    assert ocsp.OCSPResponse.load(by_get.content)["response_status"].native == "malformed_request"
    tsa = requests.post(f"{home.base_url}/pki/tsa", data=b"garbage", timeout=10)
    assert tsa.status_code == 200
    assert TimeStampResponse.load(tsa.content)["status"]["fail_info"].native == {"bad_request"}
    huge = requests.post(f"{home.base_url}/pki/tsa", data=b"\x00" * (70 * 1024), timeout=10)
    assert huge.status_code == 413


def test_bad_inputs_to_the_commands_change_nothing(home, tmp_path):
    weak = openssl_csr(tmp_path, "weak", "/C=VN/O=X/CN=Y/UID=CCCD:001190054321", key="rsa:1024")
    person_as_agency = openssl_csr(tmp_path, "p", "/C=VN/O=UBND/CN=Lê Văn C/UID=CCCD:001190054321")
    broken = tmp_path / "broken.csr"
    raw = bytearray(subprocess.run(["openssl", "req", "-in", str(person_as_agency), "-outform", "DER"],
                                   capture_output=True).stdout)
    raw[-5] ^= 0x01  # flip a bit of the signature
    broken.write_bytes(bytes(raw))
    before = home.table_contents()
    cases = [
        (["ca", "issue", str(weak), "--profile", "personal"], "RSA key of 1024 bits is too weak (minimum 2048)"),
        (["ca", "issue", str(person_as_agency), "--profile", "agency"],
         "profile agency does not allow a CCCD identifier (allowed: MST, MNS)"),
        (["ca", "issue", str(broken), "--profile", "personal"],
         "the CSR signature does not verify (no proof of possession of the key)"),
        (["ca", "revoke", "ABCDEF0123456789", "--reason", "keyCompromise"],
         "no certificate with serial ABCDEF0123456789 was issued here"),
        (["ca", "revoke", "ABCDEF0123456789", "--reason", "lost"], "unknown revocation reason 'lost'"),
    ]
    for args, english in cases:
        result = home.kyso(*args, check=False)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert english in result.stderr
        assert " / " in result.stderr  # Vietnamese first, then English
    assert home.table_contents() == before


def test_token_enrolment_writes_key_certificate_and_chain(home):
    home.kyso("token", "init", "--label", "official-an")
    enrolled = home.kyso("token", "enroll", "--label", "official-an", "--profile", "personal",
                         "--cn", "Nguyễn Văn An", "--uid", "CCCD:001085012345", "--o", "UBND Phường Hoàn Kiếm",
                         "--ou", "Văn phòng", "--ou", "Lãnh đạo", "--title", "Chủ tịch", "--l", "Hà Nội",
                         "--key-label", "an-signing")
    assert "issued and written to token 'official-an'" in enrolled.stdout
    listing = run("pkcs11-tool", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "official-an",
                  "--login", "--pin", TOKEN_PIN, "--list-objects", env=home.env).stdout
    blocks = [block for block in listing.split("\n") if block.strip()]
    ids = {}
    for kind in ("Private Key Object; RSA", "Certificate Object; type = X.509 cert"):
        start = next(i for i, line in enumerate(blocks) if line.startswith(kind) and "an-signing" in "".join(blocks[i:i + 3]))
        ids[kind] = next(line.split()[1] for line in blocks[start:start + 6] if line.strip().startswith("ID:"))
    assert ids["Private Key Object; RSA"] == ids["Certificate Object; type = X.509 cert"]
    assert "never extractable" in listing
    assert "label:      Co quan chung thuc so Chinh phu (Demo)" in listing
    assert "label:      Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)" in listing
    ec = home.kyso("token", "enroll", "--label", "official-an", "--profile", "agency", "--cn", "UBND Phường Hoàn Kiếm",
                   "--uid", "MST:0101234567", "--o", "UBND Thành phố Hà Nội", "--key", "ec", "--key-label", "seal")
    assert "issued and written" in ec.stdout
    objects = home.kyso("token", "list", "--label", "official-an", "--format", "json").stdout
    import json

    listed = next(t for t in json.loads(objects)["tokens"] if t["label"] == "official-an")["objects"]
    kinds = sorted((o["kind"], o["label"], o["key_algorithm"]) for o in listed if o["label"] in ("an-signing", "seal"))
    assert kinds == [("certificate", "an-signing", None), ("certificate", "seal", None),
                     ("private_key", "an-signing", "rsa"), ("private_key", "seal", "ec"),
                     ("public_key", "an-signing", "rsa"), ("public_key", "seal", "ec")]


def test_enrolment_refuses_a_subject_outside_the_profile_before_touching_the_token(home):
    home.kyso("token", "init", "--label", "official-bad")
    before = home.table_contents()
    refused = home.kyso("token", "enroll", "--label", "official-bad", "--profile", "agency", "--cn", "Lê Văn C",
                        "--uid", "CCCD:001190054321", "--o", "UBND", "--title", "Chủ tịch", check=False)
    assert refused.returncode == 1
    assert "profile agency does not allow the subject attribute T" in refused.stderr
    assert home.table_contents() == before
    listing = run("pkcs11-tool", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "official-bad",
                  "--login", "--pin", TOKEN_PIN, "--list-objects", env=home.env).stdout
    assert "Private Key Object" not in listing


def test_list_and_renew(home, tmp_path):
    import json

    csr = openssl_csr(tmp_path, "dung", "/C=VN/O=UBND Phường Đống Đa/CN=Phạm Thị Dung/UID=CMND:012345678")
    first = tmp_path / "dung.pem"
    home.kyso("ca", "issue", str(csr), "--profile", "personal", "--days", "365", "--out", str(first))
    serial = run("openssl", "x509", "-in", str(first), "-noout", "-serial").stdout.strip().split("=")[1]
    renewed = tmp_path / "renewed.pem"
    done = home.kyso("ca", "renew", serial, "--out", str(renewed))
    assert f"renewed {serial.lstrip('0')} as" in done.stderr
    old_subject = run("openssl", "x509", "-in", str(first), "-noout", "-subject", "-nameopt", "utf8").stdout
    assert run("openssl", "x509", "-in", str(renewed), "-noout", "-subject", "-nameopt", "utf8").stdout == old_subject
    listed = json.loads(home.kyso("ca", "list", "--format", "json").stdout)["certificates"]
    dung = [c for c in listed if "CMND:012345678" in c["subject"]]
    assert len(dung) == 2
    assert all(c["revoked_at"] is None and c["profile"] == "personal" for c in dung)
    too_long = home.kyso("ca", "renew", serial, "--days", "5000", check=False)
    assert too_long.returncode == 1
    assert "a renewal extends the validity by at most 1096 days" in too_long.stderr


def test_enrolment_and_revocation_keep_the_roster_current(home, tmp_path):
    agencies = tmp_path / "agencies.csv"
    agencies.write_text("code,legacy_code,name,level,parent_code,valid_from,valid_until\n"
                        "HK,000.00.01.H26,UBND Phường Hoàn Kiếm,commune,,2025-07-01,\n", encoding="utf-8")
    home.kyso("ledger", "import-agencies", str(agencies))
    home.kyso("token", "init", "--label", "official-em")
    unknown = home.kyso("token", "enroll", "--label", "official-em", "--profile", "personal", "--cn", "Lý Thị Em",
                        "--uid", "CCCD:001190011111", "--o", "UBND Phường Hoàn Kiếm", "--agency", "NOPE", check=False)
    assert unknown.returncode == 1
    assert "no agency with code 'NOPE' on the roster" in unknown.stderr
    home.kyso("token", "enroll", "--label", "official-em", "--profile", "personal", "--cn", "Lý Thị Em",
              "--uid", "CCCD:001190011111", "--o", "UBND Phường Hoàn Kiếm", "--title", "Văn thư", "--agency", "HK",
              "--key", "ec")
    engine = sa.create_engine(f"sqlite:///{home.path / 'kyso.db'}")
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text(
                "SELECT c.serial, c.kind, c.agency_code, o.full_name, o.person_id, c.revoked_at FROM ledger_certificates c "
                "JOIN ledger_officials o ON o.id = c.official_id WHERE o.person_id = 'CCCD:001190011111'")).one()
        assert row[1:5] == ("personal", "HK", "Lý Thị Em", "CCCD:001190011111")
        assert row[5] is None
        revoked = home.kyso("ca", "revoke", row[0], "--reason", "privilegeWithdrawn")
        assert "roster updated" in revoked.stdout
        with engine.connect() as connection:
            after = connection.execute(sa.text(
                "SELECT revoked_at, revocation_reason FROM ledger_certificates WHERE serial = :s"), {"s": row[0]}).one()
        assert after[0] is not None
        assert after[1] == "privilegeWithdrawn"
    finally:
        engine.dispose()


def test_a_wrong_ca_pin_is_a_clear_refusal_that_changes_nothing(home, tmp_path):
    csr = openssl_csr(tmp_path, "x", "/C=VN/O=UBND/CN=Võ Văn X/UID=CCCD:001190022222")
    before = home.table_contents()
    result = run(*KYSO, "ca", "issue", str(csr), "--profile", "personal",
                 env={**home.env, "KYSO_CA_PIN": "0000"}, check=False)
    assert result.returncode == 1
    assert "Wrong PIN for token 'kyso-ca'" in result.stderr
    assert "0000" not in result.stderr + result.stdout
    assert home.table_contents() == before
