"""Issue 12, scale past one machine: two service instances (separate gunicorn masters) behind HAProxy on one
PostgreSQL (scripts/kyso-cluster); 16 clients validate, approve and register+approve+issue through the
balancer for a fixed 20 s, and one instance is killed with SIGKILL (master and workers) halfway. Then: no
error except on requests in flight on the killed instance, every acknowledged signature in the ledger exactly
once, the chain intact, issue numbers without gaps or duplicates. The full 60 s form: bench/bench_cluster.py."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from tests.support.cluster import first_signed_pdf, prepare_home, problems, run_cluster, run_load
from tests.support.ledger import ROSTER_CSV

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("haproxy") is None and not os.path.exists("/usr/sbin/haproxy"),
                       reason="haproxy is not installed (scripts/install-system-packages)"),
]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_instances_behind_haproxy_survive_a_sigkill_of_one(tmp_path, database_url, pki):
    home = tmp_path / "home"
    settings, key = prepare_home(home, database_url, pki, roster=ROSTER_CSV)
    with run_cluster(home, settings=settings, key=key, workers=2) as cluster:
        signed = first_signed_pdf(cluster.front_url, key=key, pki=pki)
        victim = cluster.instances[0]
        result = run_load(cluster.front_url, key=key, pki=pki, clients=16, seconds=20, signed_pdf=signed,
                          kill=lambda: cluster.kill_instance(0))
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{victim['port']}/healthz", timeout=5)
        assert requests.get(f"{cluster.front_url}/healthz", timeout=10).status_code == 200
        chain = requests.get(f"{cluster.front_url}/api/v1/ledger/verify", timeout=60,
                             headers={"Authorization": f"Bearer {key}"}).json()
        after_kill = [c for c in result.calls if c.started > result.killed_between[1] and c.status == 200]
        failed = [c for c in result.calls if c.status is None or c.status >= 500]
        print(f"cluster: {len(result.calls)} calls, {len(result.acknowledged)} signatures acknowledged, "
              f"{len(result.issued_numbers)} issued, {len(after_kill)} answered after the kill, "
              f"{len(failed)} failed in flight: {sorted({(c.kind, c.status or c.error) for c in failed})}")
        assert problems(result, database_url=settings.database_url, chain=chain, preexisting_records=1) == []
        assert len(result.issued_numbers) >= 1
        assert after_kill  # the surviving instance kept answering
