"""Helpers for the number-reservation tests: a worker that reserves numbers, keeps some and abandons the
others, run in threads or in separate processes (spawn) against one ledger database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

RESERVATION_YEAR = 2025


def reserve_and_settle(url_or_store, worker: int, count: int, *, abandon_every: int = 3) -> tuple[list[int], list[int]]:
    """Reserve `count` numbers of H26.10/2025/default, one holder each; every `abandon_every`-th is released
    (its signing session abandoned), the others made final (completed). Returns (final, released)."""
    from ledger import SqlNumberAllocator, open_store
    from ledger.numbering import finalize_in

    own = isinstance(url_or_store, str)
    store = open_store(url_or_store, migrate_schema=False) if own else url_or_store
    try:
        allocator = SqlNumberAllocator(store)
        final, released = [], []
        for i in range(count):
            holder = f"w{worker}-{i}"
            now = datetime.now(timezone.utc)
            number = allocator.reserve("H26.10", RESERVATION_YEAR, "default", holder=holder,
                                       expires_at=now + timedelta(hours=1), now=now)
            if i % abandon_every == 0:
                assert allocator.release(holder) == [number]
                released.append(number)
            else:
                with store.transaction() as session:
                    assert finalize_in(session, holder, now=now) == [number]
                final.append(number)
        return final, released
    finally:
        if own:
            store.dispose()
