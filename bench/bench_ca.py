"""Benchmark of the CA on a SoftHSM token: certificates issued/s, OCSP responses/s, time-stamp tokens/s.

Each rate is printed beside the raw PKCS#11 signature rate of the same key on the same token, measured in
the same run (issuance: the RSA-2048 issuing CA key; OCSP and TSA: their EC P-256 keys), and as the ratio
of the two: the share of the token's signing capacity the CA keeps after ASN.1, hashing and the database.
Run: .venv/bin/python bench/bench_ca.py   (a temporary SoftHSM directory and SQLite database; ~1 minute)
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 5


def median_rate(operation, count: int) -> float:
    """Median operations per second over ROUNDS batches of `count` calls."""
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for index in range(count):
            operation(index)
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kyso-bench-ca-"))
    from token_bridge.softhsm import SoftHsmDirectory

    directory = SoftHsmDirectory.create(folder)
    directory.activate()  # before the library loads

    from asn1crypto import algos, ocsp, tsp

    from ca.authority import Authority, OcspResponder, TimeStampUnit
    from ca.endpoints import PkiEndpoints
    from ca.requests import build_csr
    from ca.store import Store
    from policies.keys import DigestAlgorithm, SignatureScheme
    from signer.keys import InMemoryKey
    from token_bridge.keys import generate_ec_key_pair, generate_rsa_key_pair
    from token_bridge.module import Pkcs11Module
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.softhsm import initialise_token

    module = Pkcs11Module.load()
    initialise_token(module, label="bench-ca", so_pin="87654321", user_pin="123456")
    session = module.session("bench-ca", pin_prompt=RepeatingPinPrompt("123456"))
    root_key = generate_rsa_key_pair(session, label="root", key_id=b"\x01")
    gov_key = generate_rsa_key_pair(session, label="gov", key_id=b"\x02")
    ocsp_key = generate_ec_key_pair(session, label="ocsp", key_id=b"\x03")
    tsa_key = generate_ec_key_pair(session, label="tsa", key_id=b"\x04")

    store = Store.open(f"sqlite:///{folder / 'ca.db'}")
    authority = Authority(store=store, endpoints=PkiEndpoints("http://127.0.0.1:8470"))
    org = ("organization_name", "Ban Co yeu Chinh phu (Demo)")
    authority.create_root("root", key=root_key, attributes=[("country_name", "VN"), org, ("common_name", "Bench Root")])
    authority.create_subordinate("gov", parent="root", key=gov_key,
                                 attributes=[("country_name", "VN"), org, ("common_name", "Bench Gov CA")])
    ocsp_cert = authority.issue(issuer="gov", profile="ocsp", public_key=ocsp_key.public_key_info(),
                                attributes=[("country_name", "VN"), org, ("common_name", "Bench OCSP")])
    authority.set_ocsp_responder("gov", OcspResponder(ocsp_cert.certificate, ocsp_key, delegated=True))
    tsa_cert = authority.issue(issuer="gov", profile="tsa", public_key=tsa_key.public_key_info(),
                               attributes=[("country_name", "VN"), org, ("common_name", "Bench TSA")])
    authority.set_time_stamp_unit(TimeStampUnit(tsa_cert.certificate, tsa_key, tsa_cert.chain))

    person = [("country_name", "VN"), ("organization_name", "UBND Phường Hoàn Kiếm"), ("title", "Chủ tịch"),
              ("common_name", "Nguyễn Văn An"), ("user_id", "CCCD:001085012345")]
    subject_key = InMemoryKey.generate_ec()
    csr = build_csr(person, subject_key)
    issued = authority.issue_from_csr(csr, issuer="gov", profile="personal")
    gov_cert = authority.issuer("gov").certificate
    cert_id = {
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(gov_cert.subject.dump()).digest(),
        "issuer_key_hash": hashlib.sha1(gov_cert.public_key["public_key"].contents[1:]).digest(),
        "serial_number": issued.serial_number,
    }
    ocsp_requests = [ocsp.OCSPRequest({"tbs_request": {
        "request_list": [{"req_cert": cert_id}],
        "request_extensions": [{"extn_id": "nonce", "extn_value": index.to_bytes(16, "big")}],
    }}).dump() for index in range(100)]
    tsa_requests = [tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                            "hashed_message": hashlib.sha256(index.to_bytes(4, "big")).digest()},
        "nonce": index, "cert_req": True,
    }).dump() for index in range(100)]
    digest = hashlib.sha256(b"bench").digest()

    def raw(key, scheme):
        return lambda index: key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=scheme)

    # warm-up: logins, object handle caches, imports
    authority.respond_ocsp(ocsp_requests[0])
    authority.stamp(tsa_requests[0])
    raw_rsa = median_rate(raw(gov_key, SignatureScheme.RSA_PKCS1V15), 50)
    issue = median_rate(lambda index: authority.issue_from_csr(csr, issuer="gov", profile="personal"), 30)
    raw_ocsp = median_rate(raw(ocsp_key, SignatureScheme.ECDSA), 100)
    respond = median_rate(lambda index: authority.respond_ocsp(ocsp_requests[index]), 100)
    raw_tsa = median_rate(raw(tsa_key, SignatureScheme.ECDSA), 100)
    stamp = median_rate(lambda index: authority.stamp(tsa_requests[index]), 100)
    store.close()

    print(f"bench_ca: SoftHSM token, SQLite store; median of {ROUNDS} batches (per second)")
    rows = [
        ("certificates issued (RSA-2048 CA key)", issue, raw_rsa),
        ("OCSP responses (EC P-256 responder)", respond, raw_ocsp),
        ("time-stamp tokens (EC P-256 TSA)", stamp, raw_tsa),
    ]
    print(f"{'operation':42} {'rate/s':>9} {'raw PKCS#11 sign/s':>19} {'ratio':>7}")
    for name, rate, baseline in rows:
        print(f"{name:42} {rate:9.1f} {baseline:19.1f} {rate / baseline:7.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
