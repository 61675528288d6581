"""Stored stamp images: an official's signature image and an agency's seal image, used by prepare when the
request sends none (SQLite and PostgreSQL)."""

import base64
import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from policies.keys import DigestAlgorithm, SignatureScheme
from tests.support.documents import sample_decision, seal_png, signature_png

pytestmark = pytest.mark.integration

B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
UTC = dt.timezone.utc


def enrol_official(world, entity, person_id: str) -> int:
    from ledger import enrol_certificate

    store = world.app.extensions["kyso"].components.ledger
    info = enrol_certificate(store, serial=entity.serial_number, agency_code="H26.10", kind="personal",
                             not_before=dt.datetime(2026, 1, 1, tzinfo=UTC), not_after=dt.datetime(2030, 1, 1, tzinfo=UTC),
                             full_name="Nguyễn Văn An", identifiers=[person_id])
    return info.official_id


def official_account(world, username: str, official_id: int) -> None:
    """An official's account linked to their roster entry, made by the administrator through the API."""
    from tests.support.service import PASSWORD

    created = world.logged_in("admin").post("/api/v1/users", json={
        "username": username, "password": PASSWORD, "roles": ["official"], "agency_code": "H26.10",
        "official_id": official_id})
    assert (created.status_code, created.json["official_id"]) == (201, official_id), created.json


def stored_rows(world) -> list:
    from sqlalchemy import select

    from service.tables import StampImageRow

    with Session(world.app.extensions["kyso"].engine) as db:
        return [(r.owner_kind, r.owner) for r in db.scalars(select(StampImageRow))]


def audit(world, action: str) -> list[tuple[str, str, str]]:
    from service.audit import list_events

    with Session(world.app.extensions["kyso"].engine) as db:
        return [(e["actor"], e["target"], e["outcome"]) for e in reversed(list_events(db, action=action))]


def register(api) -> int:
    answer = api.post("/api/v1/documents", json={
        "agency_code": "H26.10", "direction": "outgoing", "doc_type": "Quyết định",
        "title": "Về việc ban hành quy chế ký số", "file": B64(sample_decision()), "filename": "quyet-dinh.pdf"})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def sign(api, entity, **body):
    prepared = api.post("/api/v1/signing-sessions", json={"certificate": B64(entity.der), **body})
    assert prepared.status_code == 201, prepared.json
    value = entity.key.sign_digest(base64.b64decode(prepared.json["digest"]),
                                   digest_algorithm=DigestAlgorithm(prepared.json["digest_algorithm"]),
                                   scheme=SignatureScheme(prepared.json["signature_algorithm"]))
    done = api.post(f"/api/v1/signing-sessions/{prepared.json['id']}/signature", json={"signature": B64(value)})
    assert done.status_code == 200, done.json
    return done.json


def test_stored_images_sign_approve_then_issue_without_sending_images(signing_world, pki):
    official_id = enrol_official(signing_world, pki.official_rsa, "CCCD:001085012345")
    official_account(signing_world, "an.nguyen", official_id)
    official = signing_world.logged_in("an.nguyen")
    answer = official.put(f"/api/v1/officials/{official_id}/signature-image", json={"image": B64(signature_png())})
    assert answer.status_code == 200, answer.json
    clerk = signing_world.logged_in("clerk")
    answer = clerk.put("/api/v1/agencies/H26.10/seal-image", json={"image": B64(seal_png()), "diameter_mm": 36})
    assert (answer.status_code, answer.json["diameter_mm"]) == (200, 36.0)
    assert official.get(f"/api/v1/officials/{official_id}/signature-image").data == signature_png()
    seal = clerk.get("/api/v1/agencies/H26.10/seal-image")
    assert (seal.data, seal.mimetype, seal.headers["X-Diameter-Mm"]) == (seal_png(), "image/png", "36")
    assert audit(signing_world, "stamp_image.signature") == [("user:an.nguyen", f"official:{official_id}", "ok")]
    assert audit(signing_world, "stamp_image.seal") == [("user:clerk", "agency:H26.10", "ok")]

    api = signing_world.api("dms")
    document_id = register(api)
    approved = sign(api, pki.official_rsa, kind="approve", document_id=document_id, title="GIÁM ĐỐC")
    assert approved["signature_report"]["indication"] == "TOTAL_PASSED"
    issued = sign(api, pki.agency_rsa, kind="issue", document_id=document_id, series="QĐ-UBND")
    assert (issued["indication"], issued["number"]["notation"]) == ("TOTAL_PASSED", "01/QĐ-UBND")
    pdf = api.get(f"/api/v1/documents/{document_id}/file").data
    verified = api.post("/api/v1/validations", data=pdf, content_type="application/pdf").json
    assert verified["files"][0]["indication"] == "TOTAL_PASSED"
    assert [s["kind"] for s in verified["files"][0]["signatures"]] == ["personal", "agency"]
    # The stored images are what was drawn: the signature PNG in the approve widget, the seal PNG in the issue
    # widget at its stored real diameter (36 mm).
    widgets = _widgets(pdf)
    assert len(widgets) == 2  # the approve's, then the issue's
    assert _png_size(signature_png()) in widgets[0][1] and _png_size(seal_png()) in widgets[1][1]
    x0, _y0, x1, _y1 = widgets[1][0]
    assert x1 - x0 == pytest.approx(36 * 72 / 25.4, abs=0.05)


