"""Distinguished names as ordered attribute lists, the way Vietnamese government subjects are written.

A subject is a tuple of `(attribute, value)` pairs in DER order, one attribute per RDN, so that repeated
`OU` keep their order (lowest level first, DOMAIN.md) and Vietnamese text stays UTF-8 (`UTF8String`).
`C` and `serialNumber` are `PrintableString` (RFC 5280 appendix A), `E` is `IA5String`.
"""

from __future__ import annotations

from typing import Iterable

from asn1crypto import x509

from ca.errors import RequestRejected

SubjectAttributes = tuple[tuple[str, str], ...]

_PRINTABLE = {"country_name", "serial_number"}


def build_name(attributes: Iterable[tuple[str, str]]) -> x509.Name:
    """An `x509.Name` with one RDN per attribute, in the given order."""
    rdns = []
    for name, value in attributes:
        if name not in x509.NameType._map.values() and name not in x509.NameType._map:
            raise RequestRejected(
                f"thuộc tính tên không biết: {name}", f"unknown name attribute: {name}"
            )
        if name == "email_address":
            encoded = value
        elif name in _PRINTABLE:
            encoded = x509.DirectoryString(name="printable_string", value=value)
        else:
            encoded = x509.DirectoryString(name="utf8_string", value=value)
        rdns.append(x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": name, "value": encoded})]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def name_attributes(name: x509.Name) -> SubjectAttributes:
    """The `(attribute, value)` pairs of a name in DER order; undecodable values raise `RequestRejected`."""
    pairs = []
    for rdn in name.chosen:
        for atv in rdn:
            try:
                value = atv["value"].native
            except ValueError as exc:
                raise RequestRejected(
                    f"không đọc được giá trị thuộc tính {atv['type'].native}",
                    f"cannot decode the value of name attribute {atv['type'].native}",
                ) from exc
            pairs.append((atv["type"].native, value))
    return tuple(pairs)
