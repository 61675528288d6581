"""Tampered and hostile packages: each refused with the reason named, nothing read beyond the refusal."""

from __future__ import annotations

import base64
import copy
import tracemalloc

import pytest
from lxml import etree

from edxml import Attachment, EdxmlSettings, pack, verify_package
from tests.support.edxml import make_header, make_package

E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


@pytest.fixture(scope="module")
def signed_package(pki, issued_decision) -> bytes:
    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    return pack(make_package(issued_decision.pdf, header=header), key=agency.key, certificate=agency.certificate,
                chain=agency.chain)


def _verify(xml: bytes, verifier, **settings):
    return verify_package(xml, verifier=verifier, settings=EdxmlSettings(**settings), path="in.edxml")


def _edit(xml: bytes, change) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_changed_header_field_fails_with_hash_failure(signed_package, shared_verifier):
    def change(root):
        root.find(f".//{E}Subject").text = "Về việc khác"
    report = _verify(_edit(signed_package, change), shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert [m.code for m in report.signature.messages] == ["package.digest"]
    assert report.header is None and report.attachments == ()  # nothing unsigned was read


def test_replaced_attachment_fails_with_hash_failure(signed_package, shared_verifier, pki):
    def change(root):
        root.find(f".//{E}Attachment/{E}Value").text = base64.b64encode(b"%PDF-1.7 another document").decode()
    report = _verify(_edit(signed_package, change), shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "HASH_FAILURE")
    assert "gói tin đã bị thay đổi sau khi ký" in report.signature.messages[0].vi


def test_attachment_outside_the_manifest_is_refused_even_when_signed(pki, issued_decision, shared_verifier):
    # A sender that signs an attachment it does not list: the signature holds, the package does not.
    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    root = etree.fromstring(pack(make_package(issued_decision.pdf, header=header), key=agency.key,
                                 certificate=agency.certificate, chain=agency.chain))
    stray = copy.deepcopy(root.find(f".//{E}Attachment"))
    stray.find(f"{E}ContentId").text = "cid:9"
    root.find(f"{E}AttachmentEncoded").append(stray)
    for signature in root.findall(f".//{DS}Signature"):
        signature.getparent().remove(signature)
    from edxml.signing import sign_envelope
    xml = sign_envelope(root, key=agency.key, certificate=agency.certificate, chain=agency.chain)
    report = _verify(xml, shared_verifier)
    assert report.signature.indication.value == "TOTAL_PASSED"
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert report.messages[0].en == "attachment(s) cid:9 are not listed in the manifest (edXMLManifest)"


def test_added_attachment_after_signing_fails(signed_package, shared_verifier):
    def change(root):
        stray = copy.deepcopy(root.find(f".//{E}Attachment"))
        stray.find(f"{E}ContentId").text = "cid:2"
        root.find(f"{E}AttachmentEncoded").append(stray)
    report = _verify(_edit(signed_package, change), shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "HASH_FAILURE")


def test_signature_moved_to_wrap_a_forged_envelope_fails(signed_package, shared_verifier):
    # Classic wrapping: the genuine signed envelope hidden inside a forged one, the signature moved up.
    genuine = etree.fromstring(signed_package)
    forged = copy.deepcopy(genuine)
    forged.find(f".//{E}CodeNumber").text = "99"
    signature = forged.find(f".//{DS}Signature")
    genuine_signature = genuine.find(f".//{DS}Signature")
    genuine_signature.getparent().remove(genuine_signature)
    forged.find(f".//{E}TraceHeaderList").append(genuine)
    xml = etree.tostring(forged)
    report = _verify(xml, shared_verifier)
    assert report.indication.value == "TOTAL_FAILED"
    assert report.sub_indication.value == "HASH_FAILURE"
    assert signature is not None


def test_signature_over_an_id_reference_is_refused_as_partial(pki, issued_decision, shared_verifier):
    # Signed with a reference to the header only (xmlsec-style Id): the attachments would be unsigned.
    from signxml import CanonicalizationMethod, XMLSigner
    from cryptography import x509 as crypto_x509

    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    from edxml.envelope import build_package_xml
    root = build_package_xml(make_package(issued_decision.pdf, header=header))
    root.find(f"{E}edXMLHeader/{E}MessageHeader").set("Id", "header")
    etree.SubElement(root.find(f"{E}edXMLHeader"), f"{DS}Signature", Id="placeholder")
    signed = XMLSigner(c14n_algorithm=CanonicalizationMethod("http://www.w3.org/2001/10/xml-exc-c14n#")).sign(
        root, key=agency.key.private_key, reference_uri="#header",
        cert=[crypto_x509.load_der_x509_certificate(agency.der)])
    report = _verify(etree.tostring(signed), shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert report.signature.messages[0].code == "package.coverage"
    assert "covers only '#header'" in report.signature.messages[0].en


def test_two_signatures_are_refused(signed_package, shared_verifier):
    def change(root):
        signature = root.find(f".//{DS}Signature")
        root.find(f"{E}edXMLBody").append(copy.deepcopy(signature))
    report = _verify(_edit(signed_package, change), shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert report.signature.messages[0].en == "the package carries 2 XML signatures; exactly one is allowed"


def test_header_number_differing_from_the_pdf_fails(pki, issued_decision, shared_verifier):
    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number + 1, promulgated_on=issued_decision.issued_on)
    xml = pack(make_package(issued_decision.pdf, header=header), key=agency.key, certificate=agency.certificate,
               chain=agency.chain)
    report = _verify(xml, shared_verifier)
    assert report.signature.indication.value == "TOTAL_PASSED"
    assert report.attachments[0].indication.value == "TOTAL_PASSED"
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert [m.code for m in report.messages] == ["package.header-number"]
    assert report.messages[0].en == ("the header's number 08/QĐ-UBND is not the number shown on quyet-dinh.pdf")


def test_header_date_differing_from_the_pdf_fails(pki, issued_decision, shared_verifier):
    from datetime import timedelta

    agency = pki.agency_rsa
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on - timedelta(days=3))
    xml = pack(make_package(issued_decision.pdf, header=header), key=agency.key, certificate=agency.certificate,
               chain=agency.chain)
    report = _verify(xml, shared_verifier)
    assert report.indication.value == "TOTAL_FAILED"
    assert [m.code for m in report.messages] == ["package.header-date"]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE edXML:edXMLEnvelope [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXML:edXMLHeader>
<edXML:MessageHeader><edXML:Subject>&secret;</edXML:Subject></edXML:MessageHeader></edXML:edXMLHeader>
</edXML:edXMLEnvelope>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXML:edXMLEnvelope>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_dtd_payloads_are_refused_before_parsing(payload, shared_verifier):
    report = _verify(payload, shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert [m.code for m in report.messages] == ["format.dtd"]
    assert report.header is None


def test_hundred_megabyte_package_is_refused_with_bounded_memory(shared_verifier):
    head = b'<?xml version="1.0"?><edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">'
    payload = head + b"A" * (100 * 1024 * 1024) + b"</edXML:edXMLEnvelope>"
    tracemalloc.start()
    try:
        report = _verify(payload, shared_verifier)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert report.messages[0].en == (f"the package is {len(payload)} bytes, over the limit of "
                                     f"{64 * 1024 * 1024} bytes")
    assert peak < 1024 * 1024  # refused on its size: nothing parsed or copied


def test_unsigned_package_is_not_read(pki, issued_decision, shared_verifier):
    from edxml.envelope import build_package_xml

    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    xml = etree.tostring(build_package_xml(make_package(issued_decision.pdf, header=header)))
    report = _verify(xml, shared_verifier)
    assert report.indication.value == "NO_SIGNATURE_FOUND"
    assert report.header is None and report.attachments == ()


def test_not_xml_is_a_format_failure(shared_verifier):
    report = _verify(b"%PDF-1.7 not a package", shared_verifier)
    assert (report.indication.value, report.sub_indication.value) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert report.messages[0].en == "the file is not XML"


def test_package_signed_with_an_expired_certificate_is_judged_by_the_chain_not_as_a_bad_value(pki, issued_decision,
                                                                                              shared_verifier):
    expired = pki.expired  # personal, expired 35 days ago: no timestamp proves an earlier signing time
    header = make_header(number=issued_decision.number, promulgated_on=issued_decision.issued_on)
    xml = pack(make_package(issued_decision.pdf, header=header), key=expired.key, certificate=expired.certificate,
               chain=expired.chain)
    report = _verify(xml, shared_verifier)
    assert (report.signature.indication.value, report.signature.sub_indication.value) == (
        "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    codes = [m.code for m in report.signature.messages]
    assert "chain.expired" in codes and "package.not-agency" in codes