def _png_size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def _images(xobject, seen=None) -> set[tuple[int, int]]:
    """The pixel sizes of the images an appearance stream draws (through nested forms)."""
    seen = seen if seen is not None else set()
    sizes = set()
    resources = xobject.get("/Resources")
    for value in (resources.get("/XObject", {}) if resources is not None else {}).values():
        target = value.get_object()
        if id(target) in seen:
            continue
        seen.add(id(target))
        if target.get("/Subtype") == "/Image":
            sizes.add((int(target["/Width"]), int(target["/Height"])))
        else:
            sizes |= _images(target, seen)
    return sizes


def _widgets(pdf: bytes) -> list:
    from pyhanko.pdf_utils.reader import PdfFileReader

    found = []
    for embedded in PdfFileReader(io.BytesIO(pdf)).embedded_signatures:
        field = embedded.sig_field
        widget = field["/Kids"][0].get_object() if "/Kids" in field else field
        found.append((tuple(float(v) for v in widget["/Rect"]), _images(widget["/AP"]["/N"].get_object())))
    return found


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 0, 200)).save(out, format="JPEG")
    return out.getvalue()


def _opaque_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 0, 200)).save(out, format="PNG")
    return out.getvalue()


def test_jpeg_and_opaque_png_refused_with_the_signers_message(signing_world, pki):
    official_id = enrol_official(signing_world, pki.official_rsa, "CCCD:001085012345")
    admin = signing_world.logged_in("admin")
    jpeg = admin.put(f"/api/v1/officials/{official_id}/signature-image", json={"image": B64(_jpeg())})
    assert (jpeg.status_code, jpeg.json["message"], jpeg.json["message_vi"]) == (
        400, "the signature image must be a PNG with transparency, this file is JPEG",
        "ảnh signature phải là PNG có nền trong suốt, tệp này là JPEG")
    opaque = admin.put("/api/v1/agencies/H26.10/seal-image", json={"image": B64(_opaque_png()), "diameter_mm": 40})
    assert (opaque.status_code, opaque.json["message"], opaque.json["message_vi"]) == (
        400, "the seal PNG has no alpha channel", "ảnh seal PNG không có kênh trong suốt (alpha)")
    assert stored_rows(signing_world) == []
    assert admin.get(f"/api/v1/officials/{official_id}/signature-image").status_code == 404
    assert admin.get("/api/v1/agencies/H26.10/seal-image").status_code == 404
    assert [e[2] for e in audit(signing_world, "stamp_image.signature")] == ["refused"]
    assert [e[2] for e in audit(signing_world, "stamp_image.seal")] == ["refused"]


