"""Issue 9, item 10, on SQLite and PostgreSQL: with the chain head signed by the service's seal on every
append, truncating the chain, moving its head back, rewriting it whole or forging an append are detected
without a published anchor; an inserted record is reported as inserted, not as moved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from ledger import HeadSeal, ProblemKind, append, append_many, seal_current_head, verify_chain
from ledger.entries import content_of, hash_of_row, record_hash
from ledger.models import Record, SignedHeadRow
from signer.keys import InMemoryKey
from tests.support.ledger import make_entry, utc


@pytest.fixture
def sealed(ledger_with_roster):
    store = ledger_with_roster
    store.head_seal = HeadSeal(InMemoryKey.generate_ec())
    records = [append(store, make_entry(n=i)) for i in range(1, 11)]
    return store, records


def _sql(store, statement, **params):
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _kinds(report):
    return [(p.kind, p.seq) for p in report.problems]


def _forge(store, *, seq: int, prev: str, record_id: str, n: int = 99) -> str:
    content = content_of(make_entry(n=n), record_id=record_id, recorded_at=utc(2025, 8, 6))
    digest = record_hash(prev, content)
    _sql(store, f"INSERT INTO ledger_records (seq, prev_hash, hash, {', '.join(content)}) VALUES "
                f"(:seq, :prev, :hash, {', '.join(':' + k for k in content)})", seq=seq, prev=prev, hash=digest,
         **content)
    return digest


def test_every_append_signs_the_head(sealed):
    store, records = sealed
    with store.transaction() as session:
        heads = [(row.seq, row.hash) for row in session.scalars(select(SignedHeadRow).order_by(SignedHeadRow.seq))]
    assert heads == [(r.seq, r.hash) for r in records]
    assert verify_chain(store).intact
    append_many(store, [make_entry(n=11), make_entry(n=12)])  # a batch signs its last head only
    assert verify_chain(store).intact


def test_truncated_chain_with_head_moved_back_is_detected_without_anchor(sealed):
    store, records = sealed
    _sql(store, "DELETE FROM ledger_records WHERE seq > 7")
    _sql(store, "UPDATE ledger_chain_head SET last_seq = 7, last_hash = :h", h=records[6].hash)
    report = verify_chain(store)
    assert _kinds(report) == [(ProblemKind.CHANGED, 7), (ProblemKind.MISSING, 8), (ProblemKind.MISSING, 9),
                              (ProblemKind.MISSING, 10)]
    assert report.problems[0].en == "the chain head was moved back to record 7; record 10 was signed as the head"
    assert report.problems[3].en == ("record 10 was signed as the chain head but is gone: the chain was truncated "
                                     "after record 7")


def test_head_moved_back_over_records_still_there_is_not_called_an_insertion(sealed):
    store, records = sealed
    _sql(store, "UPDATE ledger_chain_head SET last_seq = 7, last_hash = :h", h=records[6].hash)
    report = verify_chain(store)
    assert _kinds(report) == [(ProblemKind.CHANGED, 7)]
    assert report.problems[0].en == "the chain head was moved back to record 7; record 10 was signed as the head"


def test_chain_rewritten_whole_is_detected_without_anchor(sealed):
    store, records = sealed
    _sql(store, "UPDATE ledger_records SET signer_name = 'Kẻ giả mạo' WHERE seq = 3")
    with store.transaction() as session:
        prev = records[1].hash
        for row in session.scalars(select(Record).where(Record.seq >= 3).order_by(Record.seq)):
            row.prev_hash = prev
            row.hash = hash_of_row(row)
            prev = row.hash
    _sql(store, "UPDATE ledger_chain_head SET last_hash = :h", h=prev)
    report = verify_chain(store)
    assert _kinds(report) == [(ProblemKind.CHANGED, seq) for seq in range(3, 11)]
    assert report.problems[0].en == (f"record 3 ({records[2].record_id}) differs from its signed head: the chain "
                                     "was rewritten")
    # Deleting the signed heads as well leaves records that the service never signed.
    _sql(store, "DELETE FROM ledger_signed_heads")
    report = verify_chain(store)
    assert _kinds(report) == [(ProblemKind.INSERTED, seq) for seq in range(1, 11)]
    assert report.problems[0].en == "record 1 is not covered by a signed head: the service did not append it"


def test_append_forged_behind_the_head_is_detected(sealed):
    store, records = sealed
    forged = _forge(store, seq=11, prev=records[-1].hash, record_id="a11a")
    _sql(store, "UPDATE ledger_chain_head SET last_seq = 11, last_hash = :h", h=forged)
    assert verify_chain(store, head_keys=[]).intact  # the links alone cannot tell
    report = verify_chain(store)
    assert [(p.kind, p.seq, p.record_id) for p in report.problems] == [(ProblemKind.INSERTED, 11, "a11a")]
    # A signed head made up for it does not verify with the seal key.
    _sql(store, "INSERT INTO ledger_signed_heads (seq, hash, signed_at, key_sha256, scheme, signature) VALUES "
                "(11, :h, :t, :k, 'ecdsa', :s)", h=forged, t=utc(2025, 8, 6), s=b"\x30\x06\x02\x01\x01\x02\x01\x01",
         k=__import__("ledger.seal", fromlist=["key_fingerprint"]).key_fingerprint(store.head_seal.public_key))
    report = verify_chain(store)
    assert report.problems[0].en == "the signed head at record 11 does not verify with the seal key: it was forged"


def test_sealing_an_existing_ledger_covers_its_records(ledger_with_roster):
    store = ledger_with_roster
    append_many(store, [make_entry(n=i) for i in range(1, 4)])
    store.head_seal = HeadSeal(InMemoryKey.generate_rsa(2048))
    assert _kinds(verify_chain(store)) == [(ProblemKind.INSERTED, seq) for seq in (1, 2, 3)]
    head = seal_current_head(store)
    assert (head.seq, head.scheme) == (3, "rsassa_pkcs1v15")
    assert verify_chain(store).intact
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SignedHeadRow)) == 1


@pytest.fixture
def chained(ledger_with_roster):
    records = append_many(ledger_with_roster, [make_entry(n=i) for i in range(1, 11)])
    return ledger_with_roster, records


def _shift_from(store, seq: int) -> None:
    for old in range(10, seq - 1, -1):
        _sql(store, "UPDATE ledger_records SET seq = :new WHERE seq = :old", new=old + 1, old=old)


def test_inserted_record_claiming_an_earlier_predecessor_is_reported_as_inserted(chained):
    store, records = chained
    _shift_from(store, 7)
    _forge(store, seq=7, prev=records[2].hash, record_id="aa02")  # slipped in after 6, claims to follow 3
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 7, "aa02")]
    assert problems[0].en == "record 7 (aa02) was inserted: no record of the chain links to it"


def test_inserted_record_claiming_a_later_predecessor_is_reported_as_inserted_not_moved(chained):
    store, records = chained
    _shift_from(store, 7)
    _forge(store, seq=7, prev=records[8].hash, record_id="aa03")  # claims to follow record 9 (now at 10)
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 7, "aa03")]


def test_forked_record_at_the_end_is_reported_as_inserted(chained):
    store, records = chained
    _forge(store, seq=11, prev=records[2].hash, record_id="aa01")
    problems = verify_chain(store).problems
    assert [(p.kind, p.seq, p.record_id) for p in problems] == [(ProblemKind.INSERTED, 11, "aa01")]


def test_cli_checks_signed_heads_with_the_seal_certificate(tmp_path, database_url, pki):
    """`kyso ledger verify --head-certificate SEAL.pem`: exit 1 naming the truncation, where the same
    command without the certificate sees an intact chain."""
    import os
    import subprocess
    import sys

    from ledger import import_agencies_csv, open_store
    from tests.support.ledger import ROSTER_CSV

    store = open_store(database_url)
    import_agencies_csv(store, ROSTER_CSV)
    store.head_seal = HeadSeal(pki.agency_rsa.key)
    records = [append(store, make_entry(n=i)) for i in range(1, 4)]
    _sql(store, "DELETE FROM ledger_records WHERE seq = 3")
    _sql(store, "UPDATE ledger_chain_head SET last_seq = 2, last_hash = :h", h=records[1].hash)
    store.dispose()
    seal = tmp_path / "seal.pem"
    seal.write_bytes(pki.agency_rsa.pem)
    env = dict(os.environ, KYSO_HOME=str(tmp_path / "home"), KYSO_DATABASE_URL=database_url)

    def kyso(*args):
        return subprocess.run([sys.executable, "-m", "kyso", *args], env=env, capture_output=True, timeout=120)

    assert kyso("ledger", "verify", "--lang", "en").returncode == 0
    done = kyso("ledger", "verify", "--lang", "en", "--head-certificate", str(seal))
    assert done.returncode == 1, done.stderr
    assert "the chain head was moved back to record 2; record 3 was signed as the head" in done.stdout.decode()
