"""One-page text PDFs with Vietnamese text (Liberation Serif, embedded once through the signer's font):
verification receipts, and the demo's sample decision."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

A4 = (595.28, 841.89)


@dataclass(frozen=True)
class TextLine:
    text: str
    bold: bool = False
    size: float = 11
    centre_x: float | None = None  # None: left margin; otherwise the line is centred on this x
    gap: float = 16  # distance to the next line's baseline
    wrap: int = 95  # characters per line before wrapping (left-aligned lines only)


def build_text_pdf(lines: list[TextLine], *, top: float = A4[1] - 60, left: float = 50) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.writer import PdfFileWriter

    from signer.font import serif, serif_bold

    regular, bold = serif(), serif_bold()
    writer = PdfFileWriter()
    fonts = generic.DictionaryObject({pdf_name("/F1"): regular.add_to(writer), pdf_name("/F2"): bold.add_to(writer)})
    operations: list[bytes] = []
    y = top
    for line in lines:
        font = bold if line.bold else regular
        pieces = [line.text] if line.centre_x is not None else (
            textwrap.wrap(line.text, width=line.wrap, subsequent_indent="    ") or [""])
        for piece in pieces:
            if piece and y > 40:
                x = left if line.centre_x is None else line.centre_x - font.width(piece, line.size) / 2
                operations.append(font.show_text(piece, resource_name="F2" if line.bold else "F1",
                                                 size=line.size, x=x, y=y))
            y -= line.gap
    page = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, *A4)]),
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
        pdf_name("/Contents"): writer.add_object(generic.StreamObject(stream_data=b"".join(operations))),
    })
    writer.insert_page(page)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
