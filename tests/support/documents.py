"""Sample Vietnamese documents and images for signing tests (owned by the signer, reused by everyone).

`decision_pdf()` builds a Decree 30 style decision ("QUYẾT ĐỊNH") with real embedded Vietnamese text
(Liberation Serif, the Times New Roman metric clone), with a 25 mm top margin (Decree 30: 20-25 mm) that
leaves room for the top-right stamps: the number place "Số: ....../QĐ-UBND", the date place
"Hà Nội, ngày .... tháng .... năm ......", and the signature block (title line "GIÁM ĐỐC", a blank space,
the name line). `signature_png()` is a blue handwritten-looking signature, `seal_png()` a red round seal
(35 mm, 300 dpi declared in pHYs), both with transparency. Everything is generated here, nothing is
downloaded. Functions are cached per process; fixtures hand out copies of the bytes.
"""

from __future__ import annotations

import functools
import io
import math
import os
import random
import zlib
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils import generic, writer as pdf_writer
from pyhanko.pdf_utils.generic import pdf_name

from signer import font as fonts

A4 = (595.28, 841.89)
MM = 72 / 25.4

TITLE = "GIÁM ĐỐC"
SIGNER_NAME = "Nguyễn Văn An"
NUMBER_SUFFIX = "/QĐ-UBND"


@dataclass(frozen=True)
class Line:
    text: str
    x: float
    y: float
    size: float = 13
    bold: bool = False
    centred: bool = False


def _decision_lines(*, title: str, name: str, body_lines: int) -> list[Line]:
    left_c, right_c = 150, 420  # centres of the two header columns
    lines = [
        Line("ỦY BAN NHÂN DÂN", left_c, 770, 12, centred=True),
        Line("THÀNH PHỐ HÀ NỘI", left_c, 755, 12, bold=True, centred=True),
        Line(f"Số: ......{NUMBER_SUFFIX}", left_c, 725, 13, centred=True),
        Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", right_c, 770, 12, bold=True, centred=True),
        Line("Độc lập - Tự do - Hạnh phúc", right_c, 755, 13, bold=True, centred=True),
        Line("Hà Nội, ngày .... tháng .... năm ......", right_c, 725, 13, centred=True),
        Line("QUYẾT ĐỊNH", A4[0] / 2, 685, 14, bold=True, centred=True),
        Line("Về việc ban hành quy chế ký số văn bản điện tử", A4[0] / 2, 667, 14, bold=True, centred=True),
    ]
    body = [
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công tác văn thư;",
        "Căn cứ Nghị định số 68/2024/NĐ-CP quy định về chữ ký số chuyên dùng công vụ;",
        "Điều 1. Ban hành kèm theo Quyết định này Quy chế ký số văn bản điện tử của thành phố.",
        "Điều 2. Quyết định có hiệu lực kể từ ngày ký. Các đơn vị chịu trách nhiệm thi hành.",
    ]
    y = 635
    for i in range(body_lines):
        lines.append(Line(body[i % len(body)], 70, y, 12))
        y -= 18
    lines += [
        Line("Nơi nhận:", 70, 330, 12, bold=True),
        Line("- Như Điều 2;", 70, 316, 11),
        Line("- Lưu: VT.", 70, 302, 11),
        Line("TM. ỦY BAN NHÂN DÂN", 420, 330, 13, bold=True, centred=True),
        Line(title, 420, 315, 13, bold=True, centred=True),
        Line(name, 420, 215, 13, bold=True, centred=True),
    ]
    return lines


def _page_content(lines: list[Line]) -> bytes:
    regular, bold = fonts.serif(), fonts.serif_bold()
    out = []
    for line in lines:
        face = bold if line.bold else regular
        x = line.x - face.width(line.text, line.size) / 2 if line.centred else line.x
        out.append(face.show_text(line.text, resource_name="F2" if line.bold else "F1",
                                  size=line.size, x=x, y=line.y))
    return b"".join(out)


