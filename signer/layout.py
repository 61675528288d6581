"""Where things go on the page: the signature block, the number place and the date place, found by text.

Decree 30 Appendix I: the personal signature image goes between the signer's title line ("GIÁM ĐỐC") and
name line; the number goes into "Số: ....../QĐ-UBND" and the issue date into "..., ngày .. tháng .. năm ..".
Positions are read from the document's own text (pdfminer.six gives every character's box); only the
pages needed are parsed. Coordinates are PDF user space points, origin bottom left.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

from signer.errors import BrokenPdf, PlaceNotFound

logging.getLogger("pdfminer").setLevel(logging.ERROR)

_PLACEHOLDER = re.compile(r"[.…_]{2,}|…")


@dataclass(frozen=True)
class Box:
    """A rectangle on a page (0-based page index), in points."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def centre_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def centre_y(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class TextPlace:
    """A dotted placeholder in the text ("......") and the font size of the text around it."""

    box: Box
    font_size: float


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    chars: tuple  # of (char, x0, y0, x1, y1, size)
    x0: float
    y0: float
    x1: float
    y1: float


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


class _PageText:
    """The text lines of a document's pages, parsed once per document and per page on demand, in the
    PDF's own user space (pdfminer shifts coordinates to the media box origin and turns rotated pages;
    the shift is undone and rotated pages refused here, so boxes match widget rectangles)."""

    def __init__(self, document: bytes):
        from pdfminer.converter import PDFPageAggregator
        from pdfminer.layout import LAParams
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        with _translated():
            self._pages = list(PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(document)))))
            manager = PDFResourceManager(caching=True)
            self._device = PDFPageAggregator(manager, laparams=LAParams(char_margin=3.0))
            self._interpreter = PDFPageInterpreter(manager, self._device)

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def lines(self, index: int) -> list[_Line]:
        from pdfminer.layout import LTChar, LTTextLine

        def walk(item):
            if isinstance(item, LTTextLine):
                yield item
                return
            for child in getattr(item, "_objs", ()):
                yield from walk(child)

        page = self._pages[index]
        if (page.rotate or 0) % 360:
            raise PlaceNotFound(
                f"trang {index + 1} bị xoay: không tìm được vị trí theo chữ, hãy dùng trường chữ ký hoặc tọa độ / "
                f"page {index + 1} is rotated: text search cannot place the stamp, use a field or coordinates"
            )
        dx, dy = page.mediabox[0], page.mediabox[1]
        with _translated():
            self._interpreter.process_page(page)
            result = []
            for line in walk(self._device.get_result()):
                chars = tuple(
                    (c.get_text(), c.x0 + dx, c.y0 + dy, c.x1 + dx, c.y1 + dy, c.size)
                    for c in line if isinstance(c, LTChar)
                )
                if chars:
                    text = "".join(c[0] for c in chars)
                    result.append(_Line(index, text, chars, line.x0 + dx, line.y0 + dy, line.x1 + dx, line.y1 + dy))
        return result


@contextlib.contextmanager
def _translated():
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    try:
        yield
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise BrokenPdf(f"không đọc được nội dung văn bản / cannot read the document text: {exc}") from exc


def find_signature_block(document: bytes, *, page_count: int, title: str | None, name: str) -> Box:
    """The space between the title line and the name line (searched from the last page backwards).

    Without a title, the title line is the nearest text line above the name line that overlaps it
    horizontally (Decree 30 Appendix I: the title, the space for the signature, then the name). A block
    found is kept per document (its SHA-256) and question, so the same document (prepare then a retry, a
    batch signing the same file, several signers of one revision) is parsed once."""
    key = (hashlib.sha256(document).digest(), page_count, title, name)
    with _BLOCKS_LOCK:
        cached = _BLOCKS.get(key)
        if cached is not None:
            _BLOCKS.move_to_end(key)
            return cached
    block = _search_signature_block(document, page_count=page_count, title=title, name=name)
    with _BLOCKS_LOCK:
        _BLOCKS[key] = block
        while len(_BLOCKS) > _BLOCKS_KEPT:
            _BLOCKS.popitem(last=False)
    return block


