"""The bridge's audit log: who asked for which signature, from which origin, and what happened.

One JSON object per line, appended and flushed per request, file mode 0600. A record holds the request's
description and digest (neither is secret: the digest is what the requester sent) and never a PIN: no
PIN ever reaches this module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from token_bridge.errors import ConfigurationError


@dataclass(frozen=True)
class AuditRecord:
    time: str  # ISO 8601 with offset
    origin: str  # the web origin, or "local application"
    client: str  # the User-Agent as sent
    certificate_id: str
    token_label: str
    signer: str
    description: str
    digest_algorithm: str
    signature_algorithm: str
    digest: str  # hex
    outcome: str  # signed | refused | failed
    error_code: str | None = None
    message: str | None = None
    event: str = "signature"  # signature | request_refused (a foreign origin or Host, before any work)


class AuditLog:
    """Appends records to `path` (JSON lines); with no path, keeps them in memory (tests)."""

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        refusals_per_minute: int = 120,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.path = Path(path) if path else None
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc).astimezone())
        self._lock = threading.Lock()
        self._memory: list[AuditRecord] = []
        # A hostile page can send refused requests in a loop: record at most this many a minute, then count.
        self._refusal_budget = refusals_per_minute
        self._monotonic = monotonic
        self._window_start = monotonic()
        self._refusals = 0
        self._suppressed = 0
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.close(fd)
            except OSError as exc:
                raise ConfigurationError(
                    f"Cannot write the audit log {self.path}: {exc.strerror}.",
                    f"Không ghi được nhật ký kiểm toán {self.path}: {exc.strerror}.",
                ) from exc

    def now(self) -> str:
        return self._clock().isoformat(timespec="seconds")

    def record(self, record: AuditRecord) -> None:
        with self._lock:
            if self.path is None:
                self._memory.append(record)
                return
            line = json.dumps(asdict(record), ensure_ascii=False, sort_keys=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()

    def record_refused_request(self, *, origin: str | None, client: str, method: str, path: str, host: str,
                               error_code: str, message: str) -> None:
        """A request refused at the door (foreign origin, foreign Host): evidence of an attempt."""
        with self._lock:
            now = self._monotonic()
            suppressed = 0
            if now - self._window_start >= 60:
                suppressed, self._suppressed = self._suppressed, 0
                self._window_start, self._refusals = now, 0
            self._refusals += 1
            if self._refusals > self._refusal_budget:
                self._suppressed += 1
                return
        if suppressed:
            self.record(
                AuditRecord(
                    time=self.now(), origin="", client="", certificate_id="", token_label="", signer="",
                    description=f"{suppressed} more refused request(s) in the previous minute were not recorded",
                    digest_algorithm="", signature_algorithm="", digest="", outcome="refused",
                    error_code="refusals_suppressed", message=None, event="request_refused",
                )
            )
        self.record(
            AuditRecord(
                time=self.now(), origin=origin or "local application", client=client, certificate_id="",
                token_label="", signer="", description=f"{method} {path} (Host: {host})", digest_algorithm="",
                signature_algorithm="", digest="", outcome="refused", error_code=error_code, message=message,
                event="request_refused",
            )
        )

    def records(self) -> list[AuditRecord]:
        with self._lock:
            if self.path is None:
                return list(self._memory)
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [AuditRecord(**json.loads(line)) for line in lines if line.strip()]