def test_only_the_official_themself_and_the_agencys_clerk_may_set_images(signing_world, pki):
    own = enrol_official(signing_world, pki.official_rsa, "CCCD:001085012345")
    other = enrol_official(signing_world, pki.official_ec, "CCCD:001085099999")
    assert own != other
    official_account(signing_world, "an.nguyen", own)
    official = signing_world.logged_in("an.nguyen")
    refused = official.put(f"/api/v1/officials/{other}/signature-image", json={"image": B64(signature_png())})
    assert (refused.status_code, refused.json["message"]) == (
        403, f"only official {other} or an administrator may set this signature image")
    clerk = signing_world.logged_in("clerk")  # a clerk of H26.10
    refused = clerk.put("/api/v1/agencies/H26/seal-image", json={"image": B64(seal_png()), "diameter_mm": 40})
    assert (refused.status_code, refused.json["message"]) == (
        403, "only a clerk of agency H26 or an administrator may set this seal image")
    refused = signing_world.api("dms").put("/api/v1/agencies/H26.10/seal-image",
                                           json={"image": B64(seal_png()), "diameter_mm": 40})
    assert refused.status_code == 403  # a system key is no clerk
    unlinked = signing_world.logged_in("official")  # an official's account not linked to any roster entry
    assert unlinked.put(f"/api/v1/officials/{own}/signature-image",
                        json={"image": B64(signature_png())}).status_code == 403
    admin = signing_world.logged_in("admin")
    unknown = admin.put("/api/v1/officials/999999/signature-image", json={"image": B64(signature_png())})
    assert (unknown.status_code, unknown.json["message"]) == (404, "no official 999999 on the roster")
    unknown = admin.post("/api/v1/users", json={"username": "ghost", "password": "0123456789ab",
                                                "roles": ["official"], "official_id": 999999})
    assert (unknown.status_code, unknown.json["message"]) == (404, "no official 999999 on the roster")
    assert stored_rows(signing_world) == []
    assert audit(signing_world, "stamp_image.signature") == [
        ("user:an.nguyen", f"official:{other}", "refused"), ("user:official", f"official:{own}", "refused"),
        ("user:admin", "official:999999", "refused")]
    assert admin.put(f"/api/v1/officials/{other}/signature-image", json={"image": B64(signature_png())}).status_code == 200
    assert admin.put("/api/v1/agencies/H26/seal-image", json={"image": B64(seal_png()), "diameter_mm": 40}).status_code == 200
    assert sorted(stored_rows(signing_world)) == [("agency", "H26"), ("official", str(other))]
    replaced = admin.put("/api/v1/agencies/H26/seal-image", json={"image": B64(seal_png()), "diameter_mm": 42.5})
    assert replaced.status_code == 200
    assert admin.get("/api/v1/agencies/H26/seal-image").headers["X-Diameter-Mm"] == "42.5"
    assert sorted(stored_rows(signing_world)) == [("agency", "H26"), ("official", str(other))]


def test_prepare_without_image_and_none_stored_is_a_precise_422(signing_world, pki):
    api = signing_world.api("dms")
    document_id = register(api)
    serial = format(pki.official_rsa.serial_number, "x")
    body = {"kind": "approve", "certificate": B64(pki.official_rsa.der), "document_id": document_id}
    answer = api.post("/api/v1/signing-sessions", json=body)
    assert (answer.status_code, answer.json["error"], answer.json["message"]) == (
        422, "stamp_image_missing", f"no signature image was sent and certificate {serial} belongs to no official "
        "of the roster, so there is no stored signature image")
    official_id = enrol_official(signing_world, pki.official_rsa, "CCCD:001085012345")
    answer = api.post("/api/v1/signing-sessions", json=body)
    assert (answer.status_code, answer.json["message"], answer.json["message_vi"]) == (
        422, f"no signature image was sent and official {official_id} (certificate {serial}) has no stored signature image",
        f"Không gửi ảnh chữ ký và cán bộ {official_id} (chứng thư {serial}) chưa có ảnh chữ ký đã lưu")
    sign(api, pki.official_rsa, signature_image=B64(signature_png()), kind="approve", document_id=document_id)
    answer = api.post("/api/v1/signing-sessions", json={"kind": "issue", "certificate": B64(pki.agency_rsa.der),
                                                        "document_id": document_id, "series": "QĐ-UBND"})
    assert (answer.status_code, answer.json["message"], answer.json["message_vi"]) == (
        422, "no seal image was sent and agency H26.10 has no stored seal image",
        "Không gửi ảnh con dấu và cơ quan H26.10 chưa có ảnh con dấu đã lưu")
    from sqlalchemy import func, select

    from service.tables import SigningSession

    with Session(signing_world.app.extensions["kyso"].engine) as db:
        assert db.scalar(select(func.count()).select_from(SigningSession)) == 1  # only the approve's
    assert api.get(f"/api/v1/documents/{document_id}").json["number"] is None
