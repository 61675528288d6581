"""Rate tracking: every signature made through the plugin endpoint is reported to the central service
(`POST /api/v1/signature-reports`), which verifies the file and records it in the ledger.

A report is first written to a local outbox (`KYSO_HOME/bridge/outbox/<id>.pdf` + `<id>.json`, mode
0600) and only removed once the service answered 201 (recorded) or 200 (already recorded): a service that is
down or slow loses nothing, and a report whose answer was lost is sent again and recorded once (the
service recognises the same signature). A report the service refuses (4xx) moves to `outbox/refused/` with
the service's message, for a person to look at. `flush()` runs after each signature and every
`retry_seconds` in a background thread.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from kyso.vgca.plugin import SignedRecord


@dataclass(frozen=True)
class FlushResult:
    sent: int
    pending: int
    refused: int


class ServiceReporter:
    def __init__(self, outbox: str | os.PathLike, *, service_url: str, api_key: str, agency_code: str,
                 timeout: float = 30.0):
        self.outbox = Path(outbox)
        (self.outbox / "refused").mkdir(parents=True, exist_ok=True)
        os.chmod(self.outbox, 0o700)
        self.service_url = service_url.rstrip("/")
        self._api_key = api_key
        self.agency_code = agency_code
        self.timeout = timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:  # the API key stays out of logs and reprs
        return f"ServiceReporter({self.service_url!r}, outbox={str(self.outbox)!r})"

    def __call__(self, record: SignedRecord) -> None:
        """Queue the report, then try to send what is queued (never raises: the signature is done)."""
        report_id = uuid.uuid4().hex
        meta = {"report_id": report_id, "purpose": record.kind, "file_name": record.file_name,
                "document_number": record.document_number or "", "origin": record.origin or "",
                "document_date": record.document_date}
        for suffix, data in ((".pdf", record.pdf), (".json", json.dumps(meta, ensure_ascii=False).encode())):
            path = self.outbox / f"{report_id}{suffix}.part"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        (self.outbox / f"{report_id}.pdf.part").replace(self.outbox / f"{report_id}.pdf")
        (self.outbox / f"{report_id}.json.part").replace(self.outbox / f"{report_id}.json")  # the json last: ready
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - a report failing now is retried later; the signature stands
            pass

    def pending(self) -> list[str]:
        return sorted(p.stem for p in self.outbox.glob("*.json"))

    def flush(self) -> FlushResult:
        """Send every queued report once; keep what could not be delivered."""
        sent = refused = 0
        with self._lock:
            for report_id in self.pending():
                meta_path, pdf_path = self.outbox / f"{report_id}.json", self.outbox / f"{report_id}.pdf"
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                try:
                    response = requests.post(
                        f"{self.service_url}/api/v1/signature-reports",
                        headers={"Authorization": f"Bearer {self._api_key}"},
                        data={"agency_code": self.agency_code, "purpose": meta["purpose"],
                              "document_number": meta["document_number"], "report_id": report_id},
                        files={"file": (meta["file_name"] or "document.pdf", pdf_path.read_bytes(), "application/pdf")},
                        timeout=self.timeout, allow_redirects=False,
                    )
                except requests.RequestException:
                    break  # the service is unreachable: keep this and the rest for the next try
                if response.status_code in (200, 201):
                    meta_path.unlink()
                    pdf_path.unlink(missing_ok=True)
                    sent += 1
                elif 400 <= response.status_code < 500 and response.status_code not in (401, 408, 429):
                    meta["refusal"] = {"status": response.status_code, "body": response.text[:2000]}
                    (self.outbox / "refused" / f"{report_id}.json").write_text(
                        json.dumps(meta, ensure_ascii=False), encoding="utf-8")
                    pdf_path.replace(self.outbox / "refused" / f"{report_id}.pdf")
                    meta_path.unlink()
                    refused += 1
                else:
                    break  # 5xx, 401 (a key being rotated), 429: try again later
        return FlushResult(sent=sent, pending=len(self.pending()), refused=refused)

    def start(self, *, retry_seconds: float = 60.0) -> None:
        def loop():
            while not self._stop.wait(retry_seconds):
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - keep retrying
                    pass

        self._thread = threading.Thread(target=loop, name="kyso-vgca-reports", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
