"""Round trip: the issued decision packed, signed with the agency seal key, verified by edxml and by xmlsec1."""

from __future__ import annotations

import pytest
from lxml import etree

from edxml import EdxmlSettings, pack, verify_package
from tests.support.edxml import make_header, make_package, xmlsec1_verify


def test_packed_issued_decision_passes_with_both_pdf_signatures(pki, issued_decision, shared_verifier, tmp_path):
    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    xml = pack(make_package(issued_decision.pdf, header=header), key=agency.key, certificate=agency.certificate,
               chain=agency.chain)

    report = verify_package(xml, verifier=shared_verifier, settings=EdxmlSettings(), path="out.edxml")

    assert report.indication.value == "TOTAL_PASSED", report.to_json()
    assert report.signature.kind.value == "package"
    assert report.signature.signer.common_name == "Sở Nội vụ Thành phố Hà Nội"
    assert report.signature.trust_anchor == "Co quan chung thuc so chuyen dung Chinh phu (Demo RootCA)"
    [document] = report.attachments
    assert document.path == "out.edxml#1/quyet-dinh.pdf"
    assert [(s.kind.value, s.indication.value) for s in document.signatures] == [
        ("personal", "TOTAL_PASSED"), ("agency", "TOTAL_PASSED")]
    assert [m.code for m in report.messages] == ["package.header-match"]
    data = report.to_json("vi")
    assert data["signatures"][0]["kind"] == "package"
    assert data["package"]["document_id"] == f"000.00.00.H26,{issued_decision.issued_on:%Y/%m/%d},07/QĐ-UBND"
    assert data["attachments"][0]["indication"] == "TOTAL_PASSED"


@pytest.mark.parametrize("seal", ["agency_rsa", "agency_ec"])
def test_xmlsec1_accepts_the_package_signature_with_the_test_root(seal, pki, issued_decision, tmp_path):
    agency = pki.entity(seal)
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    xml = pack(make_package(issued_decision.pdf, header=header), key=agency.key, certificate=agency.certificate,
               chain=agency.chain)
    result = xmlsec1_verify(xml, pki, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr
    signature = etree.fromstring(xml).find(".//{http://www.w3.org/2000/09/xmldsig#}Reference")
    assert signature.get("URI") == ""
