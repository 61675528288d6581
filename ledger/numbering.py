"""Document numbers (Decree 30/2020, art. 15): from 01 on 1 January, unique per agency and year, per series;
secret documents are numbered in a series of their own.

Every number given is a row of `ledger_number_reservations`, unique per (agency, year, series, number), in one
of three states: `reserved` (held by a holder, e.g. a signing session, until `expires_at`), `final` (used by a
document: never given again) or `released` (its holder gave it up: the next allocation of the series takes the
smallest released number before a new one, so the series ends without gaps). A number has one row, so it can
never be both final and released; every change of state is one `UPDATE ... WHERE status = ...` whose row count
says whether it happened.

An allocation runs in one transaction that first locks the counter row of (agency, year, series) with an
upsert (`INSERT ... ON CONFLICT DO UPDATE`): allocations of one series are serialised (PostgreSQL: the row
lock until commit; SQLite: the database write lock), so concurrent callers, in threads or processes, get
distinct numbers. In that transaction, reservations of the series past their `expires_at` are released first
(lazy expiry), then the smallest released number is taken, else the counter moves on by one. The documents
table has a unique constraint on the same key, so a number can be used once even by a caller that bypasses
the allocator.

Hash-only signing takes the number at prepare (it is printed before the digest exists): the service calls
`reserve(..., holder=session_id, expires_at=...)`, then `finalize_in` in the transaction that records the
completed signature, or `release_in` / `release` when the session fails or expires.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable, Protocol

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.errors import InvalidValue, UnknownAgency
from ledger.models import Agency, Base, NumberCounter, UtcDateTime
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


RESERVED, FINAL, RELEASED = "reserved", "final", "released"


class NumberReservation(Base):
    """One number of one series and what became of it (see the module docstring)."""

    __tablename__ = "ledger_number_reservations"
    __table_args__ = (
        UniqueConstraint("agency_code", "year", "series", "number", name="uq_ledger_number_reservations_number"),
        CheckConstraint("status IN ('reserved', 'final', 'released')", name="ck_ledger_number_reservations_status"),
        CheckConstraint("number >= 1", name="ck_ledger_number_reservations_positive"),
        # A reservation has a holder and an end; a released number has neither (nobody holds it).
        CheckConstraint("status <> 'reserved' OR (holder IS NOT NULL AND expires_at IS NOT NULL)",
                        name="ck_ledger_number_reservations_held"),
        CheckConstraint("status <> 'released' OR holder IS NULL", name="ck_ledger_number_reservations_free"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    series: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    holder: Mapped[str | None] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def finalize_in(session: Session, holder: str, *, now: datetime, seal=None) -> list[int]:
    """Make the numbers `holder` reserved final, inside the caller's transaction (the one that records the
    document), and cover them in the hash chain (ledger.covered; `seal`: the store's `head_seal`). Returns the
    numbers finalized: a number released meanwhile (its reservation expired) is not among them, and the caller
    must then not use it."""
    from ledger.covered import cover_in

    rows = session.execute(
        update(NumberReservation)
        .where(NumberReservation.holder == holder, NumberReservation.status == RESERVED)
        .values(status=FINAL, expires_at=None, updated_at=now)
        .returning(NumberReservation.id, NumberReservation.number)
    ).all()
    if rows:
        cover_in(session, numbers=[row.id for row in rows], seal=seal, clock=lambda: now)
    return sorted(int(row.number) for row in rows)


def release_in(session: Session, holder: str, *, now: datetime) -> list[int]:
    """Release the numbers `holder` still has reserved, inside the caller's transaction. Final numbers stay."""
    rows = session.execute(
        update(NumberReservation)
        .where(NumberReservation.holder == holder, NumberReservation.status == RESERVED)
        .values(status=RELEASED, holder=None, expires_at=None, updated_at=now)
        .returning(NumberReservation.number)
    ).scalars().all()
    return sorted(int(number) for number in rows)


class SqlNumberAllocator:
    """Numbers kept in the ledger's database."""

    def __init__(self, store: Store, *, require_known_agency: bool = True,
                 clock: Callable[[], datetime] | None = None):
        self.store = store
        self.require_known_agency = require_known_agency
        self.clock = clock or _utcnow

    def allocate(self, agency_code: str, year: int, series: str = DEFAULT_SERIES) -> int:
        """The next number of (agency, year, series), final at once: the smallest released number, else
        one more than the last given (from 1)."""
        return self._take(agency_code, year, series, holder=None, expires_at=None, now=self.clock())

    def reserve(self, agency_code: str, year: int, series: str = DEFAULT_SERIES, *, holder: str,
                expires_at: datetime, now: datetime | None = None) -> int:
        """Like `allocate`, but the number stays `holder`'s reservation until `finalize_in` makes it final or
        `release`/`release_in`/expiry (at `expires_at`, seen by the next allocation of the series) frees it."""
        if not isinstance(holder, str) or not 1 <= len(holder) <= 64:
            raise InvalidValue(f"người giữ số không hợp lệ: {holder!r}", f"invalid reservation holder: {holder!r}")
        now = now or self.clock()
        if expires_at <= now:
            raise InvalidValue("hạn giữ số đã qua", "the reservation would expire before it is made")
        return self._take(agency_code, year, series, holder=holder, expires_at=expires_at, now=now)

    def release(self, holder: str, *, now: datetime | None = None) -> list[int]:
        """Release what `holder` still has reserved (e.g. its signing session failed). Returns the numbers."""
        with self.store.transaction() as session:
            return release_in(session, holder, now=now or self.clock())

    def _take(self, agency_code: str, year: int, series: str, *, holder: str | None,
              expires_at: datetime | None, now: datetime) -> int:
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
            raise InvalidValue(f"năm không hợp lệ: {year!r}", f"invalid year: {year!r}")
        if not isinstance(series, str) or not _SERIES.match(series):
            raise InvalidValue(f"sổ/loại số không hợp lệ: {series!r}", f"invalid numbering series: {series!r}")
        insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
        key = (NumberReservation.agency_code == agency_code, NumberReservation.year == year,
               NumberReservation.series == series)
        status = RESERVED if holder is not None else FINAL
        with self.store.transaction() as session:
            if self.require_known_agency and session.get(Agency, agency_code) is None:
                raise UnknownAgency(agency_code)
            # Lock the series: the counter row, created at 0 if new (PostgreSQL keeps the row lock until
            # commit; on SQLite this write takes the database's write lock).
            session.execute(
                insert(NumberCounter)
                .values(agency_code=agency_code, year=year, series=series, last_number=0)
                .on_conflict_do_update(index_elements=["agency_code", "year", "series"],
                                       set_={"last_number": NumberCounter.last_number})
            )
            # Lazy expiry: reservations of this series whose holder let them lapse.
            session.execute(
                update(NumberReservation)
                .where(*key, NumberReservation.status == RESERVED, NumberReservation.expires_at <= now)
                .values(status=RELEASED, holder=None, expires_at=None, updated_at=now)
            )
            free = session.scalar(
                select(NumberReservation.id).where(*key, NumberReservation.status == RELEASED)
                .order_by(NumberReservation.number).limit(1)
            )
            if free is not None:
                number = session.execute(
                    update(NumberReservation)
                    .where(NumberReservation.id == free, NumberReservation.status == RELEASED)
                    .values(status=status, holder=holder, expires_at=expires_at, updated_at=now)
                    .returning(NumberReservation.number)
                ).scalar_one()  # the series is locked: the row is still released
                self._cover_if_final(session, free, status)
                return int(number)
            number = int(session.execute(
                update(NumberCounter)
                .where(NumberCounter.agency_code == agency_code, NumberCounter.year == year,
                       NumberCounter.series == series)
                .values(last_number=NumberCounter.last_number + 1)
                .returning(NumberCounter.last_number)
            ).scalar_one())
            reservation = NumberReservation(agency_code=agency_code, year=year, series=series, number=number,
                                            status=status, holder=holder, expires_at=expires_at, updated_at=now)
            session.add(reservation)
            session.flush()  # the unique constraint speaks here, inside the transaction
            self._cover_if_final(session, reservation.id, status)
            return number

    def _cover_if_final(self, session: Session, reservation_id: int, status: str) -> None:
        """A number final at once enters the hash chain in its own transaction (ledger.covered)."""
        if status == FINAL:
            from ledger.covered import cover_in

            cover_in(session, numbers=[reservation_id], seal=self.store.head_seal, clock=self.clock)

    def last_number(self, agency_code: str, year: int, series: str = DEFAULT_SERIES) -> int:
        """The highest number given so far (0 when none yet); released numbers below it are given again."""
        with self.store.transaction() as session:
            value = session.scalar(
                select(NumberCounter.last_number).where(
                    NumberCounter.agency_code == agency_code, NumberCounter.year == year, NumberCounter.series == series
                )
            )
            return int(value or 0)

    def state(self, agency_code: str, year: int, series: str = DEFAULT_SERIES) -> dict[int, str]:
        """Every number of the series given so far and its state (reserved, final, released)."""
        with self.store.transaction() as session:
            rows = session.execute(
                select(NumberReservation.number, NumberReservation.status).where(
                    NumberReservation.agency_code == agency_code, NumberReservation.year == year,
                    NumberReservation.series == series)
            ).all()
            return {int(number): status for number, status in sorted(rows)}
