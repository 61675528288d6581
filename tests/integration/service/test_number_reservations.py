"""Issue numbers taken at prepare are reservations of the signing session (service.signing_sessions over
ledger.numbering): final when the session completes, given again when it expires or fails, so that the
series has no gap. Through HTTP, on SQLite and PostgreSQL."""

import base64
import datetime as dt
import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from policies.keys import DigestAlgorithm, SignatureScheme
from service.signing_sessions import RESERVATION_GRACE
from tests.integration.service.test_signing_flow import B64, register, sign_through_service
from tests.support.documents import sample_decision, seal_png, signature_png

pytestmark = pytest.mark.integration

TTL = 300


@pytest.fixture
def clocked_world(database_url, pki):
    """A service whose clock the test moves (sessions live TTL seconds), with the sample roster."""
    from tests.support.ledger import ROSTER_CSV
    from tests.support.service import FixedClock, build_service_world, pki_components

    clock = FixedClock(dt.datetime.now(dt.timezone.utc))
    components = pki_components(database_url, pki)
    world = build_service_world(database_url, clock=clock, components=components, roster=ROSTER_CSV,
                                signing_session_ttl_seconds=TTL)
    world.clock = clock
    yield world
    components.dispose()
    world.app.extensions["kyso"].engine.dispose()


def approved_document(api, pki) -> dict:
    document = register(api)
    _session, approved = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                              signature_image=B64(signature_png()), title="GIÁM ĐỐC")
    assert approved.status_code == 200, approved.json
    return document


def prepare_issue(api, pki, document_id: int) -> dict:
    answer = api.post("/api/v1/signing-sessions", json={
        "kind": "issue", "certificate": B64(pki.agency_rsa.der), "document_id": document_id,
        "seal_image": B64(seal_png()), "series": "QĐ-UBND"})
    assert answer.status_code == 201, answer.json
    return answer.json


def complete(api, pki, session: dict, *, digest: bytes | None = None):
    value = pki.agency_rsa.key.sign_digest(digest or base64.b64decode(session["digest"]),
                                           digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.RSA_PKCS1V15)
    return api.post(f"/api/v1/signing-sessions/{session['id']}/signature", json={"signature": B64(value)})


def series_state(world, session: dict) -> dict[int, str]:
    year = int(session["number"]["issued_on"][:4])
    return world.app.extensions["kyso"].components.signing.numbers.state("H26.10", year, "default")


def test_an_expired_issue_session_gives_its_number_to_the_next_prepare(clocked_world, pki):
    api = clocked_world.api("dms")
    document = approved_document(api, pki)
    first = prepare_issue(api, pki, document["id"])
    assert (first["number"]["number"], first["number"]["notation"]) == (1, "01/QĐ-UBND")
    assert series_state(clocked_world, first) == {1: "reserved"}

    clocked_world.clock.advance(seconds=TTL + 1 + int(RESERVATION_GRACE.total_seconds()))
    second = prepare_issue(api, pki, document["id"])  # the lapsed reservation is released and taken again
    assert (second["number"]["number"], second["number"]["notation"]) == (1, "01/QĐ-UBND")
    late = complete(api, pki, first)
    assert (late.status_code, late.json["message"]) == (410, "this signing session has expired; prepare again")
    assert series_state(clocked_world, second) == {1: "reserved"}  # the dead session did not release it

    issued = complete(api, pki, second)
    assert issued.status_code == 200, issued.json
    assert issued.json["number"]["notation"] == "01/QĐ-UBND"
    assert series_state(clocked_world, second) == {1: "final"}
    stored = api.get(f"/api/v1/documents/{document['id']}").json
    assert (stored["number"], stored["notation"]) == (1, "QĐ-UBND")
    # A completed number is never handed out again: the next document gets 02.
    other = approved_document(api, pki)
    assert prepare_issue(api, pki, other["id"])["number"]["notation"] == "02/QĐ-UBND"


