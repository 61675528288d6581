"""Issue 9, items 2 and 3, against a live gunicorn service: a Flate bomb (1 MB inflating to 1 GiB), Flate on
Flate, a file with 20,000 signature fields, a page tree 5,000 levels deep and a chunked body over the upload
limit are sent while another client signs normally. The normal client is served (every one of its
signatures completes), each bad request gets its precise 422 or 413, and no worker's memory grows by more
than a generous bound (measured from /proc: RSS, not time)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
import requests

from tests.integration.service.test_load_and_crash import Tally, sign_once
from tests.support.documents import signature_png
from tests.support.hostile_pdfs import deep_page_tree, flate_bomb, many_signature_fields, stacked_flate_bomb
from tests.support.ledger import ROSTER_CSV
from tests.support.service import gunicorn_service, write_pki_home

pytestmark = pytest.mark.integration

GiB = 1024 ** 3
B64 = lambda data: base64.b64encode(data).decode()  # noqa: E731


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def prepare_body(pki, document: bytes) -> dict:
    return {"kind": "approve", "certificate": B64(pki.official_ec.der), "document": B64(document),
            "filename": "hostile.pdf", "agency_code": "H26.10", "title": "GIÁM ĐỐC",
            "signature_image": B64(signature_png()),
            "signer_name": "Nguyễn Văn An"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_hostile_files_are_refused_while_normal_signing_is_served(tmp_path, database_url, pki):
    home = tmp_path / "home"
    write_pki_home(home, database_url, pki)
    bomb, stacked, fields, deep = flate_bomb(), stacked_flate_bomb(), many_signature_fields(20_000), deep_page_tree(5_000)
    with gunicorn_service(home, workers=2, roster=ROSTER_CSV) as service:
        headers = {"Authorization": f"Bearer {service.key}"}
        pdf = {**headers, "Content-Type": "application/pdf"}
        url = service.base_url
        with requests.Session() as http:  # warm both workers' libraries before measuring
            for _ in range(2):
                assert http.get(f"{url}/healthz", timeout=30).status_code == 200
        workers = service.worker_pids()
        before = {pid: rss_bytes(pid) for pid in workers}
        peak = dict(before)
        tally = Tally()
        done = threading.Event()

        def normal_client() -> None:
            with requests.Session() as http:
                for _ in range(4):
                    sign_once(http, url, headers, pki, tally)
            done.set()

        def watch_memory() -> None:
            while not done.wait(0.1):
                for pid in workers:
                    try:
                        peak[pid] = max(peak[pid], rss_bytes(pid))
                    except (FileNotFoundError, ProcessLookupError):
                        pass

        signer = threading.Thread(target=normal_client)
        watcher = threading.Thread(target=watch_memory)
        signer.start()
        watcher.start()
        answers = {}
        with requests.Session() as http:
            answers["validate bomb"] = http.post(f"{url}/api/v1/validations", data=bomb, headers=pdf, timeout=120)
            answers["validate stacked"] = http.post(f"{url}/api/v1/validations", data=stacked, headers=pdf, timeout=120)
            answers["validate fields"] = http.post(f"{url}/api/v1/validations", data=fields, headers=pdf, timeout=120)
            answers["validate deep"] = http.post(f"{url}/api/v1/validations", data=deep, headers=pdf, timeout=120)
            answers["prepare bomb"] = http.post(f"{url}/api/v1/signing-sessions", json=prepare_body(pki, bomb),
                                                headers=headers, timeout=120)
            answers["prepare deep"] = http.post(f"{url}/api/v1/signing-sessions", json=prepare_body(pki, deep),
                                                headers=headers, timeout=120)
            chunk = b"%PDF-1.7\n" + bytes(1024 * 1024 - 9)
            limit = service.settings.max_upload_bytes
            chunks = (chunk for _ in range(limit // len(chunk) + 2))  # no Content-Length: chunked encoding
            answers["chunked"] = http.post(f"{url}/api/v1/validations", data=chunks, headers=pdf, timeout=120)
        signer.join(timeout=600)
        done.set()
        watcher.join(timeout=10)

        got = {name: (answer.status_code, answer.json().get("message")) for name, answer in answers.items()}
        print("answers:", got)
        print("rss MiB before/peak:", {pid: (before[pid] >> 20, peak[pid] >> 20) for pid in workers})
        stream, fields_text = "refused: one stream of the PDF decodes to more than 67108864 bytes", \
            "refused: the PDF has more than 100 signature fields"
        deep_text = "refused: the page tree of the PDF is nested more than 64 levels deep"
        assert got == {
            "validate bomb": (422, stream), "validate stacked": (422, stream), "validate fields": (422, fields_text),
            "validate deep": (422, deep_text), "prepare bomb": (422, stream), "prepare deep": (422, deep_text),
            "chunked": (413, f"upload too large: at most {limit} bytes"),
        }
        assert not tally.errors, tally.errors[:3]
        assert len(tally.acknowledged) == 4  # the normal client was served: every signature completed
        for pid in workers:
            assert peak[pid] - before[pid] < GiB, (pid, before[pid], peak[pid])
