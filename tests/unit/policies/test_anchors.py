import hashlib

import pytest
from asn1crypto import pem

from policies.anchors import AnchorSet, fingerprint, load_certificates
from policies.decision import PolicyError
from tests.support.verifier import build_foreign_pki

REAL_PINS = {
    "vgca-g1-root": "F7BC89054CEC7F12730D7B8CD3EB7955B163835087E5EB873EDFB584763B3F90",
    "vgca-g1-issuing": "75E969C07BA35C29C72BBC1BFB880F20F3891A619B00B77EB02CA6160736A1FE",
    "vgca-g2-root": "F04BA4B459A7C9A1B971AD9B1CB833E695A80C79AEA63B174B66A70EDFE2FDB8",
    "mic-national-root": "CA918D635BB130BEC97639E6AABF7EDBC4EB1310F8058B9419F467AE0230AD8C",
    "vietnam-national-root": "BAC8BF609AB420A8EE1780D74F4DE5C7F7184959D2A7375B0A75E4C29F0908E7",
}


def test_the_shipped_pins_are_the_domain_fingerprints_all_enabled():
    anchors = AnchorSet.default()
    assert {p.key: p.sha256 for p in anchors.pins} == REAL_PINS
    assert all(p.enabled for p in anchors.pins)
    assert anchors.pins[0].name == "Co quan chung thuc so chuyen dung Chinh phu (RootCA)"


def test_a_certificate_is_an_anchor_only_when_its_sha256_matches_an_enabled_pin():
    root = build_foreign_pki().untrusted_root
    digest = fingerprint(root.dump())
    assert digest == hashlib.sha256(root.dump()).hexdigest().upper()
    text = f'[anchors.test]\nname = "Test root"\nsha256 = "{digest}"\n'
    pinned = AnchorSet.from_toml(text)
    (anchor,) = pinned.select([root])
    assert (anchor.source, anchor.name) == ("pin:test", "Test root")
    assert pinned.only([]).select([root]) == ()  # disabled: not trusted
    other = build_foreign_pki().legacy_root
    assert pinned.select([other]) == ()  # a look-alike is never accepted


def test_explicit_roots_are_trusted_and_deduplicated():
    root = build_foreign_pki().untrusted_root
    anchors = AnchorSet.default().select([root], explicit=[("demo", root), ("again", root)])
    assert [a.source for a in anchors] == ["explicit:demo"]


def test_unknown_anchor_keys_and_bad_pins_are_errors_naming_them():
    with pytest.raises(PolicyError, match="unknown trust anchor\\(s\\) vgca-g3"):
        AnchorSet.default().only(["vgca-g3"])
    with pytest.raises(PolicyError, match="anchor bad: sha256 must be 64 upper-case hex digits"):
        AnchorSet.from_toml('[anchors.bad]\nname = "x"\nsha256 = "ABC"\n')
    with pytest.raises(PolicyError, match="anchor x: unknown key\\(s\\) sha1"):
        AnchorSet.from_toml('[anchors.x]\nname = "x"\nsha1 = "AB"\n')


def test_certificates_load_from_der_and_pem_bundles():
    pki = build_foreign_pki()
    bundle = pem.armor("CERTIFICATE", pki.untrusted_root.dump()) + pem.armor("CERTIFICATE", pki.legacy_root.dump())
    assert [c.sha256 for c in load_certificates(bundle)] == [pki.untrusted_root.sha256, pki.legacy_root.sha256]
    assert load_certificates(pki.legacy_root.dump())[0].subject == pki.legacy_root.subject
    with pytest.raises(PolicyError, match="not a certificate"):
        load_certificates(b"\x30\x03\x02\x01\x05")
