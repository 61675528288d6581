"""Unit tests of the signer's inputs: requests, stamp images, the embedded font, places found by text."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from policies.keys import DigestAlgorithm
from signer import CopyForm, PadesLevel, Placement, RequestError, SignatureKind, SignatureRequest, StampImage
from signer import appearance, font, layout
from signer.errors import AppearanceError, ImageError, PlaceNotFound
from tests.support import documents

MM = 72 / 25.4


@pytest.fixture(scope="module")
def seal() -> StampImage:
    return StampImage.from_png(documents.seal_png(), role="seal")


# Requests ---------------------------------------------------------------------------------------------
def test_issue_request_names_what_is_missing(seal):
    with pytest.raises(RequestError) as caught:
        SignatureRequest(kind=SignatureKind.ISSUE, seal_image=seal)
    assert str(caught.value) == (
        "thiếu agency_code, series cho loại ký issue / issue signatures need agency_code, series"
    )


def test_fields_of_another_kind_are_refused(seal):
    with pytest.raises(RequestError) as caught:
        SignatureRequest(kind=SignatureKind.COPY, copy_form=CopyForm.SAO_LUC, copying_agency="Sở Tư pháp",
                         seal_image=seal)
    assert str(caught.value) == (
        "seal_image không dùng cho loại ký copy / seal_image do not apply to copy signatures"
    )


def test_sha1_is_refused_for_new_signatures():
    with pytest.raises(RequestError) as caught:
        SignatureRequest(kind=SignatureKind.APPENDIX, notation="1/QĐ-UBND", digest_algorithm=DigestAlgorithm.SHA1)
    assert str(caught.value) == "SHA-1 không được dùng cho chữ ký mới / SHA-1 is not allowed for new signatures"


def test_seal_placement_is_not_the_callers_choice(seal):
    with pytest.raises(RequestError) as caught:
        SignatureRequest(kind=SignatureKind.ISSUE, seal_image=seal, agency_code="H26", series="QĐ-UBND",
                         placement=Placement(page=0, box=(0, 0, 10, 10)))
    assert "the seal's place follows the personal signature" in str(caught.value)


@pytest.mark.parametrize("box, message", [
    ((10, 10, 5, 20), "hộp tọa độ không hợp lệ (10, 10, 5, 20) / invalid box (10, 10, 5, 20)"),
])
def test_placement_box_must_be_a_rectangle(box, message):
    with pytest.raises(RequestError) as caught:
        Placement(page=0, box=box)
    assert str(caught.value) == message


def test_levels_and_kinds_map_to_their_needs():
    assert [level.has_timestamp for level in PadesLevel] == [False, True, True, True]
    assert [level.has_validation_data for level in PadesLevel] == [False, False, True, True]
    assert SignatureKind.APPROVE.holder_kind.value == "person"
    assert {k.holder_kind.value for k in SignatureKind if k is not SignatureKind.APPROVE} == {"organisation"}


# Images -----------------------------------------------------------------------------------------------
def test_jpeg_seal_is_refused():
    with pytest.raises(ImageError) as caught:
        StampImage.from_png(documents.seal_jpeg(), role="seal")
    assert str(caught.value) == (
        "ảnh seal phải là PNG có nền trong suốt, tệp này là JPEG / "
        "the seal image must be a PNG with transparency, this file is JPEG"
    )


def test_png_without_alpha_is_refused():
    with pytest.raises(ImageError) as caught:
        StampImage.from_png(documents.opaque_png(), role="seal")
    assert str(caught.value) == "ảnh seal PNG không có kênh trong suốt (alpha) / the seal PNG has no alpha channel"


def test_fully_opaque_rgba_png_is_refused():
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 20), (255, 0, 0, 255)).save(buffer, format="PNG")
    with pytest.raises(ImageError) as caught:
        StampImage.from_png(buffer.getvalue(), role="signature")
    assert str(caught.value) == "ảnh signature PNG hoàn toàn không trong suốt / the signature PNG is fully opaque"


def test_truncated_png_is_refused():
    with pytest.raises(ImageError) as caught:
        StampImage.from_png(documents.seal_png()[:200], role="seal")
    assert str(caught.value).startswith("ảnh seal PNG bị hỏng / the seal PNG is broken")


def test_seal_keeps_its_declared_real_size_and_pixels(seal):
    width_mm, height_mm = seal.size_mm()
    assert width_mm == pytest.approx(35.0, abs=0.1) and height_mm == pytest.approx(35.0, abs=0.1)
    alpha = zlib.decompress(seal.alpha)
    assert len(alpha) == seal.width * seal.height and min(alpha) == 0 and max(alpha) == 255


# Font -------------------------------------------------------------------------------------------------
def test_vietnamese_text_encodes_in_nfc_and_decomposed_form():
    serif = font.serif()
    composed = "Số: 01/QĐ-UBND, ngày 29 tháng 11 năm 2026 — ĐẾN"
    import unicodedata

    assert serif.encode(composed) == serif.encode(unicodedata.normalize("NFD", composed))
    assert len(serif.encode("Ệ")) == 2
    assert serif.width("SAO Y", 10) == pytest.approx(serif.width("SAO", 10) + serif.width(" Y", 10))


def test_a_character_outside_the_font_is_a_precise_error():
    with pytest.raises(AppearanceError) as caught:
        font.serif().encode("Hà Nội 河内")
    assert str(caught.value) == (
        "phông chữ không có ký tự '内河' / the stamp font has no glyph for '内河'"
    )


def test_font_is_built_once_per_process():
    assert font.serif() is font.serif()
    assert font.serif().postscript_name == "KYSOVN+LiberationSerif"


# Layout -----------------------------------------------------------------------------------------------
def test_places_of_the_sample_decision():
    pdf = documents.sample_decision()
    block = layout.find_signature_block(pdf, page_count=1, title="giám đốc", name="NGUYỄN VĂN AN")
    assert block.page == 0
    assert block.y1 < 315 and block.y0 > 215  # between the title line (y=315) and the name line (y=215)
    assert block.centre_x == pytest.approx(420, abs=1)
    number = layout.find_number_place(pdf)
    assert number.font_size == 13 and number.box.y0 < 725 < number.box.y1
    day, month, year = layout.find_date_places(pdf)
    assert day.box.x1 < month.box.x0 < month.box.x1 < year.box.x0


def test_without_a_title_the_line_above_the_name_is_the_title_line():
    pdf = documents.sample_decision()
    with_title = layout.find_signature_block(pdf, page_count=1, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    assert layout.find_signature_block(pdf, page_count=1, title=None, name=documents.SIGNER_NAME) == with_title
    with pytest.raises(PlaceNotFound) as caught:
        layout.find_signature_block(pdf, page_count=1, title=None, name="Trần Văn Không")
    assert str(caught.value) == (
        "không tìm thấy dòng họ tên 'Trần Văn Không' có dòng chức danh phía trên / "
        "signature block not found (no line above the name line 'Trần Văn Không')"
    )


def test_places_follow_a_media_box_away_from_the_origin():
    moved = documents.decision_pdf(origin=(50, 30))
    block = layout.find_signature_block(moved, page_count=1, title="GIÁM ĐỐC", name=documents.SIGNER_NAME)
    plain = layout.find_signature_block(documents.sample_decision(), page_count=1, title="GIÁM ĐỐC",
                                        name=documents.SIGNER_NAME)
    assert block.x0 == pytest.approx(plain.x0 + 50, abs=0.01) and block.y0 == pytest.approx(plain.y0 + 30, abs=0.01)
    number, (day, _, _) = layout.find_issue_places(moved)
    assert number.box.x0 == pytest.approx(layout.find_number_place(documents.sample_decision()).box.x0 + 50, abs=0.01)
    assert day.box.y0 == pytest.approx(number.box.y0, abs=0.01)


def test_rotated_page_is_refused_for_text_search():
    with pytest.raises(PlaceNotFound) as caught:
        layout.find_signature_block(documents.decision_pdf(rotate=90), page_count=1, title="GIÁM ĐỐC",
                                    name=documents.SIGNER_NAME)
    assert str(caught.value) == (
        "trang 1 bị xoay: không tìm được vị trí theo chữ, hãy dùng trường chữ ký hoặc tọa độ / "
        "page 1 is rotated: text search cannot place the stamp, use a field or coordinates"
    )


def test_document_without_number_place_is_a_precise_error():
    from pyhanko.pdf_utils import generic, writer as pdf_writer

    w = pdf_writer.PdfFileWriter(stream_xrefs=False)
    content = font.serif().show_text("Không có số", resource_name="F1", size=12, x=72, y=700)
    resources = generic.DictionaryObject({generic.pdf_name("/Font"): generic.DictionaryObject(
        {generic.pdf_name("/F1"): font.serif().add_to(w)})})
    page = pdf_writer.PageObject(contents=w.add_object(generic.StreamObject(stream_data=content)),
                                 media_box=[0, 0, 595, 842], resources=resources)
    w.insert_page(page)
    out = io.BytesIO()
    w.write(out)
    with pytest.raises(PlaceNotFound) as caught:
        layout.find_number_place(out.getvalue())
    assert str(caught.value) == (
        'không tìm thấy chỗ ghi số văn bản ("Số: ....") trên trang 1 / the number place ("Số: ....") is not on page 1'
    )


# Appearance geometry ----------------------------------------------------------------------------------
def test_seal_box_covers_the_left_third_at_real_size(seal):
    signature = layout.Box(0, 300, 230, 450, 290)
    box = appearance.seal_box(signature, diameter_mm=35, image=seal)
    assert box.x1 == pytest.approx(350)  # 300 + 150 / 3
    assert box.width == pytest.approx(35 * MM)
    assert box.centre_y == pytest.approx(signature.centre_y)


def test_text_block_is_right_aligned_at_its_anchor():
    drawing = appearance.text_block([appearance.TextLine("SAO Y"), appearance.TextLine("2026-11-29T09:37:36+07:00")],
                                    page=0, anchor_x=500, top_y=830)
    assert drawing.box.x1 == pytest.approx(500) and drawing.box.y1 == pytest.approx(830)
    assert drawing.uses_fonts and b"Tj" in drawing.content
