"""Document numbers (Decree 30/2020, art. 15): from 01 on 1 January, unique per agency and year, per series;
secret documents are numbered in a series of their own.

`SqlNumberAllocator.allocate` is one atomic upsert (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`) on the
counter row of (agency, year, series): concurrent callers, in threads or processes, on SQLite or PostgreSQL,
get distinct consecutive numbers. The documents table has a unique constraint on the same key, so a number
can be used once even by a caller that bypasses the allocator.
"""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.errors import InvalidValue, UnknownAgency
from ledger.models import Agency, NumberCounter
from ledger.store import Store

DEFAULT_SERIES = "default"
SECRET_SERIES = "secret"  # Decree 30, art. 15: secret documents are numbered apart
INCOMING_SERIES = "incoming"  # số đến: the register of incoming documents

_SERIES = re.compile(r"^[A-Za-z0-9À-ỹ_.\-/]{1,40}$")


class NumberAllocator(Protocol):
    def allocate(self, agency_code: str, year: int, series: str) -> int: ...


def format_number(number: int) -> str:
    """Decree 30, Appendix I: numbers below 10 are written with a leading zero ("01")."""
    return f"{number:02d}"


class SqlNumberAllocator:
    """Numbers kept in the ledger's database."""

    def __init__(self, store: Store, *, require_known_agency: bool = True):
        self.store = store
        self.require_known_agency = require_known_agency

    def allocate(self, agency_code: str, year: int, series: str = DEFAULT_SERIES) -> int:
        """The next number of (agency, year, series), starting at 1."""
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
            raise InvalidValue(f"năm không hợp lệ: {year!r}", f"invalid year: {year!r}")
        if not isinstance(series, str) or not _SERIES.match(series):
            raise InvalidValue(f"sổ/loại số không hợp lệ: {series!r}", f"invalid numbering series: {series!r}")
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(NumberCounter)
            .values(agency_code=agency_code, year=year, series=series, last_number=1)
            .on_conflict_do_update(
                index_elements=["agency_code", "year", "series"],
                set_={"last_number": NumberCounter.last_number + 1},
            )
            .returning(NumberCounter.last_number)
        )
        with self.store.transaction() as session:
            if self.require_known_agency and session.get(Agency, agency_code) is None:
                raise UnknownAgency(agency_code)
            return int(session.execute(statement).scalar_one())

    def last_number(self, agency_code: str, year: int, series: str = DEFAULT_SERIES) -> int:
        """The last number given (0 when none yet)."""
        with self.store.transaction() as session:
            value = session.scalar(
                select(NumberCounter.last_number).where(
                    NumberCounter.agency_code == agency_code, NumberCounter.year == year, NumberCounter.series == series
                )
            )
            return int(value or 0)
