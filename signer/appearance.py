"""Drawing the Decree 30 appearances as widget annotations of the signature field.

Everything drawn belongs to the new signature field (its widgets, in the same incremental update the
signature covers), never to the page content: earlier signatures then see only "a signature field was
added", which PAdES and pyHanko's modification analysis allow after an approval signature. The issue
signature therefore has up to three widgets: the seal, the number and the issue date.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from signer import font as fonts
from signer.image import StampImage
from signer.layout import Box, TextPlace

MM = 72 / 25.4


@dataclass(frozen=True)
class TextLine:
    text: str
    size: float = 10.0  # DOMAIN.md: stamps are Times New Roman 10 pt
    bold: bool = False


@dataclass(frozen=True)
class Drawing:
    """One widget's appearance: a box on a page, content operators, the fonts and images they use."""

    box: Box
    content: bytes
    images: dict[str, StampImage] = field(default_factory=dict)
    uses_fonts: bool = False


def image_drawing(box: Box, image: StampImage) -> Drawing:
    content = f"q {box.width:.3f} 0 0 {box.height:.3f} 0 0 cm /Im1 Do Q\n".encode("ascii")
    return Drawing(box, content, images={"Im1": image})


def fit_image(image: StampImage, *, within: Box, max_width: float, natural_height: float) -> Box:
    """The image box centred in `within`, at most its natural height and `max_width`, ratio kept."""
    ratio = image.width / image.height
    height = min(natural_height, within.height * 0.95)
    width = height * ratio
    if width > max_width:
        width, height = max_width, max_width / ratio
    cx, cy = within.centre_x, within.centre_y
    return Box(within.page, cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def seal_box(signature: Box, *, diameter_mm: float, image: StampImage) -> Box:
    """Decree 30, Appendix I: the seal covers about the left third of the signature image, at real size."""
    width = diameter_mm * MM
    height = width * image.height / image.width
    right = signature.x0 + signature.width / 3
    cy = signature.centre_y
    return Box(signature.page, right - width, cy - height / 2, right, cy + height / 2)


def text_block(lines: list[TextLine], *, page: int, anchor_x: float, top_y: float,
               align: str = "right", border: bool = False, padding: float = 3.0) -> Drawing:
    """A block of text lines; `align="right"` puts its right edge at anchor_x, "left" its left edge."""
    regular, bold = fonts.serif(), fonts.serif_bold()
    widths = [(bold if ln.bold else regular).width(ln.text, ln.size) for ln in lines]
    width = max(widths) + 2 * padding
    leading = [ln.size * 1.15 for ln in lines]
    height = sum(leading) + 2 * padding
    x0 = anchor_x - width if align == "right" else anchor_x
    box = Box(page, x0, top_y - height, x0 + width, top_y)
    parts = []
    if border:
        parts.append(f"q 0.8 w 0.4 0.4 0.4 RG 0.4 0.4 {width - 0.8:.2f} {height - 0.8:.2f} re S Q\n".encode())
    parts.append(b"0 g\n")
    y = height - padding
    for ln, w, lead in zip(lines, widths, leading):
        y -= lead
        face = bold if ln.bold else regular
        x = (width - w) / 2 if border else (width - padding - w if align == "right" else padding)
        parts.append(face.show_text(ln.text, resource_name="F2" if ln.bold else "F1", size=ln.size,
                                    x=x, y=y + ln.size * 0.25))
    return Drawing(box, b"".join(parts), uses_fonts=True)


def placeholder_fill(place: TextPlace, text: str) -> Drawing:
    """Cover a dotted placeholder with white and write `text` over it at the surrounding size: centred
    when it fits, else starting where the dots start (never over the words before them)."""
    face = fonts.serif()
    size = place.font_size
    text_width = face.width(text, size)
    dots = place.box
    width = max(dots.width, text_width) + 1
    height = dots.height + 2
    box = Box(dots.page, dots.x0 - 0.5, dots.y0 - 1, dots.x0 - 0.5 + width, dots.y0 - 1 + height)
    x = (dots.width + 1 - text_width) / 2 if text_width <= dots.width else 0.5
    content = (
        f"q 1 g 0 0 {dots.width + 1:.2f} {height:.2f} re f Q\n0 g\n".encode("ascii")
        + face.show_text(text, resource_name="F1", size=size, x=x,
                         y=1 + (dots.height - size) / 2 + size * 0.22)
    )
    return Drawing(box, content, uses_fonts=True)


class AppearanceWriter:
    """Adds drawings to one document, embedding the font and each image at most once."""

    def __init__(self, writer):
        self.writer = writer
        self._fonts: generic.DictionaryObject | None = None
        self._images: dict[int, generic.IndirectObject] = {}

    def _font_resources(self) -> generic.DictionaryObject:
        if self._fonts is None:
            self._fonts = generic.DictionaryObject({
                pdf_name("/F1"): fonts.serif().add_to(self.writer),
                pdf_name("/F2"): fonts.serif_bold().add_to(self.writer),
            })
        return self._fonts

    def xobject(self, drawing: Drawing) -> generic.IndirectObject:
        resources = generic.DictionaryObject()
        if drawing.uses_fonts:
            resources[pdf_name("/Font")] = self._font_resources()
        if drawing.images:
            xobjects = generic.DictionaryObject()
            for name, image in drawing.images.items():
                ref = self._images.get(id(image))
                if ref is None:
                    ref = self._images[id(image)] = image.add_to(self.writer)
                xobjects[pdf_name("/" + name)] = ref
            resources[pdf_name("/XObject")] = xobjects
        stream = generic.StreamObject({
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(0), generic.FloatObject(0),
                 generic.FloatObject(round(drawing.box.width, 3)), generic.FloatObject(round(drawing.box.height, 3))]
            ),
            pdf_name("/Resources"): resources,
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        }, encoded_data=zlib.compress(drawing.content))
        return self.writer.add_object(stream)

    def set_appearance(self, annotation: generic.DictionaryObject, drawing: Drawing) -> None:
        annotation[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): self.xobject(drawing)})
        annotation[pdf_name("/Rect")] = _rect(drawing.box)
        annotation[pdf_name("/F")] = generic.NumberObject(4)  # print

    def add_widget(self, field_ref: generic.IndirectObject, drawing: Drawing) -> None:
        """Add one more widget of the field `field_ref`, on the drawing's page."""
        page_ref, _ = self.writer.find_page_for_modification(drawing.box.page)
        widget = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/P"): page_ref,
        })
        self.set_appearance(widget, drawing)
        widget_ref = self.writer.add_object(widget)
        field_obj = field_ref.get_object()
        kids = field_obj.get("/Kids")
        if kids is None:
            raise ValueError("the signature field has no /Kids array")
        kids.append(widget_ref)
        self.writer.update_container(field_obj)
        self.writer.register_annotation(page_ref, widget_ref)


def _rect(box: Box) -> generic.ArrayObject:
    return generic.ArrayObject(generic.FloatObject(round(v, 3)) for v in (box.x0, box.y0, box.x1, box.y1))
