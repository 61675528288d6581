"""`kyso sign --kind issue` and the agency's number series: a number is reserved for the file being signed,
final only once the signed file is written, and given back when the signing fails after taking it (the TSA
unreachable, the output not writable, Ctrl-C), so the next issue of the series gets it again. Real processes,
SoftHSM tokens, the test PKI on loopback, the ledger in the KYSO_HOME's database."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime

import pytest

from kyso.config import Home
from ledger.numbering import SqlNumberAllocator
from ledger.store import open_store
from signer import VIETNAM
from tests.support import documents
from tests.support.servers import free_port

PIN_VARIABLE = "KYSO_TEST_SIGN_PIN"
AGENCY = "H26.1"
SERIES = "QĐ-UBND"

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(softhsm, pki, tmp_path):
    """A fresh KYSO_HOME (its own ledger database, so the series starts at 01) and the root PEM."""
    home = tmp_path / "home"
    home.mkdir()
    pems = pki.write_pem(tmp_path / "pems")
    env = dict(os.environ)
    env.update(softhsm.directory.environment())
    env["KYSO_HOME"] = str(home)
    env.pop("KYSO_SIGNER_LEVEL", None)
    return {"env": env, "root": pems / "root.pem", "home": home}


def _command(cli, token, *args):
    env = dict(cli["env"], **{PIN_VARIABLE: token.token.user_pin})
    return [sys.executable, "-m", "kyso", "sign", *map(str, args), "--token", token.token.label,
            "--pin-env", PIN_VARIABLE, "--trust", str(cli["root"])], env


def _kyso(cli, token, *args) -> subprocess.CompletedProcess:
    command, env = _command(cli, token, *args)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def _issue_args(source, target, seal, tsa_url):
    return (source, "-o", target, "--kind", "issue", "--seal-image", seal, "--agency-code", AGENCY,
            "--series", SERIES, "--level", "B-T", "--tsa", tsa_url)


def _approved(cli, pki, token, folder, name):
    """A decision signed (B-B) by the official: what an issue signs."""
    folder.mkdir(exist_ok=True)
    source = folder.parent / f"{name}-draft.pdf"
    source.write_bytes(documents.decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà"))
    image = folder.parent / "chu-ky.png"
    image.write_bytes(documents.signature_png())
    target = folder / f"{name}.pdf"
    done = _kyso(cli, token, source, "-o", target, "--kind", "approve", "--signature-image", image,
                 "--title", "PHÓ CHỦ TỊCH", "--level", "B-B")
    assert done.returncode == 0, done.stderr
    return target


def _series_state(cli) -> dict[int, str]:
    store = open_store(Home.locate(cli["home"]).database_url())
    try:
        return SqlNumberAllocator(store).state(AGENCY, datetime.now(VIETNAM).year, SERIES)
    finally:
        store.engine.dispose()


def _number_written(pdf_path) -> str:
    """The number written over the dots after "Số:" (the decision's number place, top left of page 1)."""
    area = subprocess.run(["pdftotext", "-x", "95", "-y", "100", "-W", "125", "-H", "25", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert "Số:" in area and f"....../{SERIES}" in area, area
    digits = [word for word in area if word.isdigit()]
    assert len(digits) == 1, area
    return digits[0]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _seal(tmp_path):
    seal = tmp_path / "dau.png"
    seal.write_bytes(documents.seal_png())
    return seal


def test_a_failed_issue_gives_its_number_back_and_the_next_issue_gets_01(cli, pki, personal_rsa_token,
                                                                          agency_ec_token, tmp_path):
    approved = _approved(cli, pki, personal_rsa_token, tmp_path / "approved", "quyet-dinh")
    before = _digest(approved)
    seal = _seal(tmp_path)
    issued = tmp_path / "phat-hanh.pdf"

    # 1. B-T with nobody listening at the TSA URL: the number was reserved when the number and date were
    # written in, then the timestamp fails; nothing is written and the number is released.
    dead_tsa = f"http://127.0.0.1:{free_port()}/tsa"
    done = _kyso(cli, agency_ec_token, *_issue_args(approved, issued, seal, dead_tsa))
    assert done.returncode == 1, done.stderr
    assert "Error:" in done.stderr and "Traceback" not in done.stderr
    assert not issued.exists() and not issued.with_name(issued.name + ".part").exists()
    assert _digest(approved) == before
    assert _series_state(cli) == {1: "released"}

    # 2. The output's folder does not exist: the signing itself worked, writing it fails; released again.
    nowhere = tmp_path / "missing" / "phat-hanh.pdf"
    done = _kyso(cli, agency_ec_token, *_issue_args(approved, nowhere, seal, pki.tsa_url))
    assert done.returncode == 1, done.stderr
    assert "không ghi được tệp ra / cannot write the output" in done.stderr
    assert "Traceback" not in done.stderr
    assert not nowhere.parent.exists()
    assert _digest(approved) == before
    assert _series_state(cli) == {1: "released"}

    # 3. A signing that works takes the released 01 and makes it final.
    done = _kyso(cli, agency_ec_token, *_issue_args(approved, issued, seal, pki.tsa_url))
    assert done.returncode == 0, done.stderr
    assert _number_written(issued) == "01"
    assert _series_state(cli) == {1: "final"}
    assert _digest(approved) == before


def test_folder_issue_reserves_per_file_and_releases_each_failure(cli, pki, personal_rsa_token, agency_ec_token,
                                                                  tmp_path):
    folder = tmp_path / "approved"
    first = _approved(cli, pki, personal_rsa_token, folder, "a-quyet-dinh")
    second = _approved(cli, pki, personal_rsa_token, folder, "b-quyet-dinh")
    digests = {first: _digest(first), second: _digest(second)}
    seal = _seal(tmp_path)
    out = tmp_path / "issued"

    dead_tsa = f"http://127.0.0.1:{free_port()}/tsa"
    done = _kyso(cli, agency_ec_token, *_issue_args(folder, out, seal, dead_tsa))
    assert done.returncode == 1, done.stderr
    assert "Đã ký / signed: 0; lỗi / failed: 2" in done.stdout
    assert list(out.iterdir()) == []
    # Each file gave its number back before the next file took one: the second file was given 01 again.
    assert _series_state(cli) == {1: "released"}

    # The second file's output place is taken by a folder: the first file keeps 01 (final), the second's
    # own reservation, 02, is released when its output cannot be put in place.
    (out / second.name).mkdir()
    done = _kyso(cli, agency_ec_token, *_issue_args(folder, out, seal, pki.tsa_url))
    assert done.returncode == 1, done.stderr
    assert "Đã ký / signed: 1; lỗi / failed: 1" in done.stdout
    assert f"{second.name}: không ghi được tệp ra / cannot write the output" in done.stderr
    assert _number_written(out / first.name) == "01"
    assert sorted(p.name for p in out.iterdir()) == [first.name, second.name]  # no .part left behind
    assert _series_state(cli) == {1: "final", 2: "released"}

    (out / second.name).rmdir()
    done = _kyso(cli, agency_ec_token, *_issue_args(second, out / second.name, seal, pki.tsa_url))
    assert done.returncode == 0, done.stderr
    assert _number_written(out / second.name) == "02"
    assert _series_state(cli) == {1: "final", 2: "final"}
    assert {path: _digest(path) for path in digests} == digests


def test_ctrl_c_while_waiting_for_the_tsa_releases_the_number(cli, pki, personal_rsa_token, agency_ec_token,
                                                              tmp_path, wsgi_server):
    approved = _approved(cli, pki, personal_rsa_token, tmp_path / "approved", "quyet-dinh")
    before = _digest(approved)
    seal = _seal(tmp_path)
    issued = tmp_path / "phat-hanh.pdf"
    asked, finish = threading.Event(), threading.Event()

    def stalled_tsa(environ, start_response):  # a TSA that answers only once the test has pressed Ctrl-C
        asked.set()
        finish.wait(60)
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"closed"]

    tsa_url = wsgi_server(stalled_tsa) + "/tsa"
    command, env = _command(cli, agency_ec_token, *_issue_args(approved, issued, seal, tsa_url))
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL)
    try:
        assert asked.wait(120), "kyso sign never asked the TSA"
        assert _series_state(cli) == {1: "reserved"}  # held while the signing runs
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        finish.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr  # kyso's exit status for an interrupt
    assert "Aborted / Đã hủy." in stderr and "Traceback" not in stderr
    assert not issued.exists() and not issued.with_name(issued.name + ".part").exists()
    assert _digest(approved) == before
    assert _series_state(cli) == {1: "released"}
