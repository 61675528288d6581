"""Rate tracking: signatures made through the plugin endpoint reach the central service's ledger through a
local outbox; the service down during a signing, then up: the record arrives exactly once; the monthly
report counts the approved-then-issued document."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support import documents
from tests.support.servers import free_port, serve_wsgi
from tests.support.softhsm import PERSONAL_SUBJECT

pytestmark = pytest.mark.integration

SIGNER = dict(PERSONAL_SUBJECT)["common_name"]
TITLE = dict(PERSONAL_SUBJECT)["title"]
AGENCY = "H26.10"


def _records(world):
    from ledger.models import Record

    with Session(world.app.extensions["kyso"].engine) as db:
        # Signature records (the covering records of documents and files, ledger.covered, apart).
        return list(db.scalars(select(Record).where(Record.covers.is_(None)).order_by(Record.seq)))


def test_service_down_then_up_records_each_signature_once_and_the_report_counts_the_document(
        vgca_world, signing_world, tmp_path):
    from kyso.vgca.reporting import FlushResult, ServiceReporter

    port = free_port()
    reporter = ServiceReporter(tmp_path / "outbox", service_url=f"http://127.0.0.1:{port}",
                               api_key=signing_world.keys["dms"], agency_code=AGENCY, timeout=10)
    vgca_world.server.endpoint.report = reporter
    vgca_world.dms.files["qd.pdf"] = documents.decision_pdf(title=TITLE.upper(), name=SIGNER)

    approved = vgca_world.call("SignApproved", vgca_world.document_frame("qd.pdf"))
    assert approved["Status"] == 0  # the service is down: the signature stands, the report waits
    assert len(reporter.pending()) == 1
    assert _records(signing_world) == []

    with serve_wsgi(signing_world.app, port=port):
        queued = tmp_path / "copy"
        shutil.copytree(tmp_path / "outbox", queued, ignore=shutil.ignore_patterns("refused"))
        assert reporter.flush() == FlushResult(sent=1, pending=0, refused=0)
        # the answer was "lost": the same report is sent again and recorded once
        for item in queued.iterdir():
            shutil.copy(item, tmp_path / "outbox" / item.name)
        assert reporter.flush() == FlushResult(sent=1, pending=0, refused=0)
        records = _records(signing_world)
        assert [(r.purpose, r.signature_kind, r.indication, r.agency_code) for r in records] == [
            ("approve", "personal", "TOTAL_PASSED", AGENCY)]

        vgca_world.dms.files["qd-approved.pdf"] = vgca_world.dms.uploads[0]["data"]
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7)))
        issued = vgca_world.call("SignIssued", vgca_world.document_frame("qd-approved.pdf", DocNumber="7/QĐ-SNV"))
        assert issued["Status"] == 0, issued
        assert reporter.pending() == []  # the service was up: sent at once
        records = _records(signing_world)
        assert [(r.purpose, r.signature_kind, r.indication) for r in records] == [
            ("approve", "personal", "TOTAL_PASSED"), ("issue", "agency", "TOTAL_PASSED")]
        assert records[0].document_id == records[1].document_id  # one document, both signatures

        reader = signing_world.api("reader")
        month = today.strftime("%Y-%m")
        answer = reader.get(f"/api/v1/reports/monthly?month={month}&format=json")
        assert answer.status_code == 200, answer.data
        body = answer.get_json()
        [city] = [level for level in body["levels"] if level["code"] == "city"]
        [agency] = [a for a in city["agencies"] if a["code"] == AGENCY]
        figures = agency["figures"]
        assert (figures["outgoing"]["count"], figures["signed_valid_both"]["count"],
                figures["personal_only"]["count"]) == (1, 1, 0)
        assert agency["rates"]["signing_rate"]["percent"] == 100.0
        verify = reader.get("/api/v1/ledger/verify")
        assert verify.status_code == 200 and verify.get_json()["intact"] is True


def test_signature_reports_refuse_what_cannot_be_recorded(signing_world):
    api = signing_world.api("dms")
    unsigned = documents.decision_pdf()

    def post(data, file=unsigned):
        import io

        return api.client.post("/api/v1/signature-reports", headers=api.headers,
                               data={**data, "file": (io.BytesIO(file), "qd.pdf")}, content_type="multipart/form-data")

    answer = post({"agency_code": AGENCY, "purpose": "approve"})
    assert (answer.status_code, answer.get_json()["message"]) == (400, "the file carries no signature")
    answer = post({"agency_code": AGENCY, "purpose": "sign"})
    assert answer.status_code == 400
    assert answer.get_json()["message"] == "'purpose' must be one of approve, issue, incoming, appendix, copy"
    answer = post({"purpose": "approve"})
    assert (answer.status_code, answer.get_json()["message"]) == (400, "field 'agency_code' is missing")
    answer = post({"agency_code": AGENCY, "purpose": "approve"}, file=b"not a pdf")
    assert answer.status_code == 400
    assert _records(signing_world) == []
