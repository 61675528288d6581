"""Ledger fixtures: a migrated ledger store on SQLite and on PostgreSQL, with a small hand-built roster.

`ledger_store` is parametrised through `database_url` (tests/support/database.py): each test runs once on a
fresh SQLite file and once on a fresh PostgreSQL database.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

CITY_PC = "H26"  # UBND Thành phố Hà Nội
DEPARTMENT = "H26.10"  # a department (sở)
DISTRICT = "H26.30"  # a district, abolished on 1 July 2025
COMMUNE = "H26.30.01"  # a ward under the district, commune level
NEW_COMMUNE = "H26.90.01"  # a commune created on 1 July 2025

ROSTER_CSV = """code,legacy_code,name,level,parent_code,valid_from,valid_until
H26,000.00.00.H26,Ủy ban nhân dân Thành phố Hà Nội,city,,2008-08-01,
H26.10,000.10.00.H26,Sở Nội vụ,city,H26,2008-08-01,
H26.30,000.00.30.H26,UBND quận Ba Đình,district,H26,2008-08-01,2025-06-30
H26.30.01,000.00.31.H26,UBND phường Phúc Xá,commune,H26.30,2008-08-01,
H26.90.01,,UBND phường Ba Đình,commune,H26,2025-07-01,
"""


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def ledger_store(database_url):
    """A migrated, empty ledger on SQLite then PostgreSQL."""
    from ledger import open_store

    store = open_store(database_url)
    yield store
    store.dispose()


@pytest.fixture
def ledger_with_roster(ledger_store):
    """The ledger with the five agencies of ROSTER_CSV."""
    from ledger import import_agencies_csv

    import_agencies_csv(ledger_store, ROSTER_CSV)
    return ledger_store


def make_entry(agency_code: str = DEPARTMENT, *, document_id=None, kind="personal", indication="TOTAL_PASSED", n: int = 0, **overrides):
    """A valid ledger entry; `n` varies its digest and serial so entries differ."""
    from ledger import LedgerEntry

    fields = dict(
        event="signed",
        agency_code=agency_code,
        signature_kind=kind,
        certificate_serial=format(0x1000 + n, "x"),
        signer_name="Nguyễn Văn An" if kind == "personal" else "Sở Nội vụ",
        signer_identifiers=("CCCD:001085012345",) if kind == "personal" else ("MST:0100686209",),
        signed_digest=format(n, "064x"),
        signing_time=utc(2025, 8, 5, 2, 0, 0),
        signing_time_source="timestamp",
        indication=indication,
        document_id=document_id,
        purpose="approve" if kind == "personal" else "issue",
    )
    fields.update(overrides)
    return LedgerEntry(**fields)


def append_in_process(url: str, worker: int, count: int) -> list[str]:
    """Run in a separate process (spawn): append `count` entries one by one; return the acknowledged ids."""
    from ledger import append, open_store

    store = open_store(url, migrate_schema=False)
    acknowledged = []
    try:
        for i in range(count):
            acknowledged.append(append(store, make_entry(n=worker * 1000 + i)).record_id)
    finally:
        store.dispose()
    return acknowledged


def allocate_in_process(url: str, agency_code: str, count: int) -> list[int]:
    """Run in a separate process (spawn): take `count` numbers of one agency, year and series."""
    from ledger import SqlNumberAllocator, open_store

    store = open_store(url, migrate_schema=False)
    try:
        allocator = SqlNumberAllocator(store)
        return [allocator.allocate(agency_code, 2025, "default") for _ in range(count)]
    finally:
        store.dispose()


def append_until_killed(url: str) -> None:
    """Entry point of a child process (python -c): append forever, printing each acknowledged record id."""
    import sys

    from ledger import append, open_store

    store = open_store(url, migrate_schema=False)
    n = 0
    while True:
        n += 1
        record = append(store, make_entry(n=n))
        sys.stdout.write(record.record_id + "\n")
        sys.stdout.flush()


def open_in_process(url: str) -> int:
    """Run in a separate process (spawn): open (and migrate) the ledger; return how many levels it holds."""
    from sqlalchemy import func, select

    from ledger import open_store
    from ledger.models import Level

    store = open_store(url)
    try:
        with store.transaction() as session:
            return session.scalar(select(func.count()).select_from(Level))
    finally:
        store.dispose()
