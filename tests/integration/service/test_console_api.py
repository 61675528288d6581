"""The console's API: coverage at a day with its drill-down and exports, officials search / view / edit /
deactivate with history, CSV import previews that store nothing, audit filters, and the roles (a clerk sees
only their agency, an auditor reads and changes nothing)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.support.ledger import ROSTER_CSV
from tests.support.service import FixedClock, build_service_world

pytestmark = pytest.mark.integration

OFFICIALS_CSV = """agency_code,full_name,title,identifiers,certificate_serial,certificate_not_before,certificate_not_after
H26.10,Nguyễn Văn An,Giám đốc,CCCD:001085012345,a1,2026-01-01T00:00:00+00:00,2027-01-01T00:00:00+00:00
H26.10,Trần Thị Bình,Phó Giám đốc,CCCD:001085012346,a2,2026-01-01T00:00:00+00:00,2026-12-20T00:00:00+00:00
H26.10,Lê Văn Cường,Chuyên viên,CCCD:001085012347,,,
H26,Phạm Thị Dung,Chánh Văn phòng,CCCD:001085012348,,,
"""


@pytest.fixture
def console(database_url):
    clock = FixedClock(dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone.utc))
    world = build_service_world(database_url, clock=clock, roster=ROSTER_CSV)
    world.clock = clock
    admin = world.logged_in("admin")
    answer = admin.post("/api/v1/roster/officials", data=OFFICIALS_CSV.encode(), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.json
    yield world
    world.app.extensions["kyso"].components.dispose()
    world.app.extensions["kyso"].engine.dispose()


def test_coverage_counts_and_drills_down_per_agency(console):
    report = console.logged_in("auditor").get("/api/v1/coverage?window_days=30").json
    assert [level["code"] for level in report["levels"]] == ["city", "commune"]
    city = report["levels"][0]
    department = next(a for a in city["agencies"] if a["code"] == "H26.10")
    assert (department["officials"], department["covered"], department["uncovered"], department["percent"]) == (3, 2, 1, 66.7)
    assert [p["full_name"] for p in department["people"]["without_certificate"]] == ["Lê Văn Cường"]
    assert [c["serial"] for c in department["certificates"]["expiring"]] == ["a2"]  # 20 Dec is within 30 days
    assert department["has_valid_seal"] is False
    assert (city["officials"], city["covered"], city["agencies_without_seal"]) == (4, 2, 2)


def test_coverage_exports_csv_and_xlsx(console):
    from openpyxl import load_workbook

    admin = console.logged_in("admin")
    text = admin.get("/api/v1/coverage?format=csv&lang=en").data.decode()
    assert text.splitlines()[0] == ("Level,Code,Agency,Officials,With certificate,Without,Coverage %,"
                                    "Valid seal certificate,Expiring,Revoked")
    assert "city,H26.10,Sở Nội vụ,3,2,1,66.7,no,2,0" in text.splitlines()
    book = load_workbook(io.BytesIO(admin.get("/api/v1/coverage?format=xlsx").data))
    assert book.sheetnames == ["Tổng hợp", "Chi tiết"]
    names = [row[3] for row in book["Chi tiết"].iter_rows(values_only=True)]
    assert "Lê Văn Cường" in names


def test_coverage_on_a_past_day_and_bad_parameters(console):
    admin = console.logged_in("admin")
    before = admin.get("/api/v1/coverage?date=2025-12-31").json
    department = next(a for a in before["levels"][0]["agencies"] if a["code"] == "H26.10")
    assert (department["covered"], department["uncovered"]) == (0, 3)  # certificates start on 1 January 2026
    wrong = admin.get("/api/v1/coverage?date=31/12/2025")
    assert wrong.status_code == 400
    assert wrong.json["message"] == "field 'date' must be a date YYYY-MM-DD"
    assert admin.get("/api/v1/coverage?window_days=-1").json["message"] == "'window_days' must be a whole number from 0 to 3650"


def test_clerk_sees_only_their_agency(console):
    clerk = console.logged_in("clerk")  # clerk of H26.10
    report = clerk.get("/api/v1/coverage").json
    assert [a["code"] for level in report["levels"] for a in level["agencies"]] == ["H26.10"]
    found = clerk.get("/api/v1/roster/officials").json["officials"]
    assert [o["full_name"] for o in found] == ["Lê Văn Cường", "Nguyễn Văn An", "Trần Thị Bình"]
    other = console.logged_in("admin").get("/api/v1/roster/officials?q=dung").json["officials"][0]
    assert clerk.get(f"/api/v1/roster/officials/{other['id']}").status_code == 404
    refused = clerk.get("/api/v1/roster/officials?agency=H26")
    assert refused.status_code == 403
    assert refused.json["message"] == "you may not see the roster of agency H26"
    assert clerk.patch(f"/api/v1/roster/officials/{other['id']}", json={"title": "x"}).status_code == 404
    assert clerk.post("/api/v1/roster/officials/preview", data=b"x", headers={"Content-Type": "text/csv"}).status_code == 403


def test_edit_deactivate_and_history(console):
    admin = console.logged_in("admin")
    official = admin.get("/api/v1/roster/officials?q=cường").json["officials"][0]
    changed = admin.patch(f"/api/v1/roster/officials/{official['id']}", json={"title": "Trưởng phòng"})
    assert changed.status_code == 200, changed.json
    assert changed.json["title"] == "Trưởng phòng"
    wrong = admin.patch(f"/api/v1/roster/officials/{official['id']}", json={"active_from": "2026-12-01", "active_until": "2026-11-01"})
    assert wrong.status_code == 400
    assert wrong.json["message"] == "active_until is before active_from"
    assert admin.get(f"/api/v1/roster/officials/{official['id']}").json["active_from"] is None  # nothing stored
    gone = admin.post(f"/api/v1/roster/officials/{official['id']}/deactivation")
    assert gone.json["active_until"] == "2026-11-29"  # today in Hanoi
    console.clock.advance(days=1)
    view = admin.get(f"/api/v1/roster/officials/{official['id']}").json
    assert view["active"] is False
    assert [(e["action"], e["actor"], e["detail"]["changes"]) for e in view["history"]] == [
        ("official.deactivate", "user:admin", {"active_until": [None, "2026-11-29"]}),
        ("official.update", "user:admin", {"title": ["Chuyên viên", "Trưởng phòng"]}),
    ]
    department = next(a for a in admin.get("/api/v1/coverage").json["levels"][0]["agencies"] if a["code"] == "H26.10")
    assert department["officials"] == 2  # no longer on the roster
    audit = admin.get("/api/v1/audit?agency=H26.10&actor=user:admin&from=2026-11-29&to=2026-11-29").json["events"]
    assert [e["action"] for e in audit] == ["official.deactivate", "official.update"]
    assert admin.get("/api/v1/audit?agency=H26.10&from=2026-11-30").json["events"] == []


def test_auditor_reads_but_changes_nothing(console):
    auditor = console.logged_in("auditor")
    official = auditor.get("/api/v1/roster/officials?q=an").json["officials"][0]
    assert auditor.get(f"/api/v1/roster/officials/{official['id']}").json["may_edit"] is False
    refused = auditor.patch(f"/api/v1/roster/officials/{official['id']}", json={"title": "x"})
    assert refused.status_code == 403
    assert refused.json["message"] == f"you may not change the roster of agency {official['agency_code']}"
    assert auditor.post(f"/api/v1/roster/officials/{official['id']}/deactivation").status_code == 403
    assert console.logged_in("admin").get(f"/api/v1/roster/officials/{official['id']}").json["title"] == official["title"]


def test_import_preview_names_line_and_column_and_stores_nothing(console):
    admin = console.logged_in("admin")
    bad = ("agency_code,full_name,title,identifiers\n"
           "H26.10,Đỗ Văn Em,Chuyên viên,CCCD:001085099999\n"
           "H26.99,Hoàng Thị Gấm,Chuyên viên,CCCD:12\n")
    refused = admin.post("/api/v1/roster/officials/preview", data=bad.encode(), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 400
    assert [(p["line"], p["column"]) for p in refused.json["detail"]["problems"]] == [(3, "agency_code"), (3, "identifiers")]
    good = bad.splitlines()[:2]
    preview = admin.post("/api/v1/roster/officials/preview", data=("\n".join(good) + "\n").encode(),
                         headers={"Content-Type": "text/csv"})
    assert preview.json == {"would_import": 1}
    assert admin.get("/api/v1/roster/officials?q=Đỗ Văn Em").json["officials"] == []  # the preview stored nothing
    agencies = admin.post("/api/v1/roster/agencies/preview",
                          data=b"code,name,level,valid_from\nH26.11,S\xe1\xbb\x9f T\xc6\xb0 ph\xc3\xa1p,city,2008-08-01\n",
                          headers={"Content-Type": "text/csv"})
    assert agencies.json["would_import"] == 1
    assert [a["code"] for a in admin.get("/api/v1/roster/agencies?q=H26.11").json["agencies"]] == []
