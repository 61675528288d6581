"""The RFC 3161 client for B-T and B-LTA: long timeouts, retries, few concurrent requests.

DOMAIN.md: the real TSA (tsa.ca.gov.vn) is slow, seconds to minutes; use long timeouts, retries and few
concurrent requests. pyHanko's HTTP timestamper makes one attempt; this one retries network and HTTP
failures and ungranted answers with a growing pause, and lets at most `max_concurrent` requests of the process be in flight
(signing runs one event loop per call, so the limit is a thread semaphore shared by all of them).
"""

from __future__ import annotations

import asyncio
import logging
import threading

from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

log = logging.getLogger(__name__)


class RetryingTimeStamper(HTTPTimeStamper):
    def __init__(self, url: str, *, timeout: float = 60.0, attempts: int = 3, pause: float = 1.0,
                 max_concurrent: int = 4):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        super().__init__(url, timeout=timeout)
        self.attempts = attempts
        self.pause = pause
        self._slots = threading.BoundedSemaphore(max_concurrent)

    async def async_request_tsa_response(self, req):
        await asyncio.to_thread(self._slots.acquire)
        try:
            return await super().async_request_tsa_response(req)
        finally:
            self._slots.release()

    async def async_timestamp(self, message_digest, md_algorithm):
        """Retry the whole exchange (fresh nonce each time): network and HTTP failures, and answers that
        grant nothing (a busy TSA says systemFailure or waiting)."""
        failure: TimestampRequestError | None = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.pause * 2 ** (attempt - 1))
            try:
                return await super().async_timestamp(message_digest, md_algorithm)
            except TimestampRequestError as exc:
                failure = exc
                log.warning("TSA %s: attempt %d of %d failed: %s", self.url, attempt + 1, self.attempts, exc)
        raise failure
