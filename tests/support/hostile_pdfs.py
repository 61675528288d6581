"""Hostile PDFs of issue 9, written byte by byte (no library would write them): a Flate bomb, Flate stacked
on Flate, 20,000 signature fields, a page tree 5,000 levels deep, a page tree that loops back on itself,
and 300 empty signature fields on a real decision. Each is a complete, well-formed PDF with an exact xref,
so a parser reads it for real instead of failing early.
"""

from __future__ import annotations

import io
import zlib

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

MiB = 1024 * 1024
_PAGE_CONTENT = b"BT /F1 12 Tf 72 720 Td (Quyet dinh) Tj ET"


def write_pdf(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF whose object i+1 is `objects[i]` (the body between `obj` and `endobj`), with its xref."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _deflate_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = bytes(MiB)
    parts = [packer.compress(chunk) for _ in range(size // MiB)]
    parts.append(packer.flush())
    return b"".join(parts)


def flate_bomb(*, inflated: int = 1024 * MiB) -> bytes:
    """One page whose content stream is ~1 MB of Flate that inflates to `inflated` bytes (1 GiB)."""
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"/Filter /FlateDecode", _deflate_zeros(inflated)),
    ])


def stacked_flate_bomb(*, inflated: int = 1024 * MiB) -> bytes:
    """Flate over Flate: a few KB that inflate to ~1 MB, which inflates to `inflated` bytes."""
    inner = _deflate_zeros(inflated)
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"/Filter [/FlateDecode /FlateDecode]", zlib.compress(inner, 9)),
    ])


def many_signature_fields(count: int = 20_000) -> bytes:
    """A one-page PDF with `count` signature fields, each filled with a (garbage) signature dictionary."""
    objects = [b"", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"",
               _stream(b"", _PAGE_CONTENT)]
    fields, widgets = [], []
    for index in range(count):
        value = len(objects) + 1
        objects.append(b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
                       b"/ByteRange [0 10 20 10] /Contents <3082000130> >>")
        field = len(objects) + 1
        objects.append(b"<< /FT /Sig /T (Sig%d) /V %d 0 R /Type /Annot /Subtype /Widget /Rect [0 0 0 0] "
                       b"/P 3 0 R >>" % (index, value))
        fields.append(b"%d 0 R" % field)
        widgets.append(b"%d 0 R" % field)
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [" + b" ".join(fields) + b"] /SigFlags 3 >> >>"
    objects[2] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Annots ["
                  + b" ".join(widgets) + b"] >>")
    return write_pdf(objects)


def deep_page_tree(depth: int = 5_000) -> bytes:
    """One page under `depth` nested /Pages nodes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        parent = b" /Parent %d 0 R" % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (number + 1, parent))
    page = depth + 2
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (page - 1, page + 1))
    objects.append(_stream(b"", _PAGE_CONTENT))
    return write_pdf(objects)


def looping_page_tree() -> bytes:
    """A page tree whose second /Pages node lists the first among its kids (a reference loop)."""
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>",
        _stream(b"", _PAGE_CONTENT),
    ])


def with_empty_signature_fields(pdf: bytes, count: int = 300) -> bytes:
    """`pdf` with `count` never-signed signature fields added as an incremental update: each has a /V
    signature dictionary (so it looks filled) but no /Contents, i.e. no signature value."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref = writer.root["/Pages"]["/Kids"][0]
    form = writer.root.get("/AcroForm")
    if form is None:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        writer.root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    form = writer.root["/AcroForm"]
    page = page_ref.get_object()
    annots = page.get("/Annots") or generic.ArrayObject()
    for index in range(count):
        ref = writer.add_object(generic.DictionaryObject({
            pdf_name("/FT"): pdf_name("/Sig"), pdf_name("/T"): generic.TextStringObject(f"Empty{index}"),
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(0)] * 4), pdf_name("/P"): page_ref,
            pdf_name("/V"): writer.add_object(generic.DictionaryObject({
                pdf_name("/Type"): pdf_name("/Sig"), pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
                pdf_name("/SubFilter"): pdf_name("/ETSI.CAdES.detached")})),
        }))
        form["/Fields"].append(ref)
        annots.append(ref)
    page[pdf_name("/Annots")] = annots
    writer.update_container(page)
    writer.update_container(form)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
