"""`kyso sign` as a real process: keys on SoftHSM tokens, PIN from an environment variable, the test PKI's
TSA and OCSP on loopback; single files, a folder with a progress summary, and refusals that leave the input
untouched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.support import documents

PIN_VARIABLE = "KYSO_TEST_SIGN_PIN"


@pytest.fixture(scope="module")
def cli_env(softhsm, personal_rsa_token, agency_ec_token, pki, tmp_path_factory):
    home = tmp_path_factory.mktemp("kyso-home")
    pems = pki.write_pem(tmp_path_factory.mktemp("pems"))
    env = dict(os.environ)
    env.update(softhsm.directory.environment())
    env.update({"KYSO_HOME": str(home), PIN_VARIABLE: personal_rsa_token.token.user_pin})
    env.pop("KYSO_SIGNER_LEVEL", None)
    return {"env": env, "root": pems / "root.pem", "home": home}


def _kyso(cli_env, *args, pin=True) -> subprocess.CompletedProcess:
    env = dict(cli_env["env"])
    if not pin:
        env.pop(PIN_VARIABLE)
    return subprocess.run([sys.executable, "-m", "kyso", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sign_approve(cli_env, pki, source, target, token):
    images = source.parent / "chu-ky.png"
    images.write_bytes(documents.signature_png())
    return _kyso(cli_env, "sign", source, "-o", target, "--kind", "approve", "--token", token.token.label,
                 "--pin-env", PIN_VARIABLE, "--signature-image", images, "--title", "PHÓ CHỦ TỊCH",
                 "--level", "B-T", "--trust", cli_env["root"], "--tsa", pki.tsa_url)


@pytest.mark.integration
def test_approve_then_issue_with_softhsm_tokens(cli_env, pki, personal_rsa_token, agency_ec_token, tmp_path,
                                                pdfsig, judge_statuses):
    source = tmp_path / "quyet-dinh.pdf"
    source.write_bytes(documents.decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà"))
    before = _digest(source)
    approved = tmp_path / "da-duyet.pdf"
    done = _sign_approve(cli_env, pki, source, approved, personal_rsa_token)
    assert done.returncode == 0, done.stderr
    assert f"Đã ký / signed: {approved}" in done.stdout
    assert _digest(source) == before

    seal = tmp_path / "dau.png"
    seal.write_bytes(documents.seal_png())
    issued = tmp_path / "phat-hanh.pdf"
    env_pin = dict(cli_env)
    env_pin["env"] = dict(cli_env["env"], **{PIN_VARIABLE: agency_ec_token.token.user_pin})
    done = _kyso(env_pin, "sign", approved, "-o", issued, "--kind", "issue", "--token", agency_ec_token.token.label,
                 "--pin-env", PIN_VARIABLE, "--seal-image", seal, "--agency-code", "H26.1", "--series", "QĐ-UBND",
                 "--level", "B-LT", "--trust", cli_env["root"], "--tsa", pki.tsa_url)
    assert done.returncode == 0, done.stderr

    judged = pdfsig(issued.read_bytes())
    assert [s.signer for s in judged] == ["Nguyễn Thị Thu Hà", "UBND Phường Hoàn Kiếm"]
    assert all(s.signature_valid and s.certificate_trusted for s in judged), [s.raw for s in judged]
    assert all(status.bottom_line for status in judge_statuses(issued.read_bytes()).values())


@pytest.mark.integration
def test_issue_before_approve_is_refused_and_nothing_is_written(cli_env, pki, agency_ec_token, tmp_path):
    source = tmp_path / "chua-duyet.pdf"
    source.write_bytes(documents.sample_decision())
    before = _digest(source)
    seal = tmp_path / "dau.png"
    seal.write_bytes(documents.seal_png())
    target = tmp_path / "out.pdf"
    env_pin = dict(cli_env)
    env_pin["env"] = dict(cli_env["env"], **{PIN_VARIABLE: agency_ec_token.token.user_pin})
    done = _kyso(env_pin, "sign", source, "-o", target, "--kind", "issue", "--token", agency_ec_token.token.label,
                 "--pin-env", PIN_VARIABLE, "--seal-image", seal, "--agency-code", "H26.1", "--series", "QĐ-UBND",
                 "--level", "B-B", "--trust", cli_env["root"])
    assert done.returncode == 1
    assert "the document carries no personal signature yet: it cannot be issued" in done.stderr
    assert _digest(source) == before and not target.exists()


@pytest.mark.integration
def test_jpeg_seal_is_a_usage_error(cli_env, agency_ec_token, tmp_path):
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.sample_decision())
    seal = tmp_path / "dau.jpg"
    seal.write_bytes(documents.seal_jpeg())
    done = _kyso(cli_env, "sign", source, "--kind", "issue", "--token", agency_ec_token.token.label,
                 "--seal-image", seal, "--agency-code", "H26", "--series", "QĐ-UBND", "--trust", cli_env["root"])
    assert done.returncode == 64
    assert ("the seal image must be a PNG with transparency, this file is JPEG") in done.stderr


@pytest.mark.integration
def test_folder_batch_summarises_failures(cli_env, pki, personal_rsa_token, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = documents.decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà")
    (folder / "1-quyet-dinh.pdf").write_bytes(good)
    (folder / "2-quyet-dinh.pdf").write_bytes(good)
    (folder / "3-hong.pdf").write_bytes(good[:2000])
    (folder / "4-cong-van.xml").write_bytes("<CongVan>Số 12/UBND-VP</CongVan>".encode())
    before = {p.name: _digest(p) for p in folder.iterdir()}
    images = tmp_path / "chu-ky.png"
    images.write_bytes(documents.signature_png())
    out = tmp_path / "out"
    done = _kyso(cli_env, "sign", folder, "-o", out, "--kind", "approve", "--token", personal_rsa_token.token.label,
                 "--pin-env", PIN_VARIABLE, "--signature-image", images, "--title", "PHÓ CHỦ TỊCH",
                 "--level", "B-B", "--trust", cli_env["root"])
    assert done.returncode == 1, done.stderr
    assert "Đã ký / signed: 3; lỗi / failed: 1" in done.stdout
    assert "3-hong.pdf: tệp PDF bị hỏng / the PDF is broken" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["1-quyet-dinh.pdf", "2-quyet-dinh.pdf", "4-cong-van.xml.p7s"]
    assert {p.name: _digest(p) for p in folder.iterdir()} == before
    gov = tmp_path / "gov.pem"
    gov.write_bytes(pki.gov.pem)
    verified = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(out / "4-cong-van.xml.p7s"),
         "-content", str(folder / "4-cong-van.xml"), "-CAfile", str(cli_env["root"]), "-certfile", str(gov),
         "-purpose", "any", "-out", "/dev/null"], capture_output=True, text=True)
    assert verified.returncode == 0 and "Verification successful" in verified.stderr, verified.stderr


@pytest.mark.integration
def test_missing_pin_variable_fails_without_prompting(cli_env, personal_rsa_token, tmp_path):
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.decision_pdf(title="PHÓ CHỦ TỊCH", name="Nguyễn Thị Thu Hà"))
    images = tmp_path / "chu-ky.png"
    images.write_bytes(documents.signature_png())
    done = _kyso(cli_env, "sign", source, "--kind", "approve", "--token", personal_rsa_token.token.label,
                 "--pin-env", PIN_VARIABLE, "--signature-image", images, "--title", "PHÓ CHỦ TỊCH",
                 "--level", "B-B", "--trust", cli_env["root"], pin=False)
    assert done.returncode == 1
    assert "Environment variable KYSO_TEST_SIGN_PIN holds no PIN." in done.stderr
    assert personal_rsa_token.token.user_pin not in done.stderr + done.stdout
    assert not (tmp_path / "a-signed.pdf").exists()


@pytest.mark.integration
def test_a_non_pdf_file_needs_no_appearance_inputs(cli_env, pki, agency_ec_token, tmp_path):
    source = tmp_path / "cong-van.xml"
    source.write_bytes("<CongVan>Số 12/UBND-VP</CongVan>".encode())
    env_pin = dict(cli_env)
    env_pin["env"] = dict(cli_env["env"], **{PIN_VARIABLE: agency_ec_token.token.user_pin})
    done = _kyso(env_pin, "sign", source, "--kind", "copy", "--token", agency_ec_token.token.label,
                 "--pin-env", PIN_VARIABLE, "--level", "B-T", "--trust", cli_env["root"], "--tsa", pki.tsa_url)
    assert done.returncode == 0, done.stderr
    signature = tmp_path / "cong-van.xml.p7s"
    gov = tmp_path / "gov.pem"
    gov.write_bytes(pki.gov.pem)
    verified = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(source),
         "-CAfile", str(cli_env["root"]), "-certfile", str(gov), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True)
    assert verified.returncode == 0 and "Verification successful" in verified.stderr, verified.stderr
