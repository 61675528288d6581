"""`kyso sign` refuses bad configuration and bad images before touching a token (no token needed)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import documents


def _kyso(home, *args):
    env = dict(os.environ, KYSO_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "kyso", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_unknown_signer_key_is_a_usage_error(tmp_path):
    (tmp_path / "kyso.toml").write_text('[signer]\nlevel = "B-T"\ncolour = "blue"\n', encoding="utf-8")
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.sample_decision())
    done = _kyso(tmp_path, "sign", source, "--kind", "appendix", "--notation", "1/QĐ-UBND", "--token", "none")
    assert done.returncode == 64
    assert "[signer]: unknown key(s) colour; known: level, module, revocation, seal_diameter_mm, seal_image, " \
           "signature_image, trust, tsa_url" in done.stderr


def test_no_trust_roots_is_a_usage_error(tmp_path):
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.sample_decision())
    done = _kyso(tmp_path, "sign", source, "--kind", "appendix", "--notation", "1/QĐ-UBND", "--token", "none")
    assert done.returncode == 64
    assert "no trust roots: pass --trust or run 'kyso pki init'" in done.stderr
    assert not (tmp_path / "a-signed.pdf").exists()


def test_missing_kind_inputs_are_a_usage_error(tmp_path):
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.sample_decision())
    png = tmp_path / "dau.png"
    png.write_bytes(documents.seal_png())
    done = _kyso(tmp_path, "sign", source, "--kind", "issue", "--seal-image", png, "--token", "none")
    assert done.returncode == 64
    assert "thiếu agency_code, series cho loại ký issue / issue signatures need agency_code, series" in done.stderr


def test_a_trust_file_that_is_no_certificate_is_a_usage_error(tmp_path):
    source = tmp_path / "a.pdf"
    source.write_bytes(documents.sample_decision())
    done = _kyso(tmp_path, "sign", source, "--kind", "appendix", "--notation", "1/QĐ-UBND", "--token", "none",
                 "--trust", source)
    assert done.returncode == 64
    assert f"cannot read the certificate {source}" in done.stderr
