"""Number reservations (ledger.numbering): a number taken at prepare is held, made final or released, and a
released number is given again before a new one, so that a series ends without gaps. On SQLite and PostgreSQL."""

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
import multiprocessing

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from ledger import InvalidValue, SqlNumberAllocator
from ledger.numbering import finalize_in, release_in
from tests.support.ledger import DEPARTMENT, utc
from tests.support.numbering import RESERVATION_YEAR, reserve_and_settle

pytestmark = pytest.mark.integration

T0 = utc(2025, 3, 1, 2, 0)


def test_an_expired_reservation_is_given_again_first_and_a_live_one_is_kept(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster)
    assert allocator.reserve(DEPARTMENT, 2025, holder="a", expires_at=T0 + timedelta(minutes=10), now=T0) == 1
    assert allocator.reserve(DEPARTMENT, 2025, holder="b", expires_at=T0 + timedelta(hours=1), now=T0) == 2
    assert allocator.state(DEPARTMENT, 2025) == {1: "reserved", 2: "reserved"}
    # Lazy expiry: at the next allocation of the series after 10 minutes, "a"'s number is released and taken.
    later = T0 + timedelta(minutes=11)
    assert allocator.reserve(DEPARTMENT, 2025, holder="c", expires_at=later + timedelta(minutes=10), now=later) == 1
    assert allocator.state(DEPARTMENT, 2025) == {1: "reserved", 2: "reserved"}
    with ledger_with_roster.transaction() as session:
        assert finalize_in(session, "a", now=later) == []  # "a" lost its number: its completion must not use it
        assert finalize_in(session, "c", now=later) == [1]
        assert finalize_in(session, "b", now=later) == [2]
    assert allocator.reserve(DEPARTMENT, 2025, holder="d", expires_at=later + timedelta(minutes=10), now=later) == 3
    assert allocator.last_number(DEPARTMENT, 2025) == 3


def test_released_numbers_go_first_smallest_first_and_final_numbers_never_again(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster, clock=lambda: T0)
    until = T0 + timedelta(hours=1)
    taken = [allocator.reserve(DEPARTMENT, 2025, holder=f"s{i}", expires_at=until, now=T0) for i in range(1, 6)]
    assert taken == [1, 2, 3, 4, 5]
    with ledger_with_roster.transaction() as session:
        assert finalize_in(session, "s1", now=T0) == [1]
        assert finalize_in(session, "s3", now=T0) == [3]
    assert allocator.release("s4", now=T0) == [4]
    assert allocator.release("s2", now=T0) == [2]
    assert allocator.release("s1", now=T0) == []  # a final number is never released
    assert allocator.state(DEPARTMENT, 2025) == {1: "final", 2: "released", 3: "final", 4: "released", 5: "reserved"}
    # `allocate` (numbers final at once, e.g. ledger.issue_number) also takes released numbers first.
    assert allocator.allocate(DEPARTMENT, 2025) == 2
    assert allocator.reserve(DEPARTMENT, 2025, holder="s6", expires_at=until, now=T0) == 4
    assert allocator.allocate(DEPARTMENT, 2025) == 6
    assert allocator.state(DEPARTMENT, 2025) == {1: "final", 2: "final", 3: "final", 4: "reserved", 5: "reserved",
                                                 6: "final"}
    # Other series, years and agencies are untouched.
    assert allocator.reserve(DEPARTMENT, 2025, "secret", holder="x", expires_at=until, now=T0) == 1
    assert allocator.reserve(DEPARTMENT, 2026, holder="y", expires_at=until, now=T0) == 1


