"""Benchmark of the CA on a SoftHSM token: certificates issued/s, OCSP responses/s, time-stamp tokens/s.

Library measures: each rate beside the raw PKCS#11 signature rate of the same key on the same token,
interleaved round by round (raw batch, then the operation's batch) so that the load of a shared machine hits
both alike; the ratio is the median of the per-round ratios: the share of the token's signing capacity the
CA keeps after ASN.1, hashing and the database (issuance: the RSA-2048 issuing CA key; OCSP and TSA: their EC
P-256 keys). OCSP is measured twice: requests with a nonce (signed each time) and without (RFC 5019,
served from the cache of signed answers).

Responder measure, side by side over HTTP on loopback: `openssl ocsp` as a responder (its own P-256 key
file and index, one process) against kyso's PKI application under waitress (one thread, the responder key
on the SoftHSM token); the same client sends one request per new TCP connection (openssl closes each),
alternating batches between the two. The client runs in its own process, so that it takes no GIL time
from kyso's server.

Run: .venv/bin/python bench/bench_ca.py [--json]   (a temporary SoftHSM directory and SQLite database)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS = 7


def batch_rate(operation, count: int) -> float:
    start = time.perf_counter()
    for index in range(count):
        operation(index)
    return count / (time.perf_counter() - start)


def interleaved(measure, baseline, count: int) -> tuple[float, float, float]:
    """Median rate of `measure`, of `baseline`, and median of the per-round ratios (measure / baseline)."""
    rates, bases, ratios = [], [], []
    for _ in range(ROUNDS):
        base = batch_rate(baseline, count)
        rate = batch_rate(measure, count)
        rates.append(rate)
        bases.append(base)
        ratios.append(rate / base)
    return statistics.median(rates), statistics.median(bases), statistics.median(ratios)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post_ocsp(port: int, path: str, body: bytes) -> bytes:
    """One HTTP/1.0 request on a new connection (what `openssl ocsp` as a responder speaks), read to close."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body
        )
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    head, _, data = b"".join(chunks).partition(b"\r\n\r\n")
    if not head.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"]:
        raise RuntimeError(f"OCSP over HTTP answered {head[:40]!r}")
    return data


def client_rate(port: int, path: str, requests_file: Path, count: int) -> float:
    """Requests/s of a client in its own process (so it takes no GIL time from kyso's server threads)."""
    done = subprocess.run(
        [sys.executable, __file__, "--client", str(port), path, str(requests_file), str(count)],
        capture_output=True, text=True, check=True,
    )
    return float(done.stdout.strip())


def run_client(port: int, path: str, requests_file: Path, count: int) -> None:
    bodies = json.loads(requests_file.read_text())
    bodies = [bytes.fromhex(body) for body in bodies]
    print(batch_rate(lambda index: post_ocsp(port, path, bodies[index % len(bodies)]), count))


