"""The service under gunicorn (several worker processes) on loopback:
- a bounded load of concurrent validations and prepare+complete signatures for a fixed short time ends with
  no 5xx, and the ledger holds exactly the acknowledged signatures, its chain intact (SQLite and PostgreSQL);
- killing a worker with SIGKILL while signatures are in flight loses no acknowledged record and leaves the
  chain valid."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.support.documents import sample_decision, signature_png
from tests.support.ledger import ROSTER_CSV
from tests.support.service import gunicorn_service, write_pki_home

pytestmark = pytest.mark.integration

B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
DOCUMENT = B64(sample_decision())
IMAGE = B64(signature_png())


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: list[int] = []
        self.acknowledged: set[str] = set()
        self.errors: list[str] = []

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses.append(code)


def sign_once(http: requests.Session, base_url: str, headers: dict, pki, tally: Tally) -> dict | None:
    entity = pki.official_ec
    prepared = http.post(f"{base_url}/api/v1/signing-sessions", headers=headers, timeout=60, json={
        "kind": "approve", "certificate": B64(entity.der), "document": DOCUMENT, "agency_code": "H26.10",
        "signature_image": IMAGE, "title": "GIÁM ĐỐC", "signer_name": "Nguyễn Văn An"})
    tally.status(prepared.status_code)
    if prepared.status_code != 201:
        tally.errors.append(prepared.text[:300])
        return
    session = prepared.json()
    value = entity.key.sign_digest(base64.b64decode(session["digest"]), digest_algorithm=DigestAlgorithm.SHA256,
                                   scheme=SignatureScheme.ECDSA)
    completed = http.post(f"{base_url}/api/v1/signing-sessions/{session['id']}/signature", headers=headers,
                          timeout=60, json={"signature": B64(value)})
    tally.status(completed.status_code)
    if completed.status_code == 200:
        with tally.lock:
            tally.acknowledged.add(completed.json()["ledger_record"])
        return completed.json()
    tally.errors.append(completed.text[:300])
    return None


def validate_once(http: requests.Session, base_url: str, headers: dict, signed: bytes, tally: Tally) -> None:
    answer = http.post(f"{base_url}/api/v1/validations", data=signed, timeout=60,
                       headers={**headers, "Content-Type": "application/pdf"})
    tally.status(answer.status_code)
    if answer.status_code != 200 or answer.json()["files"][0]["indication"] != "TOTAL_PASSED":
        tally.errors.append(answer.text[:300])


def ledger_record_ids(settings, *, covering: bool = False) -> list[str]:
    """The signature records' ids (with `covering`, those of the covering records, ledger.covered)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        ids = list(connection.execute(text(
            f"SELECT record_id FROM ledger_records WHERE covers IS {'NOT ' if covering else ''}NULL ORDER BY seq")).scalars())
    engine.dispose()
    return ids


def test_bounded_load_no_5xx_and_exactly_the_acknowledged_records(tmp_path, database_url, pki):
    home = tmp_path / "home"
    write_pki_home(home, database_url, pki)
    with gunicorn_service(home, workers=3, roster=ROSTER_CSV) as service:
        headers = {"Authorization": f"Bearer {service.key}"}
        tally = Tally()
        with requests.Session() as http:
            done = sign_once(http, service.base_url, headers, pki, tally)
        assert done is not None, tally.errors
        signed_record = done["ledger_record"]
        signed_pdf = base64.b64decode(done["document"])
        empty = requests.get(f"{service.base_url}/api/v1/ledger/documents/2147483647/records", headers=headers, timeout=30)
        assert (empty.status_code, empty.json()["records"]) == (200, [])

        deadline = time.monotonic() + 8.0  # a fixed, short time

        def worker(index: int) -> None:
            with requests.Session() as http:
                while time.monotonic() < deadline:
                    if index % 2:
                        sign_once(http, service.base_url, headers, pki, tally)
                    else:
                        validate_once(http, service.base_url, headers, signed_pdf, tally)

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(worker, range(6)))

        print(f"load: {len(tally.statuses)} answers, {len(tally.acknowledged)} signatures acknowledged")
        assert not [s for s in tally.statuses if s >= 500], tally.errors[:5]
        assert not tally.errors, tally.errors[:5]
        assert len(tally.statuses) >= 12
        chain = requests.get(f"{service.base_url}/api/v1/ledger/verify", headers=headers, timeout=60).json()
        assert chain["intact"] is True, chain["problems"]
        recorded = ledger_record_ids(service.settings)
        assert signed_record in recorded
        assert sorted(recorded) == sorted(tally.acknowledged)
        assert chain["records"] == len(tally.acknowledged) + len(ledger_record_ids(service.settings, covering=True))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sigkill_of_a_worker_mid_signing_loses_no_acknowledged_record(tmp_path, database_url, pki):
    home = tmp_path / "home"
    write_pki_home(home, database_url, pki)
    with gunicorn_service(home, workers=2, roster=ROSTER_CSV) as service:
        headers = {"Authorization": f"Bearer {service.key}"}
        tally = Tally()
        stop = threading.Event()

        def signer() -> None:
            with requests.Session() as http:
                while not stop.is_set():
                    try:
                        sign_once(http, service.base_url, headers, pki, tally)
                    except requests.RequestException as exc:  # the killed worker's connections drop
                        tally.errors.append(f"connection: {type(exc).__name__}")

        threads = [threading.Thread(target=signer) for _ in range(4)]
        for thread in threads:
            thread.start()
        while len(tally.acknowledged) < 3:
            time.sleep(0.05)
        victims = service.worker_pids()
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)
        time.sleep(3.0)  # gunicorn replaces the worker; signing goes on
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        print(f"kill: {len(tally.acknowledged)} acknowledged, {len(tally.errors)} failed calls: {sorted(set(tally.errors))[:3]}")
        assert victims[0] not in service.worker_pids()
        assert not [s for s in tally.statuses if s >= 500 and s != 502], tally.errors[:5]
        chain = requests.get(f"{service.base_url}/api/v1/ledger/verify", headers=headers, timeout=60).json()
        assert chain["intact"] is True, chain["problems"]
        recorded = set(ledger_record_ids(service.settings))
        assert tally.acknowledged <= recorded
        # At most the signatures whose answers died with the worker are recorded without acknowledgement.
        assert len(recorded - tally.acknowledged) <= 4
