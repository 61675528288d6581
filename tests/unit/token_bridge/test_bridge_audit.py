"""The audit log: JSON lines with mode 0600, no PINs, and a cap on refused-request records."""

from __future__ import annotations

import datetime as dt
import json
import stat

from token_bridge.audit import AuditLog, AuditRecord

CLOCK = lambda: dt.datetime(2026, 11, 29, 9, 37, 36, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # noqa: E731


def _refuse(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.record_refused_request(origin="https://evil.example", client="x", method="GET", path="/v1/certificates",
                                   host="127.0.0.1:8988", error_code="origin_refused", message="no")


def test_records_are_json_lines_in_a_private_file(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", clock=CLOCK)
    log.record(AuditRecord(time=log.now(), origin="https://vanban.hanoi.gov.vn", client="Chrome", certificate_id="ab",
                           token_label="an", signer="Nguyễn Văn An", description="Quyết định 12", digest_algorithm="sha256",
                           signature_algorithm="ecdsa", digest="00", outcome="signed"))
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600
    line = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8"))
    assert line["time"] == "2026-11-29T09:37:36+07:00" and line["signer"] == "Nguyễn Văn An"
    assert log.records()[0].outcome == "signed" and log.records()[0].event == "signature"


def test_refused_requests_are_capped_per_minute_and_the_rest_counted():
    now = [0.0]
    log = AuditLog(refusals_per_minute=3, monotonic=lambda: now[0])
    _refuse(log, 5)
    assert len(log.records()) == 3
    now[0] = 61.0
    _refuse(log, 1)
    records = log.records()
    assert [r.error_code for r in records[3:]] == ["refusals_suppressed", "origin_refused"]
    assert records[3].description == "2 more refused request(s) in the previous minute were not recorded"
