"""Two kyso service instances behind HAProxy on one PostgreSQL (scripts/kyso-cluster), a bounded load through
the balancer that kills one instance with SIGKILL halfway, and the checks of issue 12.

Used by tests/integration/service/test_cluster.py (short) and bench/bench_cluster.py (the full 60 s form).
The load is bounded by a fixed time and a fixed number of clients; every request is recorded with its start
and end time, so that an error can be told apart: allowed only when the request was in flight on the
killed instance (it started before the kill and ended after it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.support.documents import sample_decision, seal_png, signature_png

ROOT = Path(__file__).resolve().parents[2]
B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
AGENCY = "H26.10"


@dataclass(frozen=True)
class Cluster:
    front_url: str
    instances: tuple[dict, ...]  # {"name", "port", "pid"}
    settings: object
    key: str

    def kill_instance(self, index: int) -> None:
        """SIGKILL to the instance's whole process group (its gunicorn master and workers), then wait until
        its port refuses connections: until then, requests the kernel still accepted for it are in flight
        on the killed instance."""
        import socket

        os.killpg(self.instances[index]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.instances[index]["port"])) != 0:
                    return
            time.sleep(0.01)
        raise AssertionError(f"instance {self.instances[index]['name']} still accepts connections after SIGKILL")


def prepare_home(home: Path, database_url: str, pki, *, roster: str):
    """A kyso home on `database_url` trusting the test PKI, migrated, with the roster and a system key."""
    from kyso.config import Home
    from ledger import import_agencies_csv, open_store
    from service.accounts import Permission
    from service.settings import ServiceSettings
    from service.wiring import add_system_key, migrate_all
    from tests.support.service import write_pki_home

    write_pki_home(home, database_url, pki)
    settings = ServiceSettings.from_home(Home.locate(home))
    migrate_all(settings)
    store = open_store(settings.database_url, migrate_schema=False)
    import_agencies_csv(store, roster)
    store.dispose()
    key = add_system_key(settings, "load", scopes=frozenset({Permission.VALIDATE, Permission.SIGN,
                                                             Permission.DOCUMENTS, Permission.LEDGER}))
    return settings, key


@contextlib.contextmanager
def run_cluster(home: Path, *, settings, key: str, workers: int = 2, instances: int = 2):
    """scripts/kyso-cluster on free loopback ports until the block ends (then SIGTERM: it stops all)."""
    from tests.support.servers import free_port

    ports = [free_port() for _ in range(instances + 1)]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
    state_file = home / "cluster" / "state.json"
    state_file.unlink(missing_ok=True)
    log = open(home / "kyso-cluster.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "kyso-cluster"), "--home", str(home), "--front", str(ports[0]),
         "--ports", ",".join(map(str, ports[1:])), "--workers", str(workers)],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 240
        while not state_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("kyso-cluster did not start: " + (home / "kyso-cluster.log").read_text())
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        yield Cluster(front_url=f"http://127.0.0.1:{state['front']}", instances=tuple(state["instances"]),
                      settings=settings, key=key)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the load -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str  # validate | prepare | complete | register
    started: float
    ended: float
    status: int | None  # None: the connection failed
    error: str = ""


@dataclass
class LoadResult:
    calls: list[Call] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # ledger record ids of 200 completes
    issued_numbers: list[int] = field(default_factory=list)  # numbers of acknowledged issue signatures
    killed_between: tuple[float, float] | None = None
    started: float = 0.0
    ended: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def in_flight_at_kill(self, call: Call) -> bool:
        if self.killed_between is None:
            return False
        return call.started <= self.killed_between[1] and call.ended >= self.killed_between[0]

    def answers_per_second(self, *, before: float | None = None) -> float:
        end = before if before is not None else self.ended
        done = [c for c in self.calls if c.status is not None and c.status < 500 and c.ended <= end]
        return len(done) / (end - self.started)


class Client:
    """One load client: its own HTTP session; every call is timed and recorded."""

    def __init__(self, base_url: str, key: str, pki, result: LoadResult):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {key}"}
        self.pki = pki
        self.result = result
        self.http = requests.Session()

    def call(self, kind: str, method: str, path: str, **kwargs):
        started = time.monotonic()
        try:
            answer = self.http.request(method, f"{self.base_url}{path}", headers={**self.headers,
                                       **kwargs.pop("headers", {})}, timeout=120, **kwargs)
        except requests.RequestException as exc:
            self._record(Call(kind, started, time.monotonic(), None, type(exc).__name__))
            self.http.close()
            self.http = requests.Session()  # a dropped connection is not reused
            return None
        error = "" if answer.status_code < 400 else answer.text[:200]
        self._record(Call(kind, started, time.monotonic(), answer.status_code, error))
        return answer

    def _record(self, call: Call) -> None:
        with self.result.lock:
            self.result.calls.append(call)

    def sign(self, entity, body: dict, *, expected_prepare: int = 201) -> dict | None:
        prepared = self.call("prepare", "POST", "/api/v1/signing-sessions",
                             json={"certificate": B64(entity.der), **body})
        if prepared is None or prepared.status_code != expected_prepare:
            return None
        session = prepared.json()
        value = entity.key.sign_digest(base64.b64decode(session["digest"]),
                                       digest_algorithm=DigestAlgorithm(session["digest_algorithm"]),
                                       scheme=SignatureScheme(session["signature_algorithm"]))
        done = self.call("complete", "POST", f"/api/v1/signing-sessions/{session['id']}/signature",
                         json={"signature": B64(value)})
        if done is None or done.status_code != 200:
            return None
        answer = done.json()
        with self.result.lock:
            self.result.acknowledged.append(answer["ledger_record"])
        return {"session": session, "answer": answer}

    def approve_file(self) -> dict | None:
        return self.sign(self.pki.official_ec, {
            "kind": "approve", "document": DOCUMENT, "agency_code": AGENCY, "signature_image": SIGNATURE,
            "title": "GIÁM ĐỐC", "signer_name": "Nguyễn Văn An"})

    def register_approve_issue(self) -> None:
        registered = self.call("register", "POST", "/api/v1/documents", json={
            "agency_code": AGENCY, "direction": "outgoing", "doc_type": "Quyết định",
            "title": "Về việc ban hành quy chế ký số", "file": DOCUMENT, "filename": "quyet-dinh.pdf"})
        if registered is None or registered.status_code != 201:
            return
        document_id = registered.json()["id"]
        if self.sign(self.pki.official_rsa, {"kind": "approve", "document_id": document_id,
                                             "signature_image": SIGNATURE, "title": "GIÁM ĐỐC"}) is None:
            return
        issued = self.sign(self.pki.agency_rsa, {"kind": "issue", "document_id": document_id, "seal_image": SEAL,
                                                 "series": "QĐ-UBND"})
        if issued is not None:
            with self.result.lock:
                self.result.issued_numbers.append(issued["answer"]["number"]["number"])

    def validate(self, signed_pdf: bytes) -> None:
        self.call("validate", "POST", "/api/v1/validations", data=signed_pdf,
                  headers={"Content-Type": "application/pdf"})


DOCUMENT = B64(sample_decision())
SIGNATURE = B64(signature_png())
SEAL = B64(seal_png())


def run_load(base_url: str, *, key: str, pki, clients: int, seconds: float, signed_pdf: bytes,
             kill=None) -> LoadResult:
    """`clients` threads for `seconds`: a quarter validate, a quarter register+approve+issue, the rest
    approve a file; `kill()` is called once, halfway. Every client stops at the deadline."""
    result = LoadResult()
    result.started = time.monotonic()
    deadline = result.started + seconds

    def loop(index: int) -> None:
        client = Client(base_url, key, pki, result)
        while time.monotonic() < deadline:
            if index % 4 == 0:
                client.validate(signed_pdf)
            elif index % 4 == 1:
                client.register_approve_issue()
            else:
                client.approve_file()
        client.http.close()

    threads = [threading.Thread(target=loop, args=(index,), name=f"load-{index}") for index in range(clients)]
    for thread in threads:
        thread.start()
    if kill is not None:
        time.sleep(max(0.0, result.started + seconds / 2 - time.monotonic()))
        before = time.monotonic()
        kill()
        result.killed_between = (before, time.monotonic())
    for thread in threads:
        thread.join()
    result.ended = time.monotonic()
    return result


def first_signed_pdf(base_url: str, *, key: str, pki) -> bytes:
    client = Client(base_url, key, pki, LoadResult())
    done = client.approve_file()
    if done is None:
        raise AssertionError(f"the first signature failed: {client.result.calls}")
    return base64.b64decode(done["answer"]["document"])


# -- the checks ----------------------------------------------------------------------------------------


def problems(result: LoadResult, *, database_url: str, chain: dict, preexisting_records: int = 0) -> list[str]:
    """Everything issue 12 says must hold after the run, as a list of what does not (empty: all hold)."""
    from sqlalchemy import create_engine, text

    found = []
    for call in result.calls:
        bad = call.status is None or call.status >= 400
        if bad and not result.in_flight_at_kill(call):
            found.append(f"{call.kind} answered {call.status or call.error} outside the kill: {call.error[:120]}")
    in_flight = [c for c in result.calls if result.in_flight_at_kill(c) and (c.status is None or c.status >= 500)]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            # Signature records: the covering records of documents, numbers and files (ledger.covered) apart.
            recorded = list(connection.execute(text(
                "SELECT record_id FROM ledger_records WHERE covers IS NULL ORDER BY seq")).scalars())
            rows = connection.execute(text(
                "SELECT number, status FROM ledger_number_reservations WHERE agency_code = :agency "
                "ORDER BY number"), {"agency": AGENCY}).all()
    finally:
        engine.dispose()
    if len(set(recorded)) != len(recorded):
        found.append("a ledger record id appears twice")
    counts = {record: recorded.count(record) for record in set(result.acknowledged)}
    twice = [record for record, count in counts.items() if count != 1]
    if twice:
        found.append(f"acknowledged signatures not in the ledger exactly once: {twice[:5]}")
    if len(set(result.acknowledged)) != len(result.acknowledged):
        found.append("one ledger record id was acknowledged twice")
    unacknowledged = len(recorded) - preexisting_records - len(set(result.acknowledged))
    if unacknowledged > len([c for c in in_flight if c.kind == "complete"]):
        found.append(f"{unacknowledged} records without an acknowledgement, more than the completes in flight "
                     f"at the kill ({len(in_flight)})")
    if not chain.get("intact"):
        found.append(f"the ledger chain is broken: {chain.get('problems')}")
    numbers = [row.number for row in rows]
    if numbers != list(range(1, len(numbers) + 1)):
        found.append(f"issue numbers with gaps or duplicates: {numbers[:20]}")
    final = {row.number for row in rows if row.status == "final"}
    if sorted(result.issued_numbers) != sorted(set(result.issued_numbers)):
        found.append("an issue number was acknowledged twice")
    if not set(result.issued_numbers) <= final:
        found.append(f"acknowledged issue numbers not final: {sorted(set(result.issued_numbers) - final)[:5]}")
    not_final = len(numbers) - len(final)
    if not_final > len([c for c in in_flight if c.kind in ("prepare", "complete")]):
        found.append(f"{not_final} issue numbers reserved but not used, more than the calls in flight at the kill")
    return found
