"""The embedded font for Vietnamese text stamps: Liberation Serif, metric-compatible with Times New Roman.

DOMAIN.md: text stamps are Times New Roman 10 pt, upright, black, with Vietnamese diacritics. Liberation
Serif (fonts-liberation2) has the same metrics and every precomposed Vietnamese letter. DESIGN.md pitfall:
loading an OpenType font for each signature costs about 0.1 s, so the font is subset once per process (to
Latin, Vietnamese and common punctuation) and its PDF objects are prebuilt; each document then receives
the same compressed font program and text is encoded through a cached character-to-glyph map.
"""

from __future__ import annotations

import functools
import io
import logging
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset, ttLib
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name

from signer.errors import AppearanceError

# fontTools warns about the FontForge timestamp table it drops while subsetting; nothing to act on.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FONT_DIRECTORY = Path("/usr/share/fonts/truetype/liberation2")
SERIF_REGULAR = FONT_DIRECTORY / "LiberationSerif-Regular.ttf"
SERIF_BOLD = FONT_DIRECTORY / "LiberationSerif-Bold.ttf"

# Latin-1, the Vietnamese letters outside it (Ă Đ Ĩ Ũ Ơ Ư and the Latin Extended Additional block of
# tone-marked letters) and typographic punctuation: everything a Vietnamese administrative text uses.
_CHARACTERS = (
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0xA0, 0x100)]
    + [chr(c) for c in (0x102, 0x103, 0x110, 0x111, 0x128, 0x129, 0x168, 0x169, 0x1A0, 0x1A1, 0x1AF, 0x1B0)]
    + [chr(c) for c in range(0x1EA0, 0x1EFA)]
    + [chr(c) for c in (0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x2116)]
)


@dataclass(frozen=True)
class EmbeddedFont:
    """A font subset once, with every PDF object it needs prebuilt as bytes."""

    postscript_name: str
    units_per_em: int
    glyph_of: dict[str, int]  # character -> glyph id in the subset
    advance_of: dict[int, int]  # glyph id -> advance width in 1/1000 em
    font_program: bytes  # the subset TrueType program, zlib-compressed
    font_program_length: int
    to_unicode: bytes  # the ToUnicode CMap, zlib-compressed
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]

    def encode(self, text: str) -> bytes:
        """The Identity-H string of `text` (NFC), refusing characters the font does not have."""
        text = unicodedata.normalize("NFC", text)
        missing = sorted({ch for ch in text if ch not in self.glyph_of})
        if missing:
            raise AppearanceError(
                f"phông chữ không có ký tự {''.join(missing)!r} / "
                f"the stamp font has no glyph for {''.join(missing)!r}"
            )
        return b"".join(self.glyph_of[ch].to_bytes(2, "big") for ch in text)

    def width(self, text: str, size: float) -> float:
        """The width of `text` at `size` points."""
        text = unicodedata.normalize("NFC", text)
        return sum(self.advance_of[self.glyph_of[ch]] for ch in text if ch in self.glyph_of) * size / 1000

    def show_text(self, text: str, *, resource_name: str, size: float, x: float, y: float) -> bytes:
        """Content-stream operators that draw `text` with its baseline starting at (x, y)."""
        hex_text = self.encode(text).hex().upper()
        return f"BT /{resource_name} {size:g} Tf {x:.2f} {y:.2f} Td <{hex_text}> Tj ET\n".encode("ascii")

    def add_to(self, writer) -> generic.IndirectObject:
        """Add the Type0 font (and its descendants) to a pyHanko writer; returns the font reference."""
        program = generic.StreamObject(
            {pdf_name("/Length1"): generic.NumberObject(self.font_program_length),
             pdf_name("/Filter"): pdf_name("/FlateDecode")},
            encoded_data=self.font_program,
        )
        descriptor = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): pdf_name("/" + self.postscript_name),
            pdf_name("/Flags"): generic.NumberObject(34),  # serif, non-symbolic
            pdf_name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in self.bbox),
            pdf_name("/ItalicAngle"): generic.NumberObject(0),
            pdf_name("/Ascent"): generic.NumberObject(self.ascent),
            pdf_name("/Descent"): generic.NumberObject(self.descent),
            pdf_name("/CapHeight"): generic.NumberObject(self.cap_height),
            pdf_name("/StemV"): generic.NumberObject(80),
            pdf_name("/FontFile2"): writer.add_object(program),
        })
        widths = generic.ArrayObject()  # "first [w w w ...]" per run of consecutive glyph ids
        run: list[int] = []
        for gid in sorted(self.advance_of):
            if run and run[-1] + 1 != gid:
                widths.append(generic.NumberObject(run[0]))
                widths.append(generic.ArrayObject(generic.NumberObject(self.advance_of[g]) for g in run))
                run = []
            run.append(gid)
        if run:
            widths.append(generic.NumberObject(run[0]))
            widths.append(generic.ArrayObject(generic.NumberObject(self.advance_of[g]) for g in run))
        cid_font = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): pdf_name("/" + self.postscript_name),
            pdf_name("/CIDSystemInfo"): generic.DictionaryObject({
                pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                pdf_name("/Ordering"): generic.TextStringObject("Identity"),
                pdf_name("/Supplement"): generic.NumberObject(0),
            }),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
            pdf_name("/W"): widths,
            pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
        })
        to_unicode = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=self.to_unicode
        )
        font = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type0"),
            pdf_name("/BaseFont"): pdf_name("/" + self.postscript_name),
            pdf_name("/Encoding"): pdf_name("/Identity-H"),
            pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
            pdf_name("/ToUnicode"): writer.add_object(to_unicode),
        })
        return writer.add_object(font)


