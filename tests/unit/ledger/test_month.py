"""Months are cut in Asia/Ho_Chi_Minh (UTC+7): checked one second either side of each boundary."""

from datetime import datetime, timedelta, timezone

import pytest

from ledger import InvalidValue
from ledger.report import Month

UTC = timezone.utc


def test_a_document_at_17_30_utc_on_31_july_belongs_to_august_in_hanoi():
    assert Month.containing(datetime(2025, 7, 31, 17, 30, tzinfo=UTC)) == Month(2025, 8)
    assert Month.containing(datetime(2025, 7, 31, 16, 59, 59, tzinfo=UTC)) == Month(2025, 7)
    assert Month.containing(datetime(2025, 7, 31, 17, 0, 0, tzinfo=UTC)) == Month(2025, 8)


def test_month_bounds_one_second_either_side():
    august = Month.parse("2025-08")
    start = datetime(2025, 7, 31, 17, 0, tzinfo=UTC)
    end = datetime(2025, 8, 31, 17, 0, tzinfo=UTC)
    assert august.start == start and august.end == end
    assert august.start.isoformat() == "2025-08-01T00:00:00+07:00"
    assert not august.contains(start - timedelta(seconds=1))
    assert august.contains(start)
    assert august.contains(end - timedelta(seconds=1))
    assert not august.contains(end)


def test_year_end_and_leap_february():
    assert Month(2025, 12).next == Month(2026, 1)
    assert Month(2025, 12).end.isoformat() == "2026-01-01T00:00:00+07:00"
    assert Month(2024, 2).last_day.day == 29 and Month(2025, 2).last_day.day == 28
    assert str(Month(2025, 3)) == "2025-03"


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "2025-8", "08/2025", "", "2025-08-01"])
def test_bad_months_are_refused_with_the_reason(text):
    with pytest.raises(InvalidValue) as caught:
        Month.parse(text)
    assert caught.value.en in (f"month must be YYYY-MM: {text!r}", f"invalid month: {text}")
