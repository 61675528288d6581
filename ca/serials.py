"""Serial numbers: random, positive, at least 64 bits (RFC 5280 4.1.2.2, CA/Browser Forum practice).

Uniqueness is not left to chance: the database refuses a duplicate (`ca_certificates.serial`,
`ca_timestamps.serial` are unique) and the caller draws again.
"""

from __future__ import annotations

import secrets

# RFC 5280 4.1.2.2: at most 20 octets; CA/Browser practice: at least 64 bits of randomness.
SERIAL_BITS = 127


def random_serial() -> int:
    """A positive random serial of at least 64 significant bits (fits 16 octets, never negative)."""
    while True:
        serial = secrets.randbits(SERIAL_BITS)
        if serial >= 1 << 64:
            return serial
