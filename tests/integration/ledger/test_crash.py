"""A writer killed with SIGKILL in the middle of appending loses no acknowledged record and leaves the chain
intact, on SQLite (WAL recovery) and PostgreSQL (the server rolls the open transaction back)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from ledger import append, verify_chain
from ledger.models import Record
from tests.support.ledger import make_entry

ROOT = Path(__file__).resolve().parents[3]


def test_sigkill_during_appends_keeps_every_acknowledged_record(ledger_with_roster, database_url):
    store = ledger_with_roster
    child = subprocess.Popen(
        [sys.executable, "-c", f"from tests.support.ledger import append_until_killed; append_until_killed({database_url!r})"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    acknowledged = []
    try:
        for line in child.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) == 40:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        child.wait(timeout=30)
    # Lines still in the pipe were printed after their commit: acknowledged too.
    acknowledged += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
    assert child.returncode == -signal.SIGKILL
    with store.transaction() as session:
        stored = list(session.scalars(select(Record.record_id).order_by(Record.seq)))
    # Everything acknowledged is there, in order; at most the one being acknowledged when killed is extra.
    assert stored[: len(acknowledged)] == acknowledged
    assert len(stored) - len(acknowledged) in (0, 1)
    report = verify_chain(store)
    assert report.intact and report.records == len(stored)
    append(store, make_entry(n=999))  # the chain goes on after the crash
    assert verify_chain(store).records == len(stored) + 1
