"""Concurrent appends and numbering, in threads and in processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from sqlalchemy import select

from ledger import SqlNumberAllocator, append, verify_chain
from ledger.models import Record
from tests.support.ledger import COMMUNE, DEPARTMENT, allocate_in_process, append_in_process, make_entry


def _stored(store) -> tuple[list[int], set[str]]:
    with store.transaction() as session:
        rows = session.execute(select(Record.seq, Record.record_id).order_by(Record.seq)).all()
    return [r.seq for r in rows], {r.record_id for r in rows}


def test_concurrent_appends_from_threads_keep_one_intact_chain(ledger_with_roster):
    store = ledger_with_roster

    def worker(w: int) -> list[str]:
        return [append(store, make_entry(n=w * 1000 + i)).record_id for i in range(15)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        acknowledged = [rid for ids in pool.map(worker, range(6)) for rid in ids]
    seqs, stored = _stored(store)
    assert seqs == list(range(1, 91))
    assert stored == set(acknowledged) and len(acknowledged) == 90
    report = verify_chain(store)
    assert report.intact and report.records == 90 and report.head_seq == 90


def test_concurrent_appends_from_processes_keep_one_intact_chain(ledger_with_roster, database_url):
    store = ledger_with_roster
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(append_in_process, [database_url] * 3, range(3), [20] * 3))
    acknowledged = [rid for ids in results for rid in ids]
    seqs, stored = _stored(store)
    assert seqs == list(range(1, 61))
    assert stored == set(acknowledged) and len(acknowledged) == 60
    assert verify_chain(store).intact


def test_concurrent_numbering_from_threads_gives_distinct_consecutive_numbers(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster)

    def take(_):
        return [allocator.allocate(DEPARTMENT, 2025, "default") for _ in range(20)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = [n for chunk in pool.map(take, range(6)) for n in chunk]
    assert sorted(numbers) == list(range(1, 121))
    # Series, years and agencies are independent; each starts at 01 (Decree 30, art. 15).
    assert allocator.allocate(DEPARTMENT, 2025, "secret") == 1
    assert allocator.allocate(DEPARTMENT, 2026, "default") == 1
    assert allocator.allocate(COMMUNE, 2025, "default") == 1
    assert allocator.last_number(DEPARTMENT, 2025) == 120


def test_concurrent_numbering_from_processes_gives_distinct_consecutive_numbers(ledger_with_roster, database_url):
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(allocate_in_process, [database_url] * 3, [DEPARTMENT] * 3, [15] * 3))
    numbers = [n for chunk in results for n in chunk]
    assert sorted(numbers) == list(range(1, 46))
    assert all(chunk == sorted(chunk) for chunk in results)  # each caller sees its numbers increase


def test_verifying_while_others_append_sees_one_consistent_chain(ledger_with_roster):
    import threading

    store = ledger_with_roster
    append(store, make_entry(n=0))
    stop = threading.Event()
    appended = []

    def writer():
        n = 1
        while not stop.is_set():
            appended.append(append(store, make_entry(n=n)).seq)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reports = []
        while len(reports) < 8 or len(appended) < 20:
            reports.append(verify_chain(store))
            if len(reports) > 200:
                break
    finally:
        stop.set()
        thread.join()
    # Each check saw a snapshot: the head it read and exactly the records up to it, never a false alarm.
    assert [r.problems for r in reports if not r.intact] == []
    assert all(r.records == r.head_seq for r in reports)
    assert verify_chain(store).records == len(appended) + 1


def test_processes_opening_a_new_database_together_migrate_it_once(database_url):
    from sqlalchemy import text

    from ledger import open_store
    from tests.support.ledger import open_in_process

    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        levels = list(pool.map(open_in_process, [database_url] * 3))
    assert levels == [3, 3, 3]
    store = open_store(database_url, migrate_schema=False)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM ledger_alembic_version")).scalars().all() == ["0004"]
        assert conn.execute(text("SELECT count(*) FROM ledger_chain_head")).scalar_one() == 1
    store.dispose()
