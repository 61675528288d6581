"""Issue 9, item 12: `kyso serve --production` (real gunicorn, started by the real command) sets the session
cookie with `Secure`, so a browser never sends it over plain HTTP; the development server does not (it runs
on http://127.0.0.1 for local use)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def start(home, *extra) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
    process = subprocess.Popen([sys.executable, "-m", "kyso", "--home", str(home), "serve", "--port", str(port), *extra],
                               env=environment, stdout=subprocess.DEVNULL, stderr=open(home / "serve.log", "wb"),
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return process, url
        except requests.RequestException:
            if process.poll() is not None:
                raise AssertionError("kyso serve exited: " + (home / "serve.log").read_text()) from None
            time.sleep(0.25)
    raise AssertionError("kyso serve did not start: " + (home / "serve.log").read_text())


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("production, secure", [(True, True), (False, False)])
def test_session_cookie_is_secure_under_production(tmp_path, sqlite_url, production, secure):
    home = tmp_path / "home"
    home.mkdir()
    (home / "kyso.toml").write_text(f'[database]\nurl = "{sqlite_url}"\n\n[service]\nsecret_key = "{"k" * 64}"\n'
                                    "mount_pki = false\n", encoding="utf-8")
    process, url = start(home, *(["--production", "--workers", "1"] if production else []))
    try:
        page = requests.get(f"{url}/login", timeout=30)
        cookie = next(c for c in page.headers.get("Set-Cookie", "").split(", kyso") if "kyso_session=" in c)
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert page.status_code == 200
        assert ("secure" in attributes) is secure, cookie
        assert "httponly" in attributes and "samesite=lax" in attributes
    finally:
        stop(process)
