"""`kyso verify` end to end in a subprocess: the DESIGN.md JSON contract, exit codes, batch mode, languages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import attacks
from tests.support.documents import sample_decision
from tests.support.verifier import sign_pdf

KYSO = str(Path(sys.executable).with_name("kyso"))
SIGNATURE_KEYS = {"field", "kind", "indication", "sub_indication", "signer", "signing_time", "signing_time_source",
                  "trust_anchor", "modifications", "messages"}
FILE_KEYS = {"path", "indication", "signatures"}
# What `kyso verify --format json` writes beyond the DESIGN.md contract (documented in the README).
EXTRA_SIGNATURE_KEYS = {"change", "claimed_time", "timestamp", "revocation", "coverage", "certificate_sha256",
                        "digest_algorithm", "signature_algorithm", "revision", "codes"}
EXTRA_FILE_KEYS = {"sub_indication", "messages"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, verifier_kit, pki):
    folder = tmp_path_factory.mktemp("incoming")
    good = sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())
    (folder / "good.pdf").write_bytes(good)
    (folder / "tampered.pdf").write_bytes(attacks.append_page(good))
    (folder / "root.pem").write_bytes(pki.root.pem)
    return folder


def _run(*args, home: Path, env_extra=None):
    env = {**os.environ, "KYSO_HOME": str(home), **(env_extra or {})}
    return subprocess.run([KYSO, "verify", *args], capture_output=True, text=True, env=env, timeout=120)


def test_json_contract_and_exit_zero_for_a_valid_file(folder, tmp_path):
    result = _run("--format", "json", "--trust", str(folder / "root.pem"), str(folder / "good.pdf"), home=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (only,) = data["files"]
    assert {"path", "indication", "signatures"} <= set(only)
    assert only["indication"] == "TOTAL_PASSED"
    signature = only["signatures"][0]
    assert SIGNATURE_KEYS <= set(signature)
    assert (signature["kind"], signature["sub_indication"], signature["modifications"]) == ("personal", None, "none")
    assert signature["signing_time_source"] == "timestamp" and signature["signing_time"].endswith("+07:00")
    assert signature["signer"]["common_name"] == "Trần Thị Bình"
    assert signature["messages"][0] == "chữ ký số hợp lệ"  # Vietnamese by default


def test_exact_key_sets_of_the_file_and_signature_objects(folder, tmp_path):
    (tmp_path / "note.txt").write_text("xin chào")
    result = _run("--format", "json", "--trust", str(folder / "root.pem"), str(folder / "good.pdf"),
                  str(tmp_path / "note.txt"), home=tmp_path)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"files", "summary"}
    good, note = data["files"]
    assert set(good) == set(note) == FILE_KEYS | EXTRA_FILE_KEYS
    (signature,) = good["signatures"]
    assert set(signature) == SIGNATURE_KEYS | EXTRA_SIGNATURE_KEYS
    assert (good["indication"], note["indication"], note["sub_indication"]) == (
        "TOTAL_PASSED", "TOTAL_FAILED", "FORMAT_FAILURE")
    assert note["signatures"] == [] and note["messages"] == ["tệp không phải văn bản PDF (thiếu phần đầu %PDF-)"]


def test_batch_over_a_folder_reports_each_file_and_exits_one(folder, tmp_path):
    result = _run("--trust", str(folder / "root.pem"), "--lang", "en", str(folder), home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "File: " + str(folder / "good.pdf") in result.stdout
    assert "[1] Signature1: personal signature - INVALID (TOTAL_FAILED / SIG_CONSTRAINTS_FAILURE)" in result.stdout
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    assert "kyso verify" in result.stderr  # the progress bar's label, on stderr
    assert result.stdout.rstrip().endswith("Total: 2 (VALID: 1, INVALID: 1)")


def test_untrusted_without_trust_option_is_indeterminate_exit_two(folder, tmp_path):
    result = _run("--format", "json", str(folder / "good.pdf"), home=tmp_path)
    assert result.returncode == 2
    signature = json.loads(result.stdout)["files"][0]["signatures"][0]
    assert (signature["indication"], signature["sub_indication"]) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")


def test_demo_pki_roots_in_kyso_home_are_trusted(folder, tmp_path):
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "root.crt").write_bytes((folder / "root.pem").read_bytes())
    assert _run(str(folder / "good.pdf"), home=tmp_path).returncode == 0


def test_offline_without_validation_data_is_indeterminate(folder, tmp_path):
    result = _run("--offline", "--format", "json", "--trust", str(folder / "root.pem"), str(folder / "good.pdf"),
                  home=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stdout)["files"][0]["signatures"][0]["sub_indication"] == "TRY_LATER"


def test_a_non_pdf_file_is_a_format_failure_not_a_crash(tmp_path):
    (tmp_path / "note.txt").write_text("xin chào")
    result = _run("--format", "json", str(tmp_path / "note.txt"), home=tmp_path)
    assert result.returncode == 1
    (only,) = json.loads(result.stdout)["files"]
    assert (only["indication"], only["sub_indication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")


@pytest.mark.parametrize("args, message", [
    (("--at", "yesterday", "x.pdf"), "not an ISO 8601 time"),
    (("--at", "2026-11-29T09:00:00", "x.pdf"), "give the UTC offset"),
    (("--trust", "/nonexistent.pem", "x.pdf"), "cannot read the file"),
    (("--format", "xml", "x.pdf"), "Invalid value for '--format'"),
    ((), "Missing argument 'FILES...'"),
])
def test_usage_errors_exit_64(tmp_path, args, message):
    result = _run(*args, home=tmp_path)
    assert result.returncode == 64, result.stderr
    assert message in result.stderr


def test_unknown_verifier_setting_is_a_configuration_error(tmp_path):
    (tmp_path / "kyso.toml").write_text('[verifier]\nofline = true\n')
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    result = _run(str(tmp_path / "a.pdf"), home=tmp_path)
    assert result.returncode == 78
    assert "unknown key(s) ofline" in result.stderr


def test_validation_time_in_the_past_judges_an_untimestamped_signature_then(folder, tmp_path, verifier_kit, pki):
    # The ETSI-strict policy, configured as the README says: a copy of validation.toml with
    # trust_claimed_time = false. Without a timestamp the chain is judged at the validation time.
    from datetime import timedelta
    from importlib import resources

    default = resources.files("policies").joinpath("data/validation.toml").read_text(encoding="utf-8")
    assert "trust_claimed_time = true\n" in default
    (tmp_path / "etsi.toml").write_text(default.replace("trust_claimed_time = true\n", "trust_claimed_time = false\n"),
                                        encoding="utf-8")
    (tmp_path / "kyso.toml").write_text('[verifier]\npolicy = "etsi.toml"\n', encoding="utf-8")
    (folder / "expired.pdf").write_bytes(sign_pdf(sample_decision(), verifier_kit.signer("expired")))
    args = ("--format", "json", "--trust", str(folder / "root.pem"), str(folder / "expired.pdf"))
    result = _run(*args, home=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    now = json.loads(result.stdout)["files"][0]["signatures"][0]
    assert (now["indication"], now["sub_indication"]) == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    back_then = (pki.anchor - timedelta(days=40)).isoformat()
    result = _run("--at", back_then, *args, home=tmp_path)
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["files"][0]["indication"] == "TOTAL_PASSED"


def test_by_default_an_untimestamped_signature_is_judged_at_its_claimed_time(folder, tmp_path, verifier_kit, pki):
    from datetime import timedelta

    not_after = pki.expired.certificate["tbs_certificate"]["validity"]["not_after"].native
    (folder / "made-in-time.pdf").write_bytes(sign_pdf(sample_decision(), verifier_kit.signer("expired"),
                                                       claimed_time=not_after - timedelta(seconds=1)))
    (folder / "made-too-late.pdf").write_bytes(sign_pdf(sample_decision(), verifier_kit.signer("expired")))
    trust = ("--format", "json", "--trust", str(folder / "root.pem"))
    in_time = _run(*trust, str(folder / "made-in-time.pdf"), home=tmp_path)
    assert in_time.returncode == 0, in_time.stdout + in_time.stderr
    signature = json.loads(in_time.stdout)["files"][0]["signatures"][0]
    assert (signature["indication"], signature["signing_time_source"]) == ("TOTAL_PASSED", "claimed")
    assert any(m.startswith("không có dấu thời gian tin cậy: thời gian ký") and "do người ký tự khai, chưa được chứng "
               "minh" in m for m in signature["messages"]), signature["messages"]
    too_late = _run(*trust, "--lang", "en", str(folder / "made-too-late.pdf"), home=tmp_path)
    assert too_late.returncode == 1, too_late.stdout + too_late.stderr
    signature = json.loads(too_late.stdout)["files"][0]["signatures"][0]
    assert (signature["indication"], signature["sub_indication"], signature["signing_time_source"]) == (
        "TOTAL_FAILED", "EXPIRED", "claimed")