def test_refused_completions_until_expiry_release_the_number(clocked_world, pki):
    api = clocked_world.api("dms")
    document = approved_document(api, pki)
    session = prepare_issue(api, pki, document["id"])
    assert session["number"]["number"] == 1
    for _ in range(3):  # a signature over another digest: refused, the session stays open and keeps 01
        refused = complete(api, pki, session, digest=hashlib.sha256(b"another document").digest())
        assert refused.status_code == 422, refused.json
        assert series_state(clocked_world, session) == {1: "reserved"}
    assert api.get(f"/api/v1/signing-sessions/{session['id']}").json["status"] == "prepared"

    clocked_world.clock.advance(seconds=TTL + 1)  # expired, still inside the reservation's grace
    dead = complete(api, pki, session, digest=hashlib.sha256(b"another document").digest())
    assert (dead.status_code, dead.json["message"]) == (410, "this signing session has expired; prepare again")
    assert series_state(clocked_world, session) == {1: "released"}  # released at once, not at the next prepare

    again = prepare_issue(api, pki, document["id"])
    assert again["number"]["notation"] == "01/QĐ-UBND"
    issued = complete(api, pki, again)
    assert issued.status_code == 200 and issued.json["number"]["notation"] == "01/QĐ-UBND"
    assert series_state(clocked_world, again) == {1: "final"}


def test_a_completion_whose_reservation_lapsed_fails_and_never_uses_the_number(clocked_world, pki):
    """The number went to another session meanwhile: the late completion is refused and recorded nothing,
    the session is failed, and the number is final once only (for the session that now holds it)."""
    api = clocked_world.api("dms")
    first_document, second_document = approved_document(api, pki), approved_document(api, pki)
    first = prepare_issue(api, pki, first_document["id"])
    engine = clocked_world.app.extensions["kyso"].engine
    with engine.begin() as connection:  # the reservation lapses although the session has not (a slow worker)
        connection.execute(text("UPDATE ledger_number_reservations SET expires_at = :at WHERE holder = :holder"),
                           {"at": clocked_world.clock.now - dt.timedelta(seconds=1), "holder": first["id"]})
    second = prepare_issue(api, pki, second_document["id"])
    assert second["number"]["number"] == 1
    refused = complete(api, pki, first)
    assert (refused.status_code, refused.json["message"]) == (
        409, "the number reserved for this signing session lapsed and was given back; prepare again")
    assert api.get(f"/api/v1/signing-sessions/{first['id']}").json["status"] == "failed"
    assert api.get(f"/api/v1/documents/{first_document['id']}").json["number"] is None
    assert series_state(clocked_world, second) == {1: "reserved"}

    assert complete(api, pki, second).json["number"]["notation"] == "01/QĐ-UBND"
    assert prepare_issue(api, pki, first_document["id"])["number"]["notation"] == "02/QĐ-UBND"
    assert series_state(clocked_world, second) == {1: "final", 2: "reserved"}


def test_concurrent_prepares_get_distinct_numbers_and_abandoned_ones_are_refilled(clocked_world, pki):
    api = clocked_world.api("dms")
    documents = [approved_document(api, pki) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda d: prepare_issue(clocked_world.api("dms"), pki, d["id"]), documents))
    assert sorted(s["number"]["number"] for s in sessions) == [1, 2, 3, 4]
    for session in sessions[0::2]:  # two complete, two are abandoned
        assert complete(api, pki, session).status_code == 200
    abandoned = sorted(s["number"]["number"] for s in sessions[1::2])

    clocked_world.clock.advance(seconds=TTL + 1 + int(RESERVATION_GRACE.total_seconds()))
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = list(pool.map(lambda d: prepare_issue(clocked_world.api("dms"), pki, d["id"]), documents[1::2]))
    assert sorted(s["number"]["number"] for s in again) == abandoned
    for session in again:
        assert complete(api, pki, session).status_code == 200
    numbers = [api.get(f"/api/v1/documents/{d['id']}").json["number"] for d in documents]
    assert sorted(numbers) == [1, 2, 3, 4]
    assert series_state(clocked_world, sessions[0]) == {1: "final", 2: "final", 3: "final", 4: "final"}


