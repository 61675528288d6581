"""Issue 9, item 8: a roster key bound to one agency imported agencies and officials under another. Every
roster write is bound to the key's or user's agency and its subordinates (administrators excepted); a refusal
is a 403 naming each row and stores nothing. On SQLite and PostgreSQL."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Agency, Official
from service.accounts import Permission, create_api_key
from tests.support.ledger import ROSTER_CSV
from tests.support.service import build_service_world

pytestmark = pytest.mark.integration


@pytest.fixture
def world(database_url):
    world = build_service_world(database_url, roster=ROSTER_CSV)
    engine = world.app.extensions["kyso"].engine
    with Session(engine) as db, db.begin():
        for name, agency in (("roster-noi-vu", "H26.10"), ("roster-ba-dinh", "H26.30"), ("roster-unbound", None)):
            _row, token = create_api_key(db, name, scopes=frozenset({Permission.ROSTER}), agency_code=agency,
                                         now=dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc))
            world.keys[name] = token
    yield world
    engine.dispose()


def _roster(world) -> tuple[list[str], int]:
    with Session(world.app.extensions["kyso"].engine) as db:
        return sorted(db.scalars(select(Agency.code))), db.scalar(select(func.count()).select_from(Official))


def _post(client, path: str, text: str):
    return client.post(path, data=text.encode(), content_type="text/csv", headers={"X-Filename": "roster.csv"})


OTHER_AGENCY = """code,legacy_code,name,level,parent_code,valid_from,valid_until
H26.30.02,,UBND phường Trúc Bạch,commune,H26.30,2008-08-01,
"""
OWN_SUBORDINATE = """code,legacy_code,name,level,parent_code,valid_from,valid_until
H26.30.02,,UBND phường Trúc Bạch,commune,H26.30,2008-08-01,
H26.30.03,,UBND phường Quán Thánh,commune,H26.30.02,2008-08-01,
"""
OFFICIALS_OF_TWO = """agency_code,full_name,title,identifiers
H26.30,Trần Văn An,Chủ tịch,CCCD:001190033333
H26.10,Lê Thị Mai,Giám đốc,CCCD:001190022222
"""


def test_roster_key_of_one_agency_cannot_add_agencies_under_another(world):
    before = _roster(world)
    refused = _post(world.api("roster-noi-vu"), "/api/v1/roster/agencies", OTHER_AGENCY)
    assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    assert [(p["line"], p["column"], p["message"]) for p in refused.json["detail"]["problems"]] == [
        (2, "parent_code", "agency 'H26.30.02' is not under H26.10, the caller's agency")]
    assert _roster(world) == before
    allowed = _post(world.api("roster-ba-dinh"), "/api/v1/roster/agencies", OWN_SUBORDINATE)
    assert allowed.status_code == 200 and allowed.json["agencies"] == ["H26.30.02", "H26.30.03"]


def test_roster_key_cannot_add_a_top_level_agency(world):
    before = _roster(world)
    top = "code,legacy_code,name,level,parent_code,valid_from,valid_until\nH27,,Tỉnh khác,city,,2008-08-01,\n"
    refused = _post(world.api("roster-ba-dinh"), "/api/v1/roster/agencies", top)
    assert refused.status_code == 403
    assert refused.json["detail"]["problems"][0]["message"] == "agency 'H27' is not under H26.30, the caller's agency"
    assert _roster(world) == before


def test_roster_key_of_one_agency_cannot_add_officials_of_another(world):
    before = _roster(world)
    refused = _post(world.api("roster-ba-dinh"), "/api/v1/roster/officials", OFFICIALS_OF_TWO)
    assert refused.status_code == 403
    assert [(p["line"], p["column"], p["message"]) for p in refused.json["detail"]["problems"]] == [
        (3, "agency_code", "agency 'H26.10' is not H26.30, the caller's agency, nor under it")]
    assert _roster(world) == before  # the row of its own agency was not stored either
    own = "\n".join(OFFICIALS_OF_TWO.splitlines()[:2]) + "\n"
    assert _post(world.api("roster-ba-dinh"), "/api/v1/roster/officials", own).json == {"imported": 1}


def test_roster_key_bound_to_no_agency_is_refused(world):
    before = _roster(world)
    refused = _post(world.api("roster-unbound"), "/api/v1/roster/agencies", OTHER_AGENCY)
    assert (refused.status_code, refused.json["message"]) == (
        403, "roster writes need an API key or account bound to an agency, or an administrator")
    assert _roster(world) == before


def test_administrator_writes_the_roster_of_any_agency(world):
    admin = world.logged_in("admin")
    assert _post(admin, "/api/v1/roster/agencies", OTHER_AGENCY).status_code == 200
    assert _post(admin, "/api/v1/roster/officials", OFFICIALS_OF_TWO).json == {"imported": 2}
    assert _roster(world) == (["H26", "H26.10", "H26.30", "H26.30.01", "H26.30.02", "H26.90.01"], 2)
