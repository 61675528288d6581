"""Serial numbers: random for certificates, block-allocated for time-stamp tokens.

Certificates: random, positive, at least 64 bits (RFC 5280 4.1.2.2, CA/Browser Forum practice); the
database refuses a duplicate (`ca_certificates.serial` is unique) and the caller draws again.

Time-stamp tokens (RFC 3161 2.4.2: an integer unique for every token of the TSA) come from blocks: a
process reserves a block in one transaction (`ca_serial_blocks`, whose primary key makes it its own), then
numbers tokens from it in memory, so a token costs no database round trip. serial = block << 20 | index:
unique across processes and hosts by the key, increasing within a block. The tokens themselves are still
recorded (`ca_timestamps.serial` unique), in batches. Block serials stay below 2**64 for the first 2**44
blocks, so they never meet the random 127-bit serials of earlier versions (all >= 2**64).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

# RFC 5280 4.1.2.2: at most 20 octets; CA/Browser practice: at least 64 bits of randomness.
SERIAL_BITS = 127
BLOCK_BITS = 20  # serials per block: 2**20


def random_serial() -> int:
    """A positive random serial of at least 64 significant bits (fits 16 octets, never negative)."""
    while True:
        serial = secrets.randbits(SERIAL_BITS)
        if serial >= 1 << 64:
            return serial


class SerialBlocks:
    """Unique increasing serials from blocks reserved by `reserve` (returns a new block number, >= 1).

    Thread-safe. A block not used up when the process ends is simply never used: serials need to be
    unique, not dense.
    """

    def __init__(self, reserve: Callable[[], int], *, block_bits: int = BLOCK_BITS):
        self._reserve = reserve
        self._block_bits = block_bits
        self._lock = threading.Lock()
        self._next = 0
        self._end = 0  # empty: the first call reserves

    def next_serial(self) -> int:
        with self._lock:
            if self._next == self._end:
                block = self._reserve()
                if block < 1:
                    raise ValueError(f"block numbers start at 1, got {block}")
                self._next = block << self._block_bits
                self._end = self._next + (1 << self._block_bits)
            serial = self._next
            self._next += 1
            return serial
