"""The pure coverage builder (ledger/coverage.py): who counts on the roster at a moment, which certificates
are valid, expiring or revoked, one second either side of each boundary."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from ledger.coverage import AgencyFact, HeldCertificate, LevelFact, Person, build_coverage

AT = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
LEVELS = (LevelFact("commune", 3, "Cấp xã", "Commune level"), LevelFact("city", 1, "Cấp thành phố", "City level"))
AGENCIES = (AgencyFact("H26.10", "Sở Nội vụ", "city", date(2008, 8, 1), None),
            AgencyFact("H26.30", "UBND quận Ba Đình", "district", date(2008, 8, 1), date(2025, 6, 30)),
            AgencyFact("H26.90.01", "UBND phường Ba Đình", "commune", date(2025, 7, 1), None))


def person(official_id: int, name: str, agency: str = "H26.10", **kwargs) -> Person:
    return Person(official_id, name, None, f"CCCD:00108501234{official_id}", agency, **kwargs)


def certificate(serial: str, official_id: int | None, *, not_after: datetime, revoked_at: datetime | None = None,
                kind: str = "personal", agency: str = "H26.10") -> HeldCertificate:
    return HeldCertificate(serial, kind, agency, official_id, "x", AT - timedelta(days=300), not_after, revoked_at,
                           "key_compromise" if revoked_at else None)


def coverage(people, certificates, *, at=AT, window_days=60, agency_codes=None):
    return build_coverage(at=at, window_days=window_days, levels=LEVELS, agencies=AGENCIES, people=tuple(people),
                          certificates=tuple(certificates), agency_codes=agency_codes)


def test_validity_ends_exactly_at_not_after():
    people = [person(1, "An")]
    certificates = [certificate("a1", 1, not_after=AT)]
    assert len(coverage(people, certificates).agency("H26.10").with_certificate) == 1
    later = coverage(people, certificates, at=AT + timedelta(seconds=1)).agency("H26.10")
    assert (len(later.with_certificate), len(later.without_certificate)) == (0, 1)


def test_revocation_counts_from_its_moment():
    people = [person(1, "An")]
    certificates = [certificate("a1", 1, not_after=AT + timedelta(days=400), revoked_at=AT)]
    before = coverage(people, certificates, at=AT - timedelta(seconds=1)).agency("H26.10")
    assert ([p.full_name for p in before.with_certificate], before.revoked) == (["An"], ())
    at = coverage(people, certificates).agency("H26.10")
    assert ([p.full_name for p in at.without_certificate], [c.serial for c in at.revoked]) == (["An"], ["a1"])


def test_expiring_window_is_inclusive():
    certificates = [certificate("in", 1, not_after=AT + timedelta(days=60)),
                    certificate("out", 2, not_after=AT + timedelta(days=60, seconds=1))]
    agency = coverage([person(1, "An"), person(2, "Bình")], certificates).agency("H26.10")
    assert [c.serial for c in agency.expiring] == ["in"]
    assert agency.percent == 100.0


def test_active_period_seal_levels_and_scope():
    people = [person(1, "An", active_until=date(2026, 11, 28)), person(2, "Bình", active_from=date(2026, 11, 29)),
              person(3, "Cường", agency="H26.90.01")]
    seal = certificate("s1", None, not_after=AT + timedelta(days=400), kind="agency", agency="H26.90.01")
    report = coverage(people, [seal])
    # Levels by rank; the district (abolished 30 June 2025) is not in force.
    assert [(level.code, [a.code for a in level.agencies]) for level in report.levels] == [
        ("city", ["H26.10"]), ("commune", ["H26.90.01"])]
    department = report.agency("H26.10")
    assert [p.full_name for p in department.without_certificate] == ["Bình"]  # An left the day before
    assert (department.has_valid_seal, report.agency("H26.90.01").has_valid_seal) == (False, True)
    assert report.to_json()["levels"][0]["agencies_without_seal"] == 1
    scoped = coverage(people, [seal], agency_codes=frozenset({"H26.90.01"}))
    assert [a.code for level in scoped.levels for a in level.agencies] == ["H26.90.01"]


def test_nobody_on_the_roster_has_no_rate():
    assert coverage([], []).agency("H26.10").percent is None
