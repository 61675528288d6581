"""A minimal DER writer (ITU-T X.690) for the answers the CA builds thousands of times a second.

An OCSP response or a time-stamp token is mostly the same bytes every time: the responder ID, the
certificates, the algorithm identifiers, the signed-attribute template. Those are encoded once per key with
asn1crypto; only the few varying fields (serial, time, nonce, digest, signature) are written here and the
parts are joined by tag and length. Tests check the result byte for byte against asn1crypto's encoding.
"""

from __future__ import annotations

from datetime import datetime, timezone

from asn1crypto import core

INTEGER = 0x02
OCTET_STRING = 0x04
OBJECT_IDENTIFIER = 0x06
GENERALIZED_TIME = 0x18
SEQUENCE = 0x30
SET = 0x31


def length(size: int) -> bytes:
    """X.690 8.1.3: the short form below 128, else the long form with the fewest octets."""
    if size < 0x80:
        return bytes((size,))
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, *contents: bytes) -> bytes:
    """One element: its tag octet, the DER length and the joined contents."""
    content = b"".join(contents)
    return bytes((tag,)) + length(len(content)) + content


def sequence(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, *parts)


def set_of(*parts: bytes) -> bytes:
    """X.690 11.6: the elements of a DER SET OF are sorted by their encodings."""
    return tlv(SET, *sorted(parts))


def explicit(number: int, content: bytes) -> bytes:
    """A context-specific constructed [number] EXPLICIT wrapper (numbers below 31)."""
    return tlv(0xA0 | number, content)


def integer(value: int) -> bytes:
    """X.690 8.3: two's complement in the fewest octets."""
    magnitude = value if value >= 0 else ~value  # -128 fits one octet, 128 needs two
    return tlv(INTEGER, value.to_bytes(magnitude.bit_length() // 8 + 1, "big", signed=True))


def octet_string(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def generalized_time(moment: datetime) -> bytes:
    """X.690 11.7 GeneralizedTime in UTC ("Z"); asn1crypto for fractional seconds (trailing zeros cut)."""
    moment = moment.astimezone(timezone.utc)
    if moment.microsecond:
        return core.GeneralizedTime(moment).dump()
    return tlv(GENERALIZED_TIME, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))