# Found blocks by (document SHA-256, page count, title, name); a Box is a few floats, so many fit.
_BLOCKS: OrderedDict[tuple, Box] = OrderedDict()
_BLOCKS_KEPT = 1024
_BLOCKS_LOCK = threading.Lock()


def _search_signature_block(document: bytes, *, page_count: int, title: str | None, name: str) -> Box:
    wanted_name = _normalise(name)
    wanted_title = _normalise(title) if title else None
    text = _PageText(document)
    for page in reversed(range(min(page_count, text.page_count))):
        lines = text.lines(page)
        for name_line in (ln for ln in lines if _normalise(ln.text) == wanted_name):
            above = [ln for ln in lines
                     if ln.y0 > name_line.y1 and ln.x0 < name_line.x1 and ln.x1 > name_line.x0]
            if wanted_title is not None:
                above = [ln for ln in above if _normalise(ln.text) == wanted_title]
            if not above:
                continue
            title_line = min(above, key=lambda ln: ln.y0)  # the nearest line above the name
            centre = ((title_line.x0 + title_line.x1) / 2 + (name_line.x0 + name_line.x1) / 2) / 2
            half = max(title_line.x1 - title_line.x0, name_line.x1 - name_line.x0, 120) / 2
            return Box(page, centre - half, name_line.y1 + 2, centre + half, title_line.y0 - 2)
    if title:
        raise PlaceNotFound(
            f"không tìm thấy khối chữ ký (dòng chức danh {title!r} và dòng họ tên {name!r}) / "
            f"signature block not found (title line {title!r} above name line {name!r})"
        )
    raise PlaceNotFound(
        f"không tìm thấy dòng họ tên {name!r} có dòng chức danh phía trên / "
        f"signature block not found (no line above the name line {name!r})"
    )


def _placeholders(line: _Line, start: int = 0) -> list[TextPlace]:
    text = line.text
    places = []
    for match in _PLACEHOLDER.finditer(text, start):
        chars = line.chars[match.start():match.end()]
        size = max(c[5] for c in chars)
        places.append(TextPlace(
            Box(line.page, chars[0][1], line.y0, chars[-1][3], line.y1), size
        ))
    return places


def find_number_place(document: bytes) -> TextPlace:
    """The dots after "Số:" on page 1."""
    return _number_place(_PageText(document).lines(0))


def find_date_places(document: bytes) -> tuple[TextPlace, TextPlace, TextPlace]:
    """The day, month and year dots of "..., ngày .. tháng .. năm .." on page 1."""
    return _date_places(_PageText(document).lines(0))


def find_issue_places(document: bytes) -> tuple[TextPlace, tuple[TextPlace, TextPlace, TextPlace]]:
    """Both places of the issue signature, reading page 1 once."""
    lines = _PageText(document).lines(0)
    return _number_place(lines), _date_places(lines)


def _number_place(lines: list[_Line]) -> TextPlace:
    for line in lines:
        match = re.search(r"Số\s*:", unicodedata.normalize("NFC", line.text))
        if match:
            places = _placeholders(line, match.end())
            if places:
                return places[0]
    raise PlaceNotFound(
        'không tìm thấy chỗ ghi số văn bản ("Số: ....") trên trang 1 / '
        'the number place ("Số: ....") is not on page 1'
    )


def _date_places(lines: list[_Line]) -> tuple[TextPlace, TextPlace, TextPlace]:
    for line in lines:
        text = unicodedata.normalize("NFC", line.text)
        match = re.search(r"ngày", text)
        if match and "tháng" in text and "năm" in text:
            places = _placeholders(line, match.end())
            if len(places) >= 3:
                return places[0], places[1], places[2]
    raise PlaceNotFound(
        'không tìm thấy chỗ ghi ngày ban hành ("ngày .. tháng .. năm ..") trên trang 1 / '
        'the date place ("ngày .. tháng .. năm ..") is not on page 1'
    )
