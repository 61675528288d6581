"""Ledger entries validate when built; a record's hash is SHA-256 over the previous hash and canonical JSON."""

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from ledger import InvalidValue, LedgerEntry
from ledger.entries import canonical_bytes, content_of, format_time, normalise_serial, record_hash

UTC = timezone.utc


def _entry(**overrides):
    fields = dict(
        event="signed", agency_code="H26.10", signature_kind="personal", certificate_serial="0A:1B",
        signer_name="Nguyễn Văn An", signed_digest="AB" * 32,
        signing_time=datetime(2025, 8, 5, 9, 0, tzinfo=timezone(timedelta(hours=7))),
        signing_time_source="timestamp", indication="TOTAL_PASSED", signer_identifiers=("CCCD:001085012345",),
    )
    fields.update(overrides)
    return LedgerEntry(**fields)


def test_entry_normalises_its_values():
    entry = _entry()
    assert entry.certificate_serial == "a1b"
    assert entry.signed_digest == "ab" * 32
    assert format_time(entry.signing_time) == "2025-08-05T02:00:00.000000Z"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"indication": "PASSED"}, "invalid indication: 'PASSED' (allowed: TOTAL_PASSED, TOTAL_FAILED, INDETERMINATE)"),
        ({"signature_kind": "seal"}, "invalid signature_kind: 'seal' (allowed: personal, agency, timestamp, package, unknown)"),
        ({"signed_digest": "xyz"}, "signed_digest must be a hex SHA-256/384/512 digest: 'xyz'"),
        ({"signing_time": datetime(2025, 8, 5, 9, 0)}, "a time must carry its UTC offset: datetime.datetime(2025, 8, 5, 9, 0)"),
        ({"certificate_serial": "not-hex"}, "invalid certificate serial: 'not-hex'"),
        ({"signer_name": " "}, "signer_name is empty"),
        ({"event": "correction"}, "a correction (and only a correction) names the record it corrects"),
        ({"corrects": "abc"}, "a correction (and only a correction) names the record it corrects"),
        ({"purpose": "stamp"}, "invalid purpose: 'stamp' (appendix, approve, copy, incoming, issue)"),
        ({"document_id": "12"}, "document_id must be an integer: '12'"),
        ({"signer_identifiers": ("CCCD:1;HC:2",)}, "an identifier may not contain ';'"),
        ({"signer_name": "A" * 301}, "signer_name is not text or longer than 300 characters"),
        ({"agency_code": "H" * 41}, "agency_code is not text or longer than 40 characters"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(overrides, message):
    with pytest.raises(InvalidValue) as caught:
        _entry(**overrides)
    assert caught.value.en == message


def test_serials_in_every_form_normalise_alike():
    assert normalise_serial(0x00BEEF) == normalise_serial("00:be:ef") == normalise_serial("0xBEEF") == "beef"
    assert normalise_serial(0) == "0"


def test_record_hash_is_sha256_of_previous_hash_and_canonical_json():
    content = content_of(_entry(), record_id="r1", recorded_at=datetime(2025, 8, 5, 2, 0, 1, tzinfo=UTC))
    assert content["signing_time"] == "2025-08-05T02:00:00.000000Z"
    prev = "11" * 32
    # Independent of ledger.entries: the canonical form written out with the standard library.
    expected = hashlib.sha256(
        bytes.fromhex(prev) + json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert record_hash(prev, content) == expected
    assert canonical_bytes(content).startswith(b'{"agency_code":"H26.10","certificate_serial":"a1b","corrects":null,')
    assert "Nguyễn Văn An".encode() in canonical_bytes(content)  # UTF-8, not \\u escapes
    changed = dict(content, indication="TOTAL_FAILED")
    assert record_hash(prev, changed) != expected
    assert record_hash("22" * 32, content) != expected


def test_errors_cross_process_boundaries_intact():
    import pickle

    from ledger import RosterImportError, UnknownAgency
    from ledger.errors import CsvProblem

    for error in (
        InvalidValue("sai", "wrong"),
        UnknownAgency("H99"),
        RosterImportError("a.csv", [CsvProblem(2, "code", 1, "trống", "empty")]),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), copy.vi, copy.en) == (type(error), str(error), error.vi, error.en)
    assert pickle.loads(pickle.dumps(UnknownAgency("H99"))).code == "H99"
