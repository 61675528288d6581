"""Reading untrusted XML safely: size first, then a parser that never resolves anything.

OWASP XXE / W3C XML Signature best practices: no DTD (so no entity, internal or external, and no
billion-laughs expansion), no network, no huge-tree mode, and a size limit checked before parsing.
A document with a DOCTYPE is refused outright rather than parsed with its entities left alone.
"""

from __future__ import annotations

from lxml import etree

from edxml.errors import PackageRefused

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def hardened_parser() -> etree.XMLParser:
    """The one parser edxml uses, for packages and for signxml's own parsing of them."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_pis=False, collect_ids=False)


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The root element of `data`, or `PackageRefused` naming why it is not read."""
    if not isinstance(data, (bytes, bytearray)):
        raise PackageRefused("format.not-bytes", "the package must be given as bytes", "gói tin phải là dữ liệu nhị phân")
    if len(data) > max_bytes:
        raise PackageRefused(
            "format.too-large", f"the package is {len(data)} bytes, over the limit of {max_bytes} bytes",
            f"gói tin có {len(data)} byte, vượt giới hạn {max_bytes} byte")
    # Looked for before parsing: libxml2 would otherwise still read the internal subset.
    head = bytes(data[:4096]).lstrip(b"\xef\xbb\xbf \t\r\n")
    # XML markup is case-sensitive: `<!DOCTYPE` is the only spelling a parser accepts.
    if bytes(data).find(b"<!DOCTYPE") >= 0 or bytes(data).find(b"<!ENTITY") >= 0:
        raise PackageRefused(
            "format.dtd", "the package declares a DTD or entities (<!DOCTYPE / <!ENTITY>), which edXML never "
            "needs and which carry XXE and entity-expansion attacks: refused",
            "gói tin khai báo DTD hoặc thực thể (<!DOCTYPE / <!ENTITY>), edXML không dùng và đây là dạng tấn công "
            "XXE / bùng nổ thực thể: từ chối")
    if not head.startswith(b"<"):
        raise PackageRefused("format.not-xml", "the file is not XML", "tệp không phải XML")
    try:
        root = etree.fromstring(bytes(data), parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise PackageRefused("format.not-xml", f"the package is not well-formed XML: {str(exc)[:200]}",
                             f"gói tin không phải XML hợp lệ: {str(exc)[:200]}") from None
    return root
