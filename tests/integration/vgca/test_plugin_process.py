"""`kyso bridge serve` with `[bridge] vgca = true` as its own process: the plugin endpoint listens on the
configured port with a loopback CA written to KYSO_HOME/bridge/loopback-ca.pem, answers the information
endpoints, refuses a foreign origin, and a port already taken is a clear error."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.servers import free_port
from tests.support.softhsm import TEST_USER_PIN
from token_bridge.catalogue import certificate_id

pytestmark = pytest.mark.integration

ORIGIN = "https://vanban.hanoi.gov.vn"


def _start(tmp_path, softhsm, vgca_port: int, port: int):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "kyso.toml").write_text(
        f'[bridge]\nport = {port}\nhosts = ["127.0.0.1"]\nallowed_origins = ["{ORIGIN}"]\nvgca = true\n'
        f"vgca_port = {vgca_port}\n", encoding="utf-8")
    env = {**softhsm.directory.environment(), "KYSO_TEST_BRIDGE_PIN": TEST_USER_PIN}
    env.pop("KYSO_HOME", None)
    log = tmp_path / "bridge.err"
    process = subprocess.Popen(
        [sys.executable, "-m", "kyso", "--home", str(home), "bridge", "serve", "--pin-env", "KYSO_TEST_BRIDGE_PIN",
         "--unsafe-auto-consent", "--audit-log", str(tmp_path / "audit.jsonl")],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"), text=True)
    return home, process, log


def _call(home, port, endpoint, body, origin=ORIGIN):
    context = ssl.create_default_context(cafile=str(home / "bridge" / "loopback-ca.pem"))
    with connect(f"wss://127.0.0.1:{port}/{endpoint}", ssl=context, origin=origin, open_timeout=10) as ws:
        ws.send(body)
        return json.loads(ws.recv(timeout=60))


def test_the_plugin_endpoint_runs_from_kyso_toml(tmp_path, softhsm, personal_rsa_token):
    vgca_port = free_port()
    home, process, log = _start(tmp_path, softhsm, vgca_port, free_port())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "plugin endpoint" not in log.read_text():
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        assert f"wss://127.0.0.1:{vgca_port}/<Endpoint>" in log.read_text()
        assert stat.S_IMODE(os.stat(home / "bridge" / "loopback-ca.key").st_mode) == 0o600
        assert _call(home, vgca_port, "GetVersion", "GetVersion") == {"Status": 0, "Message": "",
                                                                      "Version": "kyso-vgca-1.0"}
        info = _call(home, vgca_port, "GetCertInfo", "get_cert_info")
        assert info["Status"] == 0
        assert certificate_id(personal_rsa_token.certificate) in [c["Id"] for c in info["Certificates"]]
        with pytest.raises(InvalidStatus) as raised:
            _call(home, vgca_port, "GetVersion", "GetVersion", origin="https://evil.example")
        assert raised.value.response.status_code == 403
        audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [(a["origin"], a["error_code"]) for a in audit if a["event"] == "request_refused"] == [
            ("https://evil.example", "origin_refused")]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_taken_port_is_a_clear_error(tmp_path, softhsm):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        home, process, log = _start(tmp_path, softhsm, port, free_port())
        assert process.wait(timeout=60) == 1
    assert f"không mở được cổng {port} cho plugin / cannot listen on port {port} for the plugin endpoint" in \
        log.read_text()