def openssl_responder_files(folder: Path, serial: int) -> dict[str, Path]:
    """A P-256 CA, a delegated P-256 OCSP responder and an index with one valid certificate, for openssl."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("openssl bench CA")).issuer_name(name("openssl bench CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = (x509.CertificateBuilder().subject_name(name("openssl bench OCSP")).issuer_name(ca.subject)
                 .public_key(responder_key.public_key()).serial_number(2).not_valid_before(now - timedelta(days=1))
                 .not_valid_after(now + timedelta(days=30))
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
                 .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ossl-ca.pem", "rsigner": folder / "ossl-ocsp.pem", "rkey": folder / "ossl-ocsp.key",
             "index": folder / "ossl-index.txt"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["rsigner"].write_bytes(responder.public_bytes(serialization.Encoding.PEM))
    files["rkey"].write_bytes(responder_key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    expiry = (now + timedelta(days=30)).strftime("%y%m%d%H%M%SZ")
    files["index"].write_text(f"V\t{expiry}\t\t{serial:X}\tunknown\t/C=VN/CN=Bench Person\n")
    files["ca_der"] = folder / "ossl-ca.der"
    files["ca_der"].write_bytes(ca.public_bytes(serialization.Encoding.DER))
    return files


def ocsp_requests(issuer, serial: int, count: int, *, nonce: bool) -> list[bytes]:
    from asn1crypto import ocsp

    cert_id = {
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),
        "issuer_key_hash": hashlib.sha1(issuer.public_key["public_key"].contents[1:]).digest(),
        "serial_number": serial,
    }
    out = []
    for index in range(count):
        tbs = {"request_list": [{"req_cert": cert_id}]}
        if nonce:
            tbs["request_extensions"] = [{"extn_id": "nonce", "extn_value": index.to_bytes(16, "big")}]
        out.append(ocsp.OCSPRequest({"tbs_request": tbs}).dump())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print one JSON object of the measures, last")
    parser.add_argument("--client", nargs=4, metavar=("PORT", "PATH", "REQUESTS", "COUNT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.client:
        port, path, requests_file, count = arguments.client
        run_client(int(port), path, Path(requests_file), int(count))
        return

    folder = Path(tempfile.mkdtemp(prefix="kyso-bench-ca-"))
    from token_bridge.softhsm import SoftHsmDirectory

    directory = SoftHsmDirectory.create(folder)
    directory.activate()  # before the library loads

    import logging

    logging.disable(logging.WARNING)
    from asn1crypto import algos, ocsp, tsp, x509
    from waitress.server import create_server

    from ca.authority import Authority, OcspResponder, TimeStampUnit
    from ca.endpoints import PkiEndpoints
    from ca.requests import build_csr
    from ca.store import Store
    from policies.keys import DigestAlgorithm, SignatureScheme
    from service.pki import create_pki_app
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
    with_nonce = ocsp_requests(gov_cert, issued.serial_number, 100, nonce=True)
    without_nonce = ocsp_requests(gov_cert, issued.serial_number, 1, nonce=False)[0]
    tsa_requests = [tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                            "hashed_message": hashlib.sha256(index.to_bytes(4, "big")).digest()},
        "nonce": index, "cert_req": True,
    }).dump() for index in range(100)]
    digest = hashlib.sha256(b"bench").digest()

    def raw(key, scheme):
        return lambda index: key.sign_digest(digest, digest_algorithm=DigestAlgorithm.SHA256, scheme=scheme)

    # warm-up: logins, object handle caches, imports, templates
    authority.respond_ocsp(with_nonce[0])
    authority.stamp(tsa_requests[0])
    issue = interleaved(lambda index: authority.issue_from_csr(csr, issuer="gov", profile="personal"),
                        raw(gov_key, SignatureScheme.RSA_PKCS1V15), 30)
    respond = interleaved(lambda index: authority.respond_ocsp(with_nonce[index]),
                          raw(ocsp_key, SignatureScheme.ECDSA), 100)
    cached = interleaved(lambda index: authority.respond_ocsp(without_nonce),
                         raw(ocsp_key, SignatureScheme.ECDSA), 100)
    stamp = interleaved(lambda index: authority.stamp(tsa_requests[index]), raw(tsa_key, SignatureScheme.ECDSA), 100)

    # Side by side over HTTP: openssl ocsp against kyso under waitress.
    files = openssl_responder_files(folder, serial=0x1234ABCD)
    openssl_ca = x509.Certificate.load(files["ca_der"].read_bytes())
    openssl_port = free_port()
    responder = subprocess.Popen(
        ["openssl", "ocsp", "-index", str(files["index"]), "-port", str(openssl_port),
         "-rsigner", str(files["rsigner"]), "-rkey", str(files["rkey"]), "-CA", str(files["ca"]), "-ndays", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    # A probe connection would stall the single-process responder: wait for its own "waiting" line instead.
    for line in responder.stderr:
        if "waiting for OCSP client connections" in line:
            break
    threading.Thread(target=responder.stderr.read, daemon=True).start()
    kyso_port = free_port()
    server = create_server(create_pki_app(authority), host="127.0.0.1", port=kyso_port, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        openssl_nonce = ocsp_requests(openssl_ca, 0x1234ABCD, 100, nonce=True)
        first = ocsp.OCSPResponse.load(post_ocsp(openssl_port, "/", openssl_nonce[0]))
        assert first["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]["cert_status"].name == "good"
        answer = ocsp.OCSPResponse.load(post_ocsp(kyso_port, "/pki/ocsp", with_nonce[0]))
        assert answer["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]["cert_status"].name == "good"
        bodies = {}
        for label, items in [("openssl", openssl_nonce), ("nonce", with_nonce), ("cached", [without_nonce])]:
            bodies[label] = folder / f"requests-{label}.json"
            bodies[label].write_text(json.dumps([item.hex() for item in items]))

        def across_processes(kyso_requests):
            rates, bases, ratios = [], [], []
            for _ in range(ROUNDS):
                base = client_rate(openssl_port, "/", bodies["openssl"], 300)
                rate = client_rate(kyso_port, "/pki/ocsp", bodies[kyso_requests], 300)
                rates.append(rate)
                bases.append(base)
                ratios.append(rate / base)
            return statistics.median(rates), statistics.median(bases), statistics.median(ratios)

        http_nonce = across_processes("nonce")
        http_cached = across_processes("cached")
    finally:
        responder.terminate()
        responder.wait(timeout=10)
        server.close()
    store.close()

    print(f"bench_ca: SoftHSM token, SQLite store; medians of {ROUNDS} interleaved rounds (per second)")
    rows = [
        ("certificates issued (RSA-2048 CA key)", issue, "raw PKCS#11 RSA-2048 signing"),
        ("OCSP responses, nonce (EC P-256 responder)", respond, "raw PKCS#11 P-256 signing"),
        ("OCSP responses, no nonce (RFC 5019 cache)", cached, "raw PKCS#11 P-256 signing"),
        ("time-stamp tokens (EC P-256 TSA)", stamp, "raw PKCS#11 P-256 signing"),
        ("HTTP OCSP, nonce: kyso vs openssl ocsp", http_nonce, "openssl ocsp responder"),
        ("HTTP OCSP, no nonce: kyso vs openssl ocsp", http_cached, "openssl ocsp responder"),
    ]
    print(f"{'operation':44} {'rate/s':>9} {'baseline/s':>11} {'ratio':>7}  baseline")
    for name, (rate, baseline, ratio), baseline_name in rows:
        print(f"{name:44} {rate:9.1f} {baseline:11.1f} {ratio:7.2f}  {baseline_name}")
    if arguments.json:
        print(json.dumps({"benchmark": "bench_ca", "rounds": ROUNDS, "measures": [
            {"name": name, "rate_per_second": round(rate, 1), "baseline": baseline_name,
             "baseline_rate_per_second": round(baseline, 1), "ratio": round(ratio, 3)}
            for name, (rate, baseline, ratio), baseline_name in rows]}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