def test_a_session_refused_for_good_fails_and_releases_its_number_at_once(clocked_world, pki):
    """The document was signed in another session after the issue was prepared: this issue session can never
    complete, so it is failed and its number released at the refusal, not at its expiry."""
    api = clocked_world.api("dms")
    document = approved_document(api, pki)
    issue = prepare_issue(api, pki, document["id"])
    assert issue["number"]["number"] == 1
    _session, second_approval = sign_through_service(api, pki.official_rsa, kind="approve", document_id=document["id"],
                                                     signature_image=B64(signature_png()), title="GIÁM ĐỐC")
    assert second_approval.status_code == 200, second_approval.json
    refused = complete(api, pki, issue)
    assert (refused.status_code, refused.json["message"]) == (
        409, "the document was signed in another session since this one was prepared; prepare again")
    assert api.get(f"/api/v1/signing-sessions/{issue['id']}").json["status"] == "failed"
    assert series_state(clocked_world, issue) == {1: "released"}
    again = complete(api, pki, issue)
    assert (again.status_code, again.json["message"]) == (409, "this signing session is failed")

    renewed = prepare_issue(api, pki, document["id"])
    assert renewed["number"]["notation"] == "01/QĐ-UBND"
    assert complete(api, pki, renewed).json["number"]["notation"] == "01/QĐ-UBND"
    assert series_state(clocked_world, renewed) == {1: "final"}


def test_concurrent_prepares_in_gunicorn_worker_processes_get_distinct_numbers_without_gaps(tmp_path, database_url, pki):
    """Incoming numbers (taken at prepare, like issue numbers) from concurrent requests served by two gunicorn
    worker processes: distinct; the abandoned ones, once their reservations lapse (set in the database here:
    the real clock cannot be moved in another process), are taken again first by the next prepares."""
    import requests
    from sqlalchemy import create_engine

    from tests.support.ledger import ROSTER_CSV
    from tests.support.service import gunicorn_service, write_pki_home

    home = tmp_path / "home"
    write_pki_home(home, database_url, pki)
    body = {"kind": "incoming", "certificate": B64(pki.agency_ec.der), "agency_code": "H26.10",
            "document": B64(sample_decision()),
            "filename": "den.pdf"}
    with gunicorn_service(home, workers=2, roster=ROSTER_CSV) as service:
        headers = {"Authorization": f"Bearer {service.key}"}

        def prepare_one(_index) -> dict:
            answer = requests.post(f"{service.base_url}/api/v1/signing-sessions", json=body, headers=headers, timeout=60)
            assert answer.status_code == 201, answer.text[:300]
            return answer.json()

        def complete_one(session: dict) -> None:
            value = pki.agency_ec.key.sign_digest(base64.b64decode(session["digest"]),
                                                  digest_algorithm=DigestAlgorithm.SHA256, scheme=SignatureScheme.ECDSA)
            answer = requests.post(f"{service.base_url}/api/v1/signing-sessions/{session['id']}/signature",
                                   json={"signature": B64(value)}, headers=headers, timeout=60)
            assert answer.status_code == 200, answer.text[:300]

        engine = create_engine(service.settings.database_url)

        def numbers() -> dict[str, tuple[int, str]]:
            with engine.connect() as connection:
                rows = connection.execute(text("SELECT holder, number, status FROM ledger_number_reservations "
                                               "WHERE series = 'incoming'")).all()
            return {holder: (number, status) for holder, number, status in rows}

        with ThreadPoolExecutor(max_workers=6) as pool:
            sessions = list(pool.map(prepare_one, range(6)))
        held = numbers()
        assert sorted(held[s["id"]][0] for s in sessions) == [1, 2, 3, 4, 5, 6]
        kept, abandoned = sessions[0::2], sessions[1::2]
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(complete_one, kept))
        with engine.begin() as connection:  # the abandoned sessions' reservations lapse
            connection.execute(text("UPDATE ledger_number_reservations SET expires_at = :at WHERE holder IN "
                                    "(:a, :b, :c)"), {"at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1),
                                                      **dict(zip("abc", (s["id"] for s in abandoned)))})
        freed = sorted(held[s["id"]][0] for s in abandoned)
        with ThreadPoolExecutor(max_workers=4) as pool:
            renewed = list(pool.map(prepare_one, range(4)))
        after = numbers()
        assert sorted(after[s["id"]][0] for s in renewed) == freed + [7]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(complete_one, renewed))
        after = numbers()
        assert sorted(number for number, status in after.values() if status == "final") == [1, 2, 3, 4, 5, 6, 7]
        assert len(after) == 7
        engine.dispose()
