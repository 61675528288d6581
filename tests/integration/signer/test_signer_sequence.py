"""Personal then agency signatures (Decree 30): both stay valid; the seal covers the left third of the
signature image (checked on rendered pixels); the number and date land in their places (pdftotext)."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from signer import CopyForm, PadesLevel, SignatureKind, SignatureRequest, VIETNAM, sign_pdf
from tests.support import documents

MM = 72 / 25.4
RENDER_DPI = 144
SCALE = RENDER_DPI / 72


def _approve(pki, environment, signature_stamp, level=PadesLevel.B_T, official="official_rsa"):
    entity = pki.entity(official)
    return sign_pdf(
        documents.sample_decision(), key=entity.key, certificate=entity.certificate, chain=entity.chain,
        request=SignatureRequest(kind=SignatureKind.APPROVE, level=level, signature_image=signature_stamp,
                                 title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME),
        environment=environment,
    )


def _issue(pdf, pki, environment, seal_stamp, agency="agency_ec", level=PadesLevel.B_LT):
    entity = pki.entity(agency)
    return sign_pdf(
        pdf, key=entity.key, certificate=entity.certificate, chain=entity.chain,
        request=SignatureRequest(kind=SignatureKind.ISSUE, level=level, seal_image=seal_stamp,
                                 agency_code="000.00.00.H26", series="QĐ-UBND"),
        environment=environment,
    )


def _widget_rects(pdf: bytes) -> dict[str, list[tuple[float, float, float, float]]]:
    reader = PdfFileReader(io.BytesIO(pdf))
    rects: dict[str, list] = {}
    for embedded in reader.embedded_signatures:
        field = embedded.sig_field
        widgets = [kid.get_object() for kid in field["/Kids"]] if "/Kids" in field else [field]
        rects[embedded.field_name] = [tuple(float(v) for v in w["/Rect"]) for w in widgets]
    return rects


def _render(pdf: bytes, tmp_path) -> Image.Image:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(RENDER_DPI), "-f", "1", "-l", "1", "-png", "-singlefile",
                    str(path), str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png").convert("RGB")


def _count(image: Image.Image, box, page_height: float, predicate) -> int:
    x0, y0, x1, y1 = box
    left, right = int(x0 * SCALE), int(x1 * SCALE)
    top, bottom = int((page_height - y1) * SCALE), int((page_height - y0) * SCALE)
    pixels = image.load()
    return sum(1 for x in range(left, right) for y in range(top, bottom) if predicate(pixels[x, y]))


def is_red(p):
    return p[0] > 170 and p[1] < 100 and p[2] < 100


def is_blue(p):
    return p[2] > 150 and p[0] < 110 and p[1] < 130


@pytest.mark.integration
def test_personal_then_agency_both_valid_for_both_judges(pki, environment, signature_stamp, seal_stamp,
                                                         pdfsig, judge_statuses, tmp_path):
    approved = _approve(pki, environment, signature_stamp)
    issued = _issue(approved.pdf, pki, environment, seal_stamp)

    assert issued.number is not None and issued.number.notation == "01/QĐ-UBND"
    statuses = judge_statuses(issued.pdf)
    assert set(statuses) == {approved.field_name, issued.field_name}
    for name, status in statuses.items():
        assert status.bottom_line, (name, status.pretty_print_details())
    # the personal signature saw only a new signature field (+ its widgets) and the DSS added after it
    assert statuses[approved.field_name].docmdp_ok
    assert statuses[approved.field_name].modification_level.name == "FORM_FILLING"

    judged = {s.field: s for s in pdfsig(issued.pdf)}
    assert set(judged) == {approved.field_name, issued.field_name}
    for signature in judged.values():
        assert signature.signature_valid and signature.certificate_trusted, signature.raw
    assert judged[approved.field_name].signer == "Nguyễn Văn An"
    assert judged[issued.field_name].signer == "UBND Phường Hoàn Kiếm"
    assert judged[issued.field_name].whole_document is False  # the DSS revision of B-LT follows it

    # pdftotext: the number and today's date (Vietnam time) written into their places
    path = tmp_path / "issued.pdf"
    path.write_bytes(issued.pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    today = issued.number.issued_on
    assert today == issued.signing_time.astimezone(VIETNAM).date()
    number_area = subprocess.run(
        ["pdftotext", "-x", "100", "-y", "100", "-W", "120", "-H", "25", str(path), "-"],
        capture_output=True, text=True, check=True).stdout
    assert "01" in number_area.split() and "Số:" in number_area
    date_area = subprocess.run(
        ["pdftotext", "-x", "300", "-y", "100", "-W", "250", "-H", "25", str(path), "-"],
        capture_output=True, text=True, check=True).stdout
    assert f"{today.day:02d}" in date_area.split() and str(today.year) in date_area.split()
    assert "Hà Nội, ngày" in date_area and "THÀNH PHỐ HÀ NỘI" in text


@pytest.mark.integration
def test_seal_covers_left_third_of_signature_on_rendered_pixels(pki, environment, signature_stamp,
                                                                 seal_stamp, tmp_path):
    approved = _approve(pki, environment, signature_stamp, level=PadesLevel.B_B, official="official_ec")
    issued = _issue(approved.pdf, pki, environment, seal_stamp, agency="agency_rsa", level=PadesLevel.B_B)
    rects = _widget_rects(issued.pdf)
    (signature,) = rects[approved.field_name]
    seal = rects[issued.field_name][0]
    sx0, sy0, sx1, sy1 = signature
    kx0, ky0, kx1, ky1 = seal
    # geometry: real size (35 mm declared by the PNG), right edge at one third of the signature image
    assert kx1 - kx0 == pytest.approx(35 * MM, abs=0.5)
    assert kx1 == pytest.approx(sx0 + (sx1 - sx0) / 3, abs=0.5)

    page = _render(issued.pdf, tmp_path)
    height = 841.89
    left_third = (sx0, max(sy0, ky0), kx1, min(sy1, ky1))
    right_part = (kx1 + 2, sy0, sx1, sy1)
    assert _count(page, left_third, height, is_red) > 200  # the seal is drawn over the signature's left third
    assert _count(page, right_part, height, is_red) == 0  # and nowhere on the rest of it
    assert _count(page, right_part, height, is_blue) > 500  # the signature stays visible right of the seal
    left_of_signature = (kx0, ky0, sx0, ky1)
    assert _count(page, left_of_signature, height, is_red) > 200  # most of the seal lies left of it

    before = _render(approved.pdf, tmp_path)
    assert _count(before, left_third, height, is_red) == 0  # no red there before issuing
    assert _count(before, left_third, height, is_blue) > 100


@pytest.mark.integration
@pytest.mark.parametrize("kind", [SignatureKind.APPENDIX, SignatureKind.COPY, SignatureKind.INCOMING])
def test_text_stamps_keep_vietnamese_text_and_vietnam_time(pki, environment, pdfsig, judge_statuses,
                                                           tmp_path, kind):
    entity = pki.agency_rsa
    fields = {
        SignatureKind.APPENDIX: {"notation": "15/QĐ-UBND"},
        SignatureKind.COPY: {"copy_form": CopyForm.SAO_Y, "copying_agency": "Văn phòng UBND Thành phố Hà Nội"},
        SignatureKind.INCOMING: {"incoming_number": 125},
    }[kind]
    signed = sign_pdf(documents.sample_decision(), key=entity.key, certificate=entity.certificate,
                      chain=entity.chain, request=SignatureRequest(kind=kind, level=PadesLevel.B_T, **fields),
                      environment=environment)
    path = tmp_path / f"{kind.value}.pdf"
    path.write_bytes(signed.pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    expected = {
        SignatureKind.APPENDIX: ["Số: 15/QĐ-UBND", "UBND Thành phố Hà Nội"],
        SignatureKind.COPY: ["SAO Y", "Văn phòng UBND Thành phố Hà Nội"],
        SignatureKind.INCOMING: ["ĐẾN", f"Số: 125 - Ngày: {signed.signing_time.astimezone(VIETNAM).strftime('%d/%m/%Y')}"],
    }[kind]
    for snippet in expected:
        assert snippet in text, (snippet, text)
    stamp_time = signed.signing_time.isoformat(timespec="seconds")
    assert stamp_time.endswith("+07:00") and stamp_time in text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text)

    (status,) = judge_statuses(signed.pdf).values()
    assert status.bottom_line, status.pretty_print_details()
    (judged,) = pdfsig(signed.pdf)
    assert judged.signature_valid and judged.certificate_trusted, judged.raw


@pytest.mark.integration
def test_third_signature_keeps_the_first_two_valid(pki, environment, signature_stamp, seal_stamp, pdfsig,
                                                   judge_statuses):
    approved = _approve(pki, environment, signature_stamp, level=PadesLevel.B_T, official="official_ec")
    issued = _issue(approved.pdf, pki, environment, seal_stamp, agency="agency_ec", level=PadesLevel.B_LT)
    receiver = pki.agency_rsa  # the receiving agency registers it as incoming, archived at B-LTA
    received = sign_pdf(issued.pdf, key=receiver.key, certificate=receiver.certificate, chain=receiver.chain,
                        request=SignatureRequest(kind=SignatureKind.INCOMING, level=PadesLevel.B_LTA,
                                                 incoming_number=7),
                        environment=environment)
    statuses = judge_statuses(received.pdf)
    assert list(statuses) == [approved.field_name, issued.field_name, received.field_name]
    assert all(status.bottom_line for status in statuses.values())
    judged = pdfsig(received.pdf)
    signed = [s for s in judged if s.signer]
    assert [s.signer for s in signed][:3] == ["Trần Thị Bình", "UBND Phường Hoàn Kiếm", "Sở Nội vụ Thành phố Hà Nội"]
    assert all(s.signature_valid and s.certificate_trusted for s in signed[:3]), [s.raw for s in signed]


@pytest.mark.integration
def test_key_behind_the_token_bridge_over_http(token_bridge, personal_rsa_token, pki, environment,
                                               signature_stamp, pdfsig, judge_statuses):
    from token_bridge.catalogue import certificate_id
    from token_bridge.client import BridgeKey

    key = BridgeKey(token_bridge.url, certificate_id(personal_rsa_token.certificate),
                    description="Ký duyệt Quyết định (kiểm thử)")
    document = documents.decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà")
    signed = sign_pdf(document, key=key, certificate=key.certificate, chain=personal_rsa_token.chain,
                      request=SignatureRequest(kind=SignatureKind.APPROVE, level=PadesLevel.B_T,
                                               signature_image=signature_stamp, title="PHÓ CHỦ TỊCH"),
                      environment=environment)
    assert judge_statuses(signed.pdf)[signed.field_name].bottom_line
    (judged,) = pdfsig(signed.pdf)
    assert judged.signature_valid and judged.certificate_trusted and judged.signer == "Nguyễn Thị Thu Hà"


@pytest.mark.integration
def test_stamps_follow_a_moved_media_box(pki, environment, signature_stamp, judge_statuses, tmp_path):
    moved = documents.decision_pdf(origin=(50, 30))
    official = pki.official_ec
    approved = sign_pdf(moved, key=official.key, certificate=official.certificate, chain=official.chain,
                        request=SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp,
                                                 title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME),
                        environment=environment)
    (signature,) = _widget_rects(approved.pdf)[approved.field_name]
    # centred between the title line (y 315) and the name line (y 215), shifted with the page
    assert (signature[0] + signature[2]) / 2 == pytest.approx(50 + 420, abs=1)
    assert 30 + 215 < signature[1] < signature[3] < 30 + 315
    agency = pki.agency_ec
    copied = sign_pdf(approved.pdf, key=agency.key, certificate=agency.certificate, chain=agency.chain,
                      request=SignatureRequest(kind=SignatureKind.COPY, copy_form=CopyForm.TRICH_SAO,
                                               copying_agency="UBND Phường Hoàn Kiếm"),
                      environment=environment)
    (stamp,) = _widget_rects(copied.pdf)[copied.field_name]
    assert stamp[2] == pytest.approx(50 + documents.A4[0] - 10 * MM, abs=0.01)
    assert stamp[3] == pytest.approx(30 + documents.A4[1] - 4 * MM, abs=0.01)
    assert all(status.bottom_line for status in judge_statuses(copied.pdf).values())
    path = tmp_path / "trich-sao.pdf"
    path.write_bytes(copied.pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "TRÍCH SAO" in text and "UBND Phường Hoàn Kiếm" in text


@pytest.mark.integration
def test_seal_follows_the_image_inside_a_named_field(pki, environment, signature_stamp, seal_stamp,
                                                     judge_statuses):
    from signer import Placement
    from signer.appearance import fit_image
    from signer.layout import Box

    official = pki.official_ec
    document = documents.decision_pdf(empty_field="ChuKyLanhDao")  # field box (300, 230, 540, 305)
    approved = sign_pdf(document, key=official.key, certificate=official.certificate, chain=official.chain,
                        request=SignatureRequest(kind=SignatureKind.APPROVE, signature_image=signature_stamp,
                                                 placement=Placement(field_name="ChuKyLanhDao")),
                        environment=environment)
    issued = _issue(approved.pdf, pki, environment, seal_stamp, level=PadesLevel.B_B)
    field = Box(0, 300, 230, 540, 305)
    image = fit_image(signature_stamp, within=field, max_width=field.width, natural_height=field.height)
    assert image.width < field.width  # the image is narrower than the field: the cases differ
    seal = _widget_rects(issued.pdf)[issued.field_name][0]
    assert seal[2] == pytest.approx(image.x0 + image.width / 3, abs=0.05)
    assert all(status.bottom_line for status in judge_statuses(issued.pdf).values())
