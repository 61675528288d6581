"""A revoked issuing CA: a PKI of its own (declared like tests/support/pki.py, EC keys for speed), served on
loopback, whose second issuing CA is revoked after a signature was timestamped and before another."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from pyhanko.sign import timestamps

from ca.revocation import RevocationReason
from tests.support.documents import sample_decision
from tests.support.pki import ORG_CA, build_test_pki
from tests.support.servers import free_port, serve_wsgi
from tests.support.verifier import sign_pdf, simple_signer
from verifier import Indication, SubIndication, TimeSource, ValidationSettings, Verifier

_CA = [("country_name", "VN"), ("organization_name", ORG_CA)]
DECLARATION = {
    "root": {"issuer": None, "profile": "root-ca", "key": ("ec", "secp256r1"), "valid": (1095, 6205),
             "attributes": _CA + [("common_name", "Revoked-CA test root")]},
    "gov": {"issuer": "root", "profile": "issuing-ca", "key": ("ec", "secp256r1"), "valid": (730, 2920),
            "attributes": _CA + [("common_name", "Revoked-CA test issuing CA")]},
    "gov2": {"issuer": "root", "profile": "issuing-ca", "key": ("ec", "secp256r1"), "valid": (730, 2920),
             "attributes": _CA + [("common_name", "Revoked-CA test second issuing CA")]},
    "tsa": {"issuer": "gov", "profile": "tsa", "key": ("ec", "secp256r1"), "valid": (30, 1800),
            "attributes": _CA + [("common_name", "Revoked-CA test TSA")]},
    "ocsp": {"issuer": "gov", "profile": "ocsp", "key": ("ec", "secp256r1"), "valid": (30, 365),
             "attributes": _CA + [("common_name", "Revoked-CA test OCSP")]},
    "official": {"issuer": "gov2", "profile": "personal", "key": ("ec", "secp256r1"), "valid": None,
                 "attributes": [("country_name", "VN"), ("organization_name", "UBND Phường Cửa Nam"),
                                ("title", "Chủ tịch"), ("common_name", "Vũ Văn Em"),
                                ("user_id", "CCCD:001075000444")]},
}


@pytest.fixture(scope="module")
def revoked_ca_pki(tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("revoked-ca-pki")
    built = build_test_pki(base_url=f"http://127.0.0.1:{port}", database_url=f"sqlite:///{folder / 'ca.db'}",
                           declaration=DECLARATION)
    from service.pki import create_pki_app

    with serve_wsgi(create_pki_app(built.authority), port=port):
        yield built
    built.authority.store.close()


def test_signatures_before_and_after_the_revocation_of_their_issuing_ca(revoked_ca_pki):
    pki = revoked_ca_pki
    official = pki.entity("official")
    signer = simple_signer(official.key.private_key, official.certificate, official.chain)
    stamper = timestamps.HTTPTimeStamper(pki.tsa_url)
    revoked_at = pki.anchor - timedelta(hours=2)
    with pki.clock.frozen_at(revoked_at - timedelta(hours=1)):
        before = sign_pdf(sample_decision(), signer, timestamper=stamper, claimed_time=revoked_at - timedelta(hours=1))
    pki.authority.revoke(pki.entity("gov2").serial_number, reason=RevocationReason.CA_COMPROMISE,
                         revoked_at=revoked_at)
    pki.authority.publish_crl("root")
    after = sign_pdf(sample_decision(), signer, timestamper=stamper)
    untimestamped = sign_pdf(sample_decision(), signer, claimed_time=revoked_at - timedelta(days=1))
    claimed_after = sign_pdf(sample_decision(), signer, claimed_time=revoked_at + timedelta(seconds=1))

    settings = ValidationSettings(explicit_roots=(("root", pki.entity("root").certificate),))
    with Verifier(settings) as verifier:
        early = verifier.verify_pdf(before).signatures[0]
        late = verifier.verify_pdf(after).signatures[0]
        claimed = verifier.verify_pdf(untimestamped).signatures[0]
        after_claim = verifier.verify_pdf(claimed_after).signatures[0]
    with Verifier(dataclasses.replace(settings, policy=settings.policy.etsi_strict())) as verifier:
        unproven = verifier.verify_pdf(untimestamped).signatures[0]
    assert (early.indication, early.sub_indication) == (Indication.TOTAL_PASSED, None), early.to_json()
    assert (late.indication, late.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "chain.ca-revoked" in [m.code for m in late.messages]
    # Without a timestamp: judged at the claimed time (a day before the CA's revocation) by default, and
    # without proof of existence under the ETSI-strict policy.
    assert (claimed.indication, claimed.signing_time_source) == (Indication.TOTAL_PASSED, TimeSource.CLAIMED)
    assert "time.self-declared" in [m.code for m in claimed.messages]
    assert (after_claim.indication, after_claim.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert "chain.ca-revoked" in [m.code for m in after_claim.messages]
    assert (unproven.indication, unproven.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.REVOKED_CA_NO_POE)
