"""Benchmark and proof of scale-out: two kyso service instances behind HAProxy on one PostgreSQL.

In one run (loopback only, fixed client count and times):
  (0) warm-up:       4 clients for 4 s on each instance directly (imports, fonts, caches; not measured);
  (1) one instance:  the clients drive validation and signing against instance 1 directly, for --seconds/2;
  (2) the cluster:   the same clients through HAProxy (scripts/kyso-cluster) to both instances for --seconds,
                     and instance 1 is killed with SIGKILL (master and workers) halfway.
Printed: answers/s of (1), of (2) before the kill and after it, the ratios to (1), and the checks of issue 12
(no error except on requests in flight on the killed instance, every acknowledged signature in the ledger
exactly once, the chain intact, issue numbers without gaps or duplicates); exit 1 when a check fails.
The mix: a quarter of the clients validate a signed PDF, a quarter register+approve+issue a document, the
rest approve a file (prepare + the key signs + complete). The test PKI (our ca/) is served in this process.
On a 2-core machine both instances share the same cores, so the ratio shows the overhead of the balancer
more than a gain; on two machines it is the gain.

Run: .venv/bin/python bench/bench_cluster.py [--clients 16] [--seconds 60] [--workers 2] [--json]
     (PostgreSQL: KYSO_TEST_DATABASE_URL, else scripts/start-postgres is run)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def postgres_database() -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ.get("KYSO_TEST_DATABASE_URL") or subprocess.run(
        [str(ROOT / "scripts" / "start-postgres")], capture_output=True, text=True, check=True).stdout.strip()
    name = f"kyso_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def merged(first, second):
    from tests.support.cluster import LoadResult

    result = LoadResult(calls=first.calls + second.calls, acknowledged=first.acknowledged + second.acknowledged,
                        issued_numbers=first.issued_numbers + second.issued_numbers,
                        killed_between=second.killed_between)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--json", action="store_true", help="also print one JSON object of the measures, last")
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)

    import requests

    from service.pki import create_pki_app
    from tests.support.cluster import first_signed_pdf, prepare_home, problems, run_cluster, run_load
    from tests.support.ledger import ROSTER_CSV
    from tests.support.pki import build_test_pki
    from tests.support.servers import free_port, serve_wsgi

    database_url, drop = postgres_database()
    try:
        with tempfile.TemporaryDirectory(prefix="kyso-bench-cluster-") as folder:
            folder = Path(folder)
            port = free_port()
            pki = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{folder / 'ca.db'}")
            with serve_wsgi(create_pki_app(pki.authority), port=port):
                home = folder / "home"
                settings, key = prepare_home(home, database_url, pki, roster=ROSTER_CSV)
                with run_cluster(home, settings=settings, key=key, workers=arguments.workers) as cluster:
                    signed = first_signed_pdf(cluster.front_url, key=key, pki=pki)
                    direct = f"http://127.0.0.1:{cluster.instances[0]['port']}"
                    warm = [run_load(base_url, key=key, pki=pki, clients=4, seconds=4, signed_pdf=signed)
                            for base_url in (direct, f"http://127.0.0.1:{cluster.instances[1]['port']}")]
                    single = run_load(direct, key=key, pki=pki, clients=arguments.clients,
                                      seconds=arguments.seconds / 2, signed_pdf=signed)
                    both = run_load(cluster.front_url, key=key, pki=pki, clients=arguments.clients,
                                    seconds=arguments.seconds, signed_pdf=signed,
                                    kill=lambda: cluster.kill_instance(0))
                    chain = requests.get(f"{cluster.front_url}/api/v1/ledger/verify", timeout=120,
                                         headers={"Authorization": f"Bearer {key}"}).json()
                    # Both phases wrote to the same ledger: check them together (the first ran without a kill).
                    found = problems(merged(merged(merged(*warm), single), both), database_url=database_url,
                                     chain=chain, preexisting_records=1)
            pki.authority.store.close()
    finally:
        drop()

    one = single.answers_per_second()
    kill_at = both.killed_between[0]
    before = both.answers_per_second(before=kill_at)
    after_calls = [c for c in both.calls if c.started >= both.killed_between[1] and c.status is not None
                   and c.status < 500]
    after = len(after_calls) / (both.ended - both.killed_between[1])
    in_flight = [c for c in both.calls if both.in_flight_at_kill(c) and (c.status is None or c.status >= 500)]
    print(f"bench_cluster: {arguments.clients} clients, loopback, PostgreSQL, HAProxy, "
          f"{arguments.workers} gunicorn workers per instance")
    print(f"{'phase':44} {'answers/s':>10} {'ratio to one instance':>22}")
    print(f"{'one instance, direct':44} {one:10.2f} {1.0:22.2f}")
    print(f"{'two instances via HAProxy, before the kill':44} {before:10.2f} {before / one:22.2f}")
    print(f"{'one left via HAProxy, after the SIGKILL':44} {after:10.2f} {after / one:22.2f}")
    print(f"calls: {len(single.calls)} + {len(both.calls)}; signatures acknowledged {len(both.acknowledged)}; "
          f"issue numbers {len(both.issued_numbers)}; failed in flight at the kill {len(in_flight)}: "
          f"{sorted({(c.kind, c.status or c.error) for c in in_flight})}")
    print("checks: " + ("all hold" if not found else "; ".join(found)))
    if arguments.json:
        print(json.dumps({
            "benchmark": "bench_cluster", "clients": arguments.clients, "seconds": arguments.seconds,
            "baseline": "one instance, direct",
            "measures": [
                {"name": "one instance, direct", "answers_per_second": round(one, 2), "ratio": 1.0},
                {"name": "two instances via HAProxy, before the kill", "answers_per_second": round(before, 2),
                 "ratio": round(before / one, 3)},
                {"name": "one left via HAProxy, after the SIGKILL", "answers_per_second": round(after, 2),
                 "ratio": round(after / one, 3)},
            ],
            "failed_in_flight": len(in_flight), "problems": found,
        }))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
