"""Benchmark of the token bridge: signatures/s through POST /v1/signatures against raw python-pkcs11.

In one run, on one SoftHSM token in a temporary directory: an RSA-2048 and an EC P-256 key sign SHA-256
digests (1) directly through python-pkcs11 in this process (the baseline: C_Sign on the token), and (2)
through a `kyso bridge serve` process on loopback, with a keep-alive HTTP client (requests.Session), the
way BridgeKey calls it; the two alternate call by call so both see the same machine load. Printed: the
median time per signature of each, signatures/s, the ratio bridge/raw, and the median latency the bridge
adds per request (HTTP, JSON, base64, policy and consent checks, the verification of the answer, audit).
Run: .venv/bin/python bench/bench_bridge.py   (under a minute)
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 400  # signatures per measurement and key
PIN = "123456"


def timed_side_by_side(first, second, count: int) -> tuple[list[float], list[float]]:
    """Alternate the two operations call by call, so that both see the same machine load."""
    samples: tuple[list[float], list[float]] = ([], [])
    for index in range(count):
        for operation, sink in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            operation(index)
            sink.append(time.perf_counter() - start)
    return samples


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kyso-bench-bridge-"))
    from token_bridge.softhsm import SoftHsmDirectory

    directory = SoftHsmDirectory.create(folder)
    directory.activate()  # before the library loads

    import pkcs11
    import requests

    from tests.support.softhsm import name_from, self_signed_certificate
    from token_bridge.catalogue import certificate_id
    from token_bridge.algorithms import DIGEST_INFO_PREFIXES
    from token_bridge.keys import generate_ec_key_pair, generate_rsa_key_pair, write_certificate
    from token_bridge.module import Pkcs11Module
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.softhsm import initialise_token
    from policies.keys import DigestAlgorithm

    module = Pkcs11Module.load()
    initialise_token(module, label="bench", so_pin="87654321", user_pin=PIN)
    session = module.session("bench", pin_prompt=RepeatingPinPrompt(PIN))
    keys = {
        "RSA-2048": (generate_rsa_key_pair(session, label="rsa", key_id=b"\x01"), "rsassa_pkcs1v15"),
        "P-256": (generate_ec_key_pair(session, label="ec", key_id=b"\x02"), "ecdsa"),
    }
    ids = {}
    for name, (key, _) in keys.items():
        certificate = self_signed_certificate(key, name_from([("country_name", "VN"), ("common_name", f"Bench {name}"),
                                                              ("user_id", "CCCD:001186012345")]))
        write_certificate(session, certificate, label=key.session.label, key_id=key.key_id)
        ids[name] = certificate_id(certificate)

    digests = [hashlib.sha256(str(i).encode()).digest() for i in range(N)]

    port = _free_port()
    env = {**directory.environment(), "KYSO_BENCH_PIN": PIN}
    env.pop("KYSO_HOME", None)
    bridge = subprocess.Popen(
        [sys.executable, "-m", "kyso", "--home", str(folder / "home"), "bridge", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--pin-env", "KYSO_BENCH_PIN", "--unsafe-auto-consent",
         "--audit-log", str(folder / "audit.jsonl")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    http = requests.Session()
    try:
        _wait(http, url)
        print(f"token bridge benchmark: {N} SHA-256 signatures per key, SoftHSM {module.path}")
        print(f"{'key':<9} {'raw ms':>8} {'bridge ms':>10} {'raw sig/s':>10} {'bridge sig/s':>13} "
              f"{'ratio':>6} {'added ms (median)':>18}")
        for name, (key, scheme) in keys.items():
            raw_session = session.open()
            private = raw_session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, id=key.key_id)
            if scheme == "rsassa_pkcs1v15":
                prefix = DIGEST_INFO_PREFIXES[DigestAlgorithm.SHA256]

                def raw(i):
                    private.sign(prefix + digests[i], mechanism=pkcs11.Mechanism.RSA_PKCS)
            else:
                def raw(i):
                    private.sign(digests[i], mechanism=pkcs11.Mechanism.ECDSA)

            def through_bridge(i):
                answer = http.post(f"{url}/v1/signatures", json={
                    "certificate_id": ids[name], "digest": base64.b64encode(digests[i]).decode(),
                    "digest_algorithm": "sha256", "signature_algorithm": scheme,
                    "description": f"benchmark {i}"}, timeout=30)
                answer.raise_for_status()

            through_bridge(0)  # log in on the bridge's side and warm the connection
            raw(0)
            raw_samples, bridge_samples = timed_side_by_side(raw, through_bridge, N)
            raw_median = statistics.median(raw_samples)
            bridge_median = statistics.median(bridge_samples)
            print(f"{name:<9} {raw_median * 1e3:8.2f} {bridge_median * 1e3:10.2f} {1 / raw_median:10.0f} "
                  f"{1 / bridge_median:13.0f} {raw_median / bridge_median:6.2f} "
                  f"{(bridge_median - raw_median) * 1e3:18.2f}")
        print("ratio = bridge signatures/s over raw python-pkcs11 signatures/s (medians, same token, same run)")
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)
        http.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(http, url: str) -> None:
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if http.get(f"{url}/v1/status", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the bridge did not start")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
