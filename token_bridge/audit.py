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

    def __init__(self, path: str | os.PathLike | None = None, *, clock: Callable[[], dt.datetime] | None = None):
        self.path = Path(path) if path else None
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc).astimezone())
        self._lock = threading.Lock()
        self._memory: list[AuditRecord] = []
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
