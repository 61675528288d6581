"""The product's own signer (signer/) judged by the verifier: the Decree 30 sequence at every PAdES level,
online and, from B-LT on, offline from the document's own validation data."""

from __future__ import annotations

import threading

import pytest

from signer import PadesLevel, SignatureKind as Act, SignatureRequest, SigningEnvironment, StampImage, sign_pdf
from tests.support import documents
from verifier import Indication, Modifications, SignatureKind, TimeSource


class _Numbers:
    def __init__(self):
        self.next = 0
        self._lock = threading.Lock()

    def allocate(self, agency_code: str, year: int, series: str) -> int:
        with self._lock:
            self.next += 1
            return self.next


@pytest.fixture(scope="module")
def environment(pki):
    return SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=pki.tsa_url, numbers=_Numbers())


@pytest.mark.parametrize("level", list(PadesLevel), ids=lambda level: level.value)
def test_approve_then_issue_from_our_signer_is_valid(shared_verifier, verifier_kit, pki, environment, level):
    personal, agency = pki.official_rsa, pki.agency_ec
    approve = SignatureRequest(kind=Act.APPROVE, level=level, title="GIÁM ĐỐC", signer_name=documents.SIGNER_NAME,
                               signature_image=StampImage.from_png(documents.signature_png(), role="signature"))
    approved = sign_pdf(documents.sample_decision(), key=personal.key, certificate=personal.certificate,
                        chain=personal.chain, request=approve, environment=environment)
    issue = SignatureRequest(kind=Act.ISSUE, level=level, agency_code="H26", series="QĐ-UBND",
                             seal_image=StampImage.from_png(documents.seal_png(), role="seal"))
    issued = sign_pdf(approved.pdf, key=agency.key, certificate=agency.certificate, chain=agency.chain,
                      request=issue, environment=environment)

    report = shared_verifier.verify_pdf(issued.pdf, path=f"phat-hanh-{level.value}.pdf")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    signatures = [s for s in report.signatures if s.kind is not SignatureKind.TIMESTAMP]
    assert [s.kind for s in signatures] == [SignatureKind.PERSONAL, SignatureKind.AGENCY]
    assert signatures[0].modifications is Modifications.ALLOWED
    assert report.messages == ()  # the Decree 30 order holds
    expected_source = TimeSource.TIMESTAMP if level.has_timestamp else TimeSource.CLAIMED
    assert {s.signing_time_source for s in signatures} == {expected_source}

    if level.has_validation_data:
        with verifier_kit.verifier(offline=True) as offline:
            alone = offline.verify_pdf(issued.pdf)
        assert alone.indication is Indication.TOTAL_PASSED, alone.to_json()
