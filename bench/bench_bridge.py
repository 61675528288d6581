"""Benchmark of the token bridge: signatures/s through POST /v1/signatures against raw python-pkcs11.

In one run, on one SoftHSM token in a temporary directory: an RSA-2048 and an EC P-256 key sign SHA-256
digests (1) directly through python-pkcs11 in this process (the baseline: C_Sign on the token), and (2)
through a `kyso bridge serve` process on loopback, with a keep-alive HTTP client (requests.Session), the
way BridgeKey calls it; the two alternate call by call so both see the same machine load. Printed: the
median time per signature of each, signatures/s, the ratio bridge/raw, and the median latency the bridge
adds per request (HTTP, JSON, base64, policy and consent checks, the verification of the answer, audit).

The plugin path (issue 10): the time from a WebSocket request `wss://127.0.0.1:PORT/SignApproved` to its
answer (download from a document system on loopback, sign with the approval layout through the bridge's
consent and token, upload) against signing the same PDF with the same token key in-process, as `kyso sign`
does per file (`signer.sign_pdf`, PAdES B-B so no TSA round trip blurs the comparison), for a 1-page and a
~5 MB PDF, alternated call by call. The ratio plugin/sign shows what the transfers add.
Run: .venv/bin/python bench/bench_bridge.py [--json] [--plugin-only]   (a few minutes)
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
    as_json = "--json" in sys.argv
    results: dict = {"benchmark": "bridge"}
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
    results["plugin"] = bench_plugin(module, session, folder)
    if "--plugin-only" in sys.argv:
        _report(results, as_json)
        return

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
            results.setdefault("http", {})[name] = {
                "raw_median_ms": round(raw_median * 1e3, 3), "bridge_median_ms": round(bridge_median * 1e3, 3),
                "ratio_bridge_over_raw_rate": round(raw_median / bridge_median, 3)}
            print(f"{name:<9} {raw_median * 1e3:8.2f} {bridge_median * 1e3:10.2f} {1 / raw_median:10.0f} "
                  f"{1 / bridge_median:13.0f} {raw_median / bridge_median:6.2f} "
                  f"{(bridge_median - raw_median) * 1e3:18.2f}")
        print("ratio = bridge signatures/s over raw python-pkcs11 signatures/s (medians, same token, same run)")
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)
        http.close()
    _report(results, as_json)


def _report(results: dict, as_json: bool) -> None:
    if as_json:
        import json

        print(json.dumps(results))


def bench_plugin(module, session, folder: Path) -> dict:
    """WebSocket SignApproved (download, sign, upload) against in-process sign_pdf of the same file."""
    import contextlib
    import json
    import logging

    from websockets.sync.client import connect

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake document system's request log

    from kyso.vgca.loopback_tls import ensure_loopback_identity
    from kyso.vgca.plugin import BatchConsent, PluginEndpoint
    from kyso.vgca.server import PluginServer, ServerSettings
    from signer import PadesLevel, SignatureKind, SignatureRequest, SigningEnvironment, StampImage, sign_pdf
    from tests.support import documents
    from tests.support.servers import serve_wsgi
    from tests.support.softhsm import name_from, self_signed_certificate
    from tests.support.vgca import JWT, SESSION, FakeDocumentSystem
    from token_bridge.audit import AuditLog
    from token_bridge.catalogue import certificate_id
    from token_bridge.consent import UnsafeAutoConsent
    from token_bridge.keys import generate_rsa_key_pair, write_certificate
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.signing import Bridge

    key = generate_rsa_key_pair(session, label="plugin", key_id=b"\x03")
    certificate = self_signed_certificate(key, name_from([
        ("country_name", "VN"), ("organization_name", "UBND Phường Hoàn Kiếm"), ("title", documents.TITLE),
        ("common_name", documents.SIGNER_NAME), ("user_id", "CCCD:001186012399")]))
    write_certificate(session, certificate, label="plugin", key_id=b"\x03")
    stamp = StampImage.from_png(documents.signature_png(), role="signature")
    environment = SigningEnvironment(trust_roots=[certificate], revocation_mode="off")
    bridge = Bridge([module], pin_prompt=RepeatingPinPrompt(PIN), consent=BatchConsent(UnsafeAutoConsent()),
                    audit=AuditLog())
    dms = FakeDocumentSystem()
    identity = ensure_loopback_identity(folder / "loopback")
    context = identity.client_context()
    request = SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_B, signature_image=stamp)
    out: dict = {}
    with contextlib.ExitStack() as stack:
        dms.origin = stack.enter_context(serve_wsgi(dms))
        endpoint = PluginEndpoint(bridge=bridge, environment=environment, level=PadesLevel.B_B, signature_image=stamp,
                                  personal_certificate=certificate_id(certificate))
        server = PluginServer(endpoint, ServerSettings(port=_free_port(), allowed_origins=frozenset({dms.origin})),
                              ssl_context=identity.ssl_context(), audit=bridge.audit)
        server.start()
        stack.callback(server.stop)
        print("plugin endpoint: SignApproved over wss (download, sign, upload) vs in-process sign_pdf, PAdES B-B")
        print(f"{'document':<10} {'MB':>5} {'sign ms':>9} {'plugin ms':>10} {'ratio':>6} {'added ms':>9}")
        for label, pdf, count in (("1 page", documents.decision_pdf(), 15),
                                  ("5 MB", documents.large_decision(5.0), 5)):
            dms.files[f"{label}.pdf".replace(" ", "-")] = pdf
            frame = json.dumps({"FileUploadHandler": f"{dms.origin}/upload", "SessionId": SESSION, "JWTToken": JWT,
                                "FileName": f"{dms.origin}/files/{label.replace(' ', '-')}.pdf"})

            def direct(_):
                sign_pdf(pdf, key=key, certificate=certificate, request=request, environment=environment)

            def plugin(_):
                with connect(f"{server.url}/SignApproved", ssl=context, origin=dms.origin) as ws:
                    ws.send(frame)
                    answer = json.loads(ws.recv(timeout=300))
                if answer["Status"] != 0:
                    raise SystemExit(f"plugin call failed: {answer}")

            direct(0)
            plugin(0)  # warm: login, fonts, TLS
            dms.uploads.clear()
            sign_samples, plugin_samples = timed_side_by_side(direct, plugin, count)
            dms.uploads.clear()
            sign_median, plugin_median = statistics.median(sign_samples), statistics.median(plugin_samples)
            print(f"{label:<10} {len(pdf) / 1e6:5.1f} {sign_median * 1e3:9.1f} {plugin_median * 1e3:10.1f} "
                  f"{plugin_median / sign_median:6.2f} {(plugin_median - sign_median) * 1e3:9.1f}")
            out[label.replace(" ", "_")] = {
                "bytes": len(pdf), "samples": count, "sign_pdf_median_ms": round(sign_median * 1e3, 1),
                "plugin_median_ms": round(plugin_median * 1e3, 1),
                "ratio_plugin_over_sign_time": round(plugin_median / sign_median, 3)}
        print("ratio = plugin request-to-answer time over in-process signing time (medians, same key, same run)")
    return out


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
