"""Fixtures of the central service: a migrated database, a fresh application, accounts and API keys.

`service_factory(database_url)` builds a migrated app with an administrator, a clerk, an official, an
auditor and API keys; `ServiceClient` wraps Flask's test client with login (CSRF included) and API-key calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

import pytest

PASSWORD = "mật-khẩu-thử-nghiệm-1"


class FixedClock:
    """A clock the test moves by hand (aware UTC datetimes)."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class ServiceWorld:
    app: object
    settings: object
    keys: dict[str, str] = field(default_factory=dict)

    def client(self):
        return self.app.test_client()

    def api(self, key_name: str):
        return ApiClient(self.app.test_client(), self.keys[key_name])

    def logged_in(self, username: str):
        client = self.app.test_client()
        page = client.get("/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
        answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 302, answer.data
        page = client.get("/verify" if username != "auditor" else "/dashboard")
        csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page.data).group(1).decode()
        return SessionClient(client, csrf)


class ApiClient:
    def __init__(self, client, key: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def send(path, **kwargs):
            kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
            return call(path, **kwargs)

        return send


class SessionClient:
    def __init__(self, client, csrf: str):
        self.client = client
        self.csrf = csrf

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def send(path, *, csrf: bool = True, **kwargs):
            if csrf:
                kwargs["headers"] = {"X-CSRF-Token": self.csrf, **kwargs.get("headers", {})}
            return call(path, **kwargs)

        return send


def build_service_world(database_url: str, *, clock=None, components=None, roster: str | None = None,
                        **settings_changes) -> ServiceWorld:
    from service.accounts import Permission, Role, create_api_key, create_user
    from service.app import create_app
    from service.settings import ServiceSettings
    from service.wiring import migrate_all

    settings_changes.setdefault("mount_pki", False)
    settings = ServiceSettings(database_url=database_url, secret_key="s" * 40, **settings_changes)
    migrate_all(settings)
    if roster is not None:
        from ledger import import_agencies_csv, open_store

        store = open_store(database_url, migrate_schema=False)
        import_agencies_csv(store, roster)
        store.dispose()
    app = create_app(settings, components=components, **({"clock": clock} if clock else {}))
    runtime = app.extensions["kyso"]
    world = ServiceWorld(app=app, settings=settings)
    now = runtime.clock()
    from sqlalchemy.orm import Session

    with Session(runtime.engine) as db, db.begin():
        for username, role, agency in (
            ("admin", Role.ADMINISTRATOR, None),
            ("clerk", Role.CLERK, "H26.10"),
            ("official", Role.OFFICIAL, "H26.10"),
            ("auditor", Role.AUDITOR, None),
        ):
            create_user(db, username, password=PASSWORD, roles=frozenset({role}), agency_code=agency, now=now)
        for name, scopes in (
            ("dms", {Permission.VALIDATE, Permission.DOCUMENTS, Permission.SIGN, Permission.ROSTER}),
            ("reader", {Permission.REPORTS, Permission.LEDGER}),
            ("validator", {Permission.VALIDATE}),
        ):
            _row, token = create_api_key(db, name, scopes=frozenset(scopes), now=now)
            world.keys[name] = token
    return world


@pytest.fixture
def service_world(sqlite_url):
    """A service on a fresh SQLite database with one account per role and three API keys."""
    world = build_service_world(sqlite_url)
    yield world
    world.app.extensions["kyso"].engine.dispose()


@pytest.fixture
def service_world_on(database_url):
    """The same on SQLite and then on PostgreSQL."""
    world = build_service_world(database_url)
    yield world
    world.app.extensions["kyso"].engine.dispose()


def pki_components(database_url: str, pki, *, authority=None, receipt_signer=None):
    """The service's libraries on the session test PKI: its root trusted, its TSA for B-T and later."""
    from service.wiring import Components

    return Components.build(
        database_url=database_url,
        trust_roots=(pki.root.certificate,),
        intermediates=(pki.gov.certificate,),
        tsa_url=pki.tsa_url,
        authority=authority,
        receipt_signer=receipt_signer,
    )


@pytest.fixture
def signing_world(database_url, pki):
    """A service wired to the test PKI, with the ledger's sample roster, on SQLite then PostgreSQL."""
    from tests.support.ledger import ROSTER_CSV

    components = pki_components(database_url, pki, receipt_signer=(pki.agency_rsa.key, pki.agency_rsa.certificate,
                                                                     pki.agency_rsa.chain))
    world = build_service_world(database_url, components=components, roster=ROSTER_CSV)
    yield world
    components.dispose()
    world.app.extensions["kyso"].engine.dispose()


# -- the service under gunicorn, in its own processes ------------------------------------------------------


@dataclass
class GunicornService:
    base_url: str
    process: object  # subprocess.Popen of the gunicorn master
    key: str  # an API key with every system scope
    settings: object

    def worker_pids(self) -> list[int]:
        from pathlib import Path

        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def write_pki_home(home, database_url: str, pki) -> None:
    """A kyso home whose service trusts the session PKI and stamps with its TSA."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "root.pem").write_bytes(pki.root.pem)
    (home / "gov.pem").write_bytes(pki.gov.pem)
    (home / "kyso.toml").write_text(
        f'[database]\nurl = "{database_url}"\n\n[service]\nsecret_key = "{"k" * 64}"\nmount_pki = false\n'
        f'trust_roots = ["{home / "root.pem"}"]\nintermediates = ["{home / "gov.pem"}"]\ntsa_url = "{pki.tsa_url}"\n',
        encoding="utf-8",
    )


@contextlib.contextmanager
def gunicorn_service(home, *, workers: int = 3, roster: str | None = None):
    """`gunicorn 'kyso.commands.serve:wsgi_app()'` on a free loopback port, configured by the home."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import requests

    from kyso.config import Home
    from service.accounts import Permission
    from service.settings import ServiceSettings
    from service.wiring import add_system_key, migrate_all
    from tests.support.servers import free_port

    settings = ServiceSettings.from_home(Home.locate(home))
    migrate_all(settings)
    if roster is not None:
        from ledger import import_agencies_csv, open_store

        store = open_store(settings.database_url, migrate_schema=False)
        import_agencies_csv(store, roster)
        store.dispose()
    key = add_system_key(settings, "load", scopes=frozenset({Permission.VALIDATE, Permission.SIGN,
                                                             Permission.DOCUMENTS, Permission.LEDGER}))
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
    environment["KYSO_HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
         "kyso.commands.serve:wsgi_app()"],
        env=environment, stdout=subprocess.DEVNULL, stderr=open(home / "gunicorn.log", "wb"),
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base_url}/healthz", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                if process.poll() is not None:
                    raise AssertionError("gunicorn exited: " + (home / "gunicorn.log").read_text()) from None
                time.sleep(0.25)
        else:
            raise AssertionError("gunicorn did not start: " + (home / "gunicorn.log").read_text())
        yield GunicornService(base_url=base_url, process=process, key=key, settings=settings)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