def decision_pdf(
    *,
    title: str = TITLE,
    name: str = SIGNER_NAME,
    pages: int = 1,
    body_lines: int = 4,
    noise_bytes: int = 0,
    empty_field: str | None = None,
    encrypt_password: str | None = None,
    origin: tuple[float, float] = (0.0, 0.0),
    rotate: int = 0,
) -> bytes:
    """A decision with the Decree 30 places; `noise_bytes` adds an incompressible image (large files);
    `empty_field` adds an empty signature field of that name over the signature block; `origin` moves the
    media box (and the content with it) away from (0, 0); `rotate` sets the page's /Rotate."""
    writer = pdf_writer.PdfFileWriter(stream_xrefs=False)
    font_resources = generic.DictionaryObject({
        pdf_name("/F1"): fonts.serif().add_to(writer),
        pdf_name("/F2"): fonts.serif_bold().add_to(writer),
    })
    page_refs = []
    for index in range(pages):
        resources = generic.DictionaryObject({pdf_name("/Font"): font_resources})
        if index == 0:
            content = _page_content(_decision_lines(title=title, name=name, body_lines=body_lines))
        else:
            lines = [Line(f"Trang {index + 1}: phụ lục kèm theo Quyết định", 70, 780, 12)]
            lines += [Line("Nội dung chi tiết của quy chế ký số, điều khoản thi hành.", 70, 760 - 18 * i, 12)
                      for i in range(30)]
            content = _page_content(lines)
        if index == pages - 1 and noise_bytes:
            side = max(1, int(math.sqrt(noise_bytes / 3)))
            rng = random.Random(20261129)
            noise = generic.StreamObject({
                pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(side), pdf_name("/Height"): generic.NumberObject(side),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/ColorSpace"): pdf_name("/DeviceRGB"),
            }, stream_data=rng.randbytes(side * side * 3))
            resources[pdf_name("/XObject")] = generic.DictionaryObject({pdf_name("/Noise"): writer.add_object(noise)})
            content += b"q 100 0 0 100 450 40 cm /Noise Do Q\n"
        ox, oy = origin
        if origin != (0.0, 0.0):
            content = f"1 0 0 1 {ox:g} {oy:g} cm\n".encode("ascii") + content
        stream = generic.StreamObject({pdf_name("/Filter"): pdf_name("/FlateDecode")},
                                      encoded_data=zlib.compress(content))
        page = pdf_writer.PageObject(contents=writer.add_object(stream),
                                     media_box=[ox, oy, ox + A4[0], oy + A4[1]], resources=resources)
        if rotate:
            page[pdf_name("/Rotate")] = generic.NumberObject(rotate)
        page_refs.append(writer.insert_page(page))
    if empty_field:
        from pyhanko.sign import fields

        fields.append_signature_field(
            writer, fields.SigFieldSpec(sig_field_name=empty_field, on_page=0,
                                        box=(300, 230, 540, 305)))
    if encrypt_password is not None:
        writer.encrypt(encrypt_password, encrypt_password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@functools.cache
def sample_decision() -> bytes:
    return decision_pdf()


@functools.cache
def large_decision(size_mb: float = 5.0) -> bytes:
    """A ~5 MB decision: 20 pages of text and an incompressible image."""
    return decision_pdf(pages=20, noise_bytes=int(size_mb * 1024 * 1024))


# Images -----------------------------------------------------------------------------------------------
DPI = 300
SEAL_DIAMETER_MM = 35.0
BLUE = (20, 40, 200, 255)
RED = (220, 20, 30, 255)


@functools.cache
def signature_png() -> bytes:
    """A blue transparent signature, 50 x 20 mm at 300 dpi."""
    width, height = round(50 / 25.4 * DPI), round(20 / 25.4 * DPI)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(int(width * (0.05 + 0.9 * t / 200)),
               int(height * (0.5 + 0.35 * math.sin(t / 11.0) * math.cos(t / 37.0)))) for t in range(201)]
    draw.line(points, fill=BLUE, width=9, joint="curve")
    draw.line([(width * 0.1, height * 0.82), (width * 0.9, height * 0.7)], fill=BLUE, width=7)
    # a filled blob so pixel tests have solid blue to look at in the middle third
    draw.ellipse([width * 0.42, height * 0.3, width * 0.58, height * 0.7], fill=BLUE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def _seal_image() -> Image.Image:
    side = round(SEAL_DIAMETER_MM / 25.4 * DPI)
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse([4, 4, side - 5, side - 5], outline=RED, width=14)
    draw.ellipse([40, 40, side - 41, side - 41], outline=RED, width=6)
    centre = side / 2
    draw.regular_polygon((centre, centre, side * 0.18), n_sides=5, fill=RED)
    return image


@functools.cache
def seal_png() -> bytes:
    """A red transparent round seal, 35 mm across at 300 dpi (declared in pHYs)."""
    buffer = io.BytesIO()
    _seal_image().save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


@functools.cache
def seal_jpeg() -> bytes:
    """The same seal as a JPEG: no transparency, must be refused."""
    buffer = io.BytesIO()
    _seal_image().convert("RGB").save(buffer, format="JPEG", dpi=(DPI, DPI))
    return buffer.getvalue()


@functools.cache
def opaque_png() -> bytes:
    """A PNG without an alpha channel: must be refused."""
    buffer = io.BytesIO()
    _seal_image().convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


# Fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture
def decision_pdf_bytes() -> bytes:
    """A one-page decision with the number, date and signature-block places."""
    return sample_decision()


@pytest.fixture
def decision_file(tmp_path) -> "os.PathLike":
    path = tmp_path / "quyet-dinh.pdf"
    path.write_bytes(sample_decision())
    return path


@pytest.fixture
def signature_image() -> bytes:
    return signature_png()


@pytest.fixture
def seal_image() -> bytes:
    return seal_png()
