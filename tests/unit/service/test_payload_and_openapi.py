"""Request parsing (values in, precise errors out), the OpenAPI builder and the receipt's words: no I/O."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from flask import Flask

from service.api import payload
from service.errors import BadRequest, NotAPdf
from service.receipt import receipt_lines


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: payload.text({}, "title"), "field 'title' is required"),
        (lambda: payload.text({"title": 5}, "title"), "field 'title' must be a string"),
        (lambda: payload.text({"title": "x" * 11}, "title", max_length=10), "field 'title' is longer than 10 characters"),
        (lambda: payload.text({"title": "a\x00b"}, "title"), "field 'title' contains control characters"),
        (lambda: payload.code({"agency_code": "H26 10"}, "agency_code"),
         "field 'agency_code' is not a valid code (letters, digits, . _ : -; at most 64)"),
        (lambda: payload.choice({"kind": "sign"}, "kind", ("approve", "issue")),
         "field 'kind' must be one of: approve, issue"),
        (lambda: payload.boolean({"secret": "yes"}, "secret", default=False), "field 'secret' must be true or false"),
        (lambda: payload.date({"day": "29/11/2026"}, "day"), "field 'day' must be a date YYYY-MM-DD"),
        (lambda: payload.base64_bytes({"digest": "%%%"}, "digest"), "field 'digest' is not valid base64"),
        (lambda: payload.month("2026-1"), "invalid month '2026-1' (expected YYYY-MM)"),
        (lambda: payload.month(None), "query parameter 'month' (YYYY-MM) is required"),
    ],
)
def test_field_errors_name_the_field(call, message):
    with pytest.raises(BadRequest) as caught:
        call()
    assert caught.value.message_en == message
    assert caught.value.message_vi  # every refusal also speaks Vietnamese


def test_values_come_out_typed_and_normalised():
    assert payload.text({"t": "Hoa\u0300"}, "t") == "Hoà"  # NFC: one code point per Vietnamese letter
    assert payload.text({"t": "x'); DROP TABLE t;--"}, "t") == "x'); DROP TABLE t;--"  # free text stays verbatim
    assert payload.code({"c": "000.00.00.G22"}, "c") == "000.00.00.G22"
    assert payload.code({"c": "MST:0100686209-199"}, "c") == "MST:0100686209-199"
    assert payload.date({"d": "2026-11-29"}, "d") == dt.date(2026, 11, 29)
    assert payload.month("2025-07") == (2025, 7)
    assert payload.base64_bytes({"b": "AAEC"}, "b") == b"\x00\x01\x02"


def test_pdf_header_is_required():
    payload.require_pdf(b"%PDF-1.7\n...")
    payload.require_pdf(b"\n  %PDF-1.4")
    with pytest.raises(NotAPdf) as caught:
        payload.require_pdf(b"PK\x03\x04")
    assert (caught.value.status, caught.value.code) == (400, "not_a_pdf")


def test_openapi_builder_describes_methods_parameters_and_security():
    from service.openapi import build_document, operation

    app = Flask("probe")

    @app.post("/api/v1/things/<int:thing_id>/parts")
    @operation("Add a part", tag="things", permission="documents")
    def add_part(thing_id):
        return ""

    @app.get("/undescribed")
    def undescribed():
        return ""

    document = build_document(app)
    op = document["paths"]["/api/v1/things/{thing_id}/parts"]["post"]
    assert op["parameters"] == [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert op["x-kyso-permission"] == "documents" and set(op["responses"]) == {"200", "401", "403"}
    assert "/undescribed" not in document["paths"]
    json.dumps(document)  # serialisable as it is served


def test_receipt_words_are_vietnamese_with_offsets():
    report = {"indication": "INDETERMINATE", "messages": [], "signatures": [{
        "field": "Sig1", "indication": "INDETERMINATE", "sub_indication": "TRY_LATER",
        "signer": {"common_name": "Trần Thị Bình", "identifiers": ["CCCD:001190054321"], "organization": None},
        "kind": "personal", "signing_time": "2026-11-29T09:37:36+07:00", "signing_time_source": "claimed",
        "modifications": "none", "trust_anchor": None, "messages": ["Không lấy được thông tin thu hồi"]}]}
    validation = SimpleNamespace(report_vi=json.dumps(report), filename="den.pdf", sha256="0" * 64, id="a" * 32,
                                 created_at=dt.datetime(2026, 11, 29, 2, 37, tzinfo=dt.timezone.utc),
                                 document_id=None, returned=False)
    lines = [text for text, _bold in receipt_lines(validation, now=validation.created_at)]
    assert "Thời điểm kiểm tra: 2026-11-29T09:37:00+07:00" in lines
    assert "Kết luận: CHƯA XÁC ĐỊNH ĐƯỢC" in lines
    assert "Chữ ký 1 (Sig1): CHƯA XÁC ĐỊNH ĐƯỢC - TRY_LATER" in lines
    assert "  Thời gian ký: 2026-11-29T09:37:36+07:00 (do người ký khai)" in lines
    assert "  - Không lấy được thông tin thu hồi" in lines
