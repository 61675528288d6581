"""Packages made by another tool (Debian's xmlsec1 from a template), SHA-256 and the older RSA-SHA1."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from edxml import EdxmlSettings, verify_package
from edxml.envelope import build_package_xml
from tests.support.edxml import make_header, make_package, signature_template, xmlsec1_sign

E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"


def _template(issued_decision, *, digest: str, method: str) -> bytes:
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    root = build_package_xml(make_package(issued_decision.pdf, header=header))
    root.find(f"{E}edXMLHeader").append(etree.fromstring(signature_template(digest=digest, method=method)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_package_signed_by_xmlsec1_passes(pki, issued_decision, shared_verifier, tmp_path):
    xml = xmlsec1_sign(_template(issued_decision, digest="sha256", method="rsa-sha256"), pki.agency_rsa, tmp_path)
    report = verify_package(xml, verifier=shared_verifier, path="xmlsec1.edxml")
    assert report.indication.value == "TOTAL_PASSED", report.to_json()
    assert report.signature.signature_algorithm == "rsa_sha256"
    assert report.signature.signer.common_name == "Sở Nội vụ Thành phố Hà Nội"


@pytest.fixture(scope="module")
def sha1_package(pki, issued_decision, tmp_path_factory) -> bytes:
    return xmlsec1_sign(_template(issued_decision, digest="sha1", method="rsa-sha1"), pki.agency_rsa,
                        tmp_path_factory.mktemp("sha1"))


def test_sha1_package_before_the_date_passes_with_a_warning(sha1_package, shared_verifier):
    until = datetime.now(timezone.utc) + timedelta(days=1)
    report = verify_package(sha1_package, verifier=shared_verifier, settings=EdxmlSettings(legacy_sha1_until=until))
    assert report.indication.value == "TOTAL_PASSED", report.to_json()
    warning = next(m for m in report.signature.messages if m.code == "package.legacy-sha1")
    assert warning.severity.value == "warning"
    assert warning.en == (f"the package is signed with SHA-1 (older packages of the exchange axis), accepted until "
                          f"{until.isoformat()}")


def test_sha1_package_after_the_date_is_refused(sha1_package, shared_verifier):
    until = datetime.now(timezone.utc) - timedelta(seconds=1)
    report = verify_package(sha1_package, verifier=shared_verifier, settings=EdxmlSettings(legacy_sha1_until=until))
    assert (report.indication.value, report.sub_indication.value) == ("INDETERMINATE", "CRYPTO_CONSTRAINTS_FAILURE")
    assert [m.code for m in report.signature.messages if m.severity.value == "error"] == ["package.sha1-refused"]


def test_sha1_date_defaults_to_the_policy_date_for_sha1_ca_chains(sha1_package, verifier_kit):
    # policies/data/validation.toml: legacy_sha1_ca_until = 2030-12-31T23:59:59+07:00; one second either side.
    until = datetime.fromisoformat("2030-12-31T23:59:59+07:00")
    with verifier_kit.verifier(at=until, offline=True) as verifier:
        at_limit = verify_package(sha1_package, verifier=verifier)
    with verifier_kit.verifier(at=until + timedelta(seconds=1), offline=True) as verifier:
        after = verify_package(sha1_package, verifier=verifier)
    assert "package.legacy-sha1" in [m.code for m in at_limit.signature.messages]
    assert "package.sha1-refused" in [m.code for m in after.signature.messages]
    assert after.signature.sub_indication.value == "CRYPTO_CONSTRAINTS_FAILURE"