def _runs(pairs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Split (glyph id, value) pairs, sorted by glyph id, into runs of consecutive glyph ids and values."""
    runs: list[list[tuple[int, int]]] = []
    for gid, value in pairs:
        # a CMap range may only vary the last byte of source and destination (ISO 32000-1, 9.10.3)
        continues = bool(runs) and runs[-1][-1][0] + 1 == gid and runs[-1][-1][1] + 1 == value
        if continues and gid % 256 and value % 256:
            runs[-1].append((gid, value))
        else:
            runs.append([(gid, value)])
    return runs


def _to_unicode_cmap(glyph_of: dict[str, int]) -> bytes:
    """The ToUnicode CMap, with ranges for runs (Latin letters and digits come in runs): smaller, and
    quicker for every reader to parse."""
    lines = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
        "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
    ]
    runs = _runs(sorted((gid, ord(ch)) for ch, gid in glyph_of.items()))
    ranges = [r for r in runs if len(r) > 1]
    singles = [r[0] for r in runs if len(r) == 1]
    for start in range(0, len(ranges), 100):  # at most 100 entries per block
        chunk = ranges[start:start + 100]
        lines.append(f"{len(chunk)} beginbfrange")
        lines.extend(f"<{r[0][0]:04X}> <{r[-1][0]:04X}> <{r[0][1]:04X}>" for r in chunk)
        lines.append("endbfrange")
    for start in range(0, len(singles), 100):
        chunk = singles[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{gid:04X}> <{code:04X}>" for gid, code in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _build(path: Path, tag: str) -> EmbeddedFont:
    try:
        font = ttLib.TTFont(str(path))
    except OSError as exc:
        raise AppearanceError(
            f"không đọc được phông chữ {path} / cannot read the stamp font {path}: {exc}"
        ) from exc
    options = subset.Options()
    options.retain_gids = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    available = font.getBestCmap()
    wanted = [ch for ch in _CHARACTERS if ord(ch) in available]
    subsetter.populate(unicodes=[ord(ch) for ch in wanted])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    program = buffer.getvalue()

    cmap = font.getBestCmap()
    glyph_of = {ch: font.getGlyphID(cmap[ord(ch)]) for ch in wanted if ord(ch) in cmap}
    units = font["head"].unitsPerEm
    hmtx = font["hmtx"]
    advance_of = {gid: round(hmtx[font.getGlyphName(gid)][0] * 1000 / units) for gid in set(glyph_of.values())}
    head = font["head"]
    os2 = font["OS/2"]
    scale = 1000 / units
    ps_name = font["name"].getDebugName(6) or path.stem
    return EmbeddedFont(
        postscript_name=f"{tag}+{ps_name}",
        units_per_em=units,
        glyph_of=glyph_of,
        advance_of=advance_of,
        font_program=zlib.compress(program, 6),
        font_program_length=len(program),
        to_unicode=zlib.compress(_to_unicode_cmap(glyph_of), 6),
        ascent=round(os2.sTypoAscender * scale),
        descent=round(os2.sTypoDescender * scale),
        cap_height=round(getattr(os2, "sCapHeight", 662) * scale),
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
    )


@functools.cache
def serif() -> EmbeddedFont:
    """Liberation Serif Regular (Times New Roman metrics), subset and prebuilt once per process."""
    return _build(SERIF_REGULAR, "KYSOVN")


@functools.cache
def serif_bold() -> EmbeddedFont:
    """Liberation Serif Bold, for headings of sample documents and the receipt stamp."""
    return _build(SERIF_BOLD, "KYSOVB")