def test_the_database_refuses_a_number_twice_and_a_released_number_with_a_holder(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster, clock=lambda: T0)
    assert allocator.allocate(DEPARTMENT, 2025) == 1
    insert = text("INSERT INTO ledger_number_reservations (agency_code, year, series, number, status, holder, "
                  "expires_at, updated_at) VALUES ('H26.10', 2025, 'default', :number, :status, :holder, NULL, :at)")
    for number, status, holder in ((1, "reserved", "z"), (2, "released", "z"), (2, "reserved", "z"),
                                   (2, "lost", None), (0, "final", None)):
        with pytest.raises(sqlalchemy.exc.IntegrityError):
            with ledger_with_roster.engine.begin() as connection:
                connection.execute(insert, {"number": number, "status": status, "holder": holder, "at": T0})
    with pytest.raises(sqlalchemy.exc.IntegrityError):  # one number, one row: never final and released at once
        with ledger_with_roster.engine.begin() as connection:
            connection.execute(text("UPDATE ledger_number_reservations SET status = 'released' WHERE number = 1"
                                    " AND holder IS NULL AND status = 'final'"))
            connection.execute(text("INSERT INTO ledger_number_reservations (agency_code, year, series, number, "
                                    "status, updated_at) VALUES ('H26.10', 2025, 'default', 1, 'final', :at)"), {"at": T0})
    assert allocator.state(DEPARTMENT, 2025) == {1: "final"}


def test_bad_reservations_are_refused(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster)
    with pytest.raises(InvalidValue) as error:
        allocator.reserve(DEPARTMENT, 2025, holder="", expires_at=T0 + timedelta(minutes=1), now=T0)
    assert error.value.en == "invalid reservation holder: ''"
    with pytest.raises(InvalidValue) as error:
        allocator.reserve(DEPARTMENT, 2025, holder="a", expires_at=T0, now=T0)
    assert error.value.en == "the reservation would expire before it is made"
    assert allocator.state(DEPARTMENT, 2025) == {}


def _check_series(store, results) -> None:
    final = [n for kept, _released in results for n in kept]
    assert len(final) == len(set(final))  # no number final twice
    allocator = SqlNumberAllocator(store)
    last = allocator.last_number(DEPARTMENT, RESERVATION_YEAR)
    state = allocator.state(DEPARTMENT, RESERVATION_YEAR)
    assert sorted(state) == list(range(1, last + 1))  # every number given is accounted for
    assert {n for n, s in state.items() if s == "final"} == set(final)
    released = sorted(n for n, s in state.items() if s == "released")
    assert len(released) == last - len(final)
    # The next allocations fill the holes, smallest first; then the series is 1..last, all final, gap-free.
    assert [allocator.allocate(DEPARTMENT, RESERVATION_YEAR) for _ in released] == released
    assert allocator.state(DEPARTMENT, RESERVATION_YEAR) == {n: "final" for n in range(1, last + 1)}
    assert allocator.allocate(DEPARTMENT, RESERVATION_YEAR) == last + 1


def test_concurrent_reservations_from_threads_are_distinct_and_leave_no_gap(ledger_with_roster):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda w: reserve_and_settle(ledger_with_roster, w, 15), range(4)))
    assert sum(len(kept) for kept, _ in results) == 40
    _check_series(ledger_with_roster, results)


def test_concurrent_reservations_from_processes_are_distinct_and_leave_no_gap(ledger_with_roster, database_url):
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(reserve_and_settle, [database_url] * 3, range(3), [12] * 3))
    assert sum(len(kept) for kept, _ in results) == 24
    _check_series(ledger_with_roster, results)


def test_release_in_and_finalize_in_act_only_on_reserved_numbers(ledger_with_roster):
    allocator = SqlNumberAllocator(ledger_with_roster, clock=lambda: T0)
    allocator.reserve(DEPARTMENT, 2025, holder="s", expires_at=T0 + timedelta(hours=1), now=T0)
    allocator.reserve(DEPARTMENT, 2025, "incoming", holder="s", expires_at=T0 + timedelta(hours=1), now=T0)
    with ledger_with_roster.transaction() as session:
        assert release_in(session, "s", now=T0) == [1, 1]
        assert release_in(session, "s", now=T0) == []
        assert finalize_in(session, "s", now=T0) == []
    assert allocator.state(DEPARTMENT, 2025, "incoming") == {1: "released"}
