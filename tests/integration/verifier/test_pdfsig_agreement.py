"""poppler's `pdfsig` (NSS) as an independent judge: where it can tell, it must agree with our report."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import attacks
from tests.support.documents import sample_decision
from tests.support.verifier import nss_database, sign_pdf
from verifier import Indication, SubIndication


@pytest.fixture(scope="module")
def pdfsig(tmp_path_factory, pki):
    folder = tmp_path_factory.mktemp("pdfsig")
    db = nss_database(folder, pki)
    assert db is not None, "pdfsig and certutil are installed by scripts/install-system-packages"

    def judge(data: bytes, name: str) -> str:
        path = folder / name
        path.write_bytes(data)
        return subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True,
                              timeout=60).stdout

    return judge


@pytest.fixture(scope="module")
def signed(verifier_kit):
    return sign_pdf(sample_decision(), verifier_kit.signer("official_ec"), timestamper=verifier_kit.timestamper())


def test_both_judges_accept_a_valid_signature(shared_verifier, pdfsig, signed):
    out = pdfsig(signed, "valid.pdf")
    assert "Signature Validation: Signature is Valid." in out and "Certificate is Trusted." in out
    assert "Total document signed" in out
    assert shared_verifier.verify_pdf(signed).indication is Indication.TOTAL_PASSED


def test_both_judges_see_tampered_bytes(shared_verifier, pdfsig, signed):
    position = signed.index(b"/MediaBox")
    tampered = signed[:position] + b"/MediaBoy" + signed[position + 9:]
    assert "Signature Validation: Digest Mismatch." in pdfsig(tampered, "tampered.pdf")
    assert shared_verifier.verify_pdf(tampered).signatures[0].sub_indication is SubIndication.HASH_FAILURE


def test_pdfsig_only_notes_an_appended_page_which_we_judge_disallowed(shared_verifier, pdfsig, signed):
    appended = attacks.append_page(signed)
    out = pdfsig(appended, "appended.pdf")
    assert "Not total document signed" in out and "Signature is Valid." in out
    signature = shared_verifier.verify_pdf(appended).signatures[0]
    assert (signature.indication, signature.sub_indication) == (
        Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)


def test_both_judges_see_a_revoked_signer(shared_verifier, pdfsig, verifier_kit):
    revoked = sign_pdf(sample_decision(), verifier_kit.signer("revoked"), timestamper=verifier_kit.timestamper())
    assert "Certificate has been Revoked." in pdfsig(revoked, "revoked.pdf")
    assert shared_verifier.verify_pdf(revoked).signatures[0].sub_indication is SubIndication.REVOKED
