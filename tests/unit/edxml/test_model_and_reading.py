"""edxml values, settings and XML reading without keys or network: exact errors for bad input."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest
from lxml import etree

from edxml import (Attachment, EdxmlSettings, InvalidPackageData, Organisation, Package, PackageHeader,
                   PackageRefused, SettingsError, SignerInfo, StatusCode, StatusMessage)
from edxml.envelope import build_package_xml, build_status_xml, read_package
from edxml.parsing import parse_untrusted

E = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
SENDER = Organisation("H26", "Ủy ban nhân dân Thành phố Hà Nội", legacy_code="000.00.00.H26")
RECIPIENT = Organisation("H26.10", "Sở Nội vụ", legacy_code="000.10.00.H26")


def _header(**changes) -> PackageHeader:
    values = dict(sender=SENDER, recipients=(RECIPIENT,), number=5, notation="QĐ-UBND",
                  promulgated_on=date(2026, 1, 9), place="Hà Nội", document_type="Quyết định",
                  subject="Về việc ký số", signer=SignerInfo("Nguyễn Văn An", "Chủ tịch", "TM. ỦY BAN NHÂN DÂN"))
    values.update(changes)
    return PackageHeader(**values)


def _package() -> Package:
    return Package(_header(), (Attachment("cid:1", "qd.pdf", "application/pdf", b"%PDF-1.7 x"),))


def test_document_id_follows_qcvn_102():
    header = _header()
    assert header.number_notation == "05/QĐ-UBND"  # Decree 30: numbers below 10 get a leading zero
    assert header.document_id == "H26,2026/01/09,05/QĐ-UBND"


@pytest.mark.parametrize(("changes", "message"), [
    ({"recipients": ()}, "a package needs at least one recipient"),
    ({"number": 0}, "document number 0 must be a positive integer"),
    ({"notation": "QĐ,UBND"}, "notation 'QĐ,UBND' is not a document notation like QĐ-UBND"),
    ({"subject": ""}, "a package needs a subject (trích yếu)"),
])
def test_bad_header_values_are_refused(changes, message):
    with pytest.raises(InvalidPackageData) as caught:
        _header(**changes)
    assert caught.value.en == message


def test_bad_organisation_code_is_refused_in_both_languages():
    with pytest.raises(InvalidPackageData) as caught:
        Organisation("H26 10", "x")
    assert caught.value.en == "organisation code 'H26 10' is not an organisation code like H26.10 or 000.10.00.H26"
    assert caught.value.vi == "mã định danh cơ quan 'H26 10' không đúng dạng H26.10 hoặc 000.10.00.H26"


def test_refusal_status_needs_a_reason():
    with pytest.raises(InvalidPackageData) as caught:
        StatusMessage(RECIPIENT, "H26", "05/QĐ-UBND", date(2026, 1, 9), "H26,2026/01/09,05/QĐ-UBND",
                      StatusCode.REFUSED, "  ", datetime(2026, 1, 10, tzinfo=timezone.utc))
    assert caught.value.en == "a refusal (02) must give the reason"


def test_status_xml_refers_to_the_package():
    status = StatusMessage(RECIPIENT, "H26", "05/QĐ-UBND", date(2026, 1, 9), "H26,2026/01/09,05/QĐ-UBND",
                           StatusCode.RECEIVED, "Đã nhận", datetime(2026, 1, 10, tzinfo=timezone.utc))
    root = build_status_xml(status)
    assert [root.findtext(f".//{E}ResponseFor/{E}{n}") for n in ("OrganId", "Code", "PromulgationDate")] == [
        "H26", "05/QĐ-UBND", "2026/01/09"]
    assert root.findtext(f".//{E}StatusCode") == "01"


def test_package_reads_back_what_was_built():
    package, wrong_ids = read_package(build_package_xml(_package()), max_attachment_bytes=1024)
    assert package == _package() and wrong_ids == ()
    assert package.header.sender.legacy_code == "000.00.00.H26"


def test_manifest_and_attachments_must_agree():
    root = build_package_xml(_package())
    root.find(f"{E}edXMLBody/{E}edXMLManifest/{E}Reference/{E}AttachmentName").text = "other.pdf"
    with pytest.raises(PackageRefused) as caught:
        read_package(root, max_attachment_bytes=1024)
    assert caught.value.en == ("attachment cid:1 is qd.pdf (application/pdf) but the manifest says other.pdf "
                               "(application/pdf)")
    root = build_package_xml(_package())
    manifest = root.find(f"{E}edXMLBody/{E}edXMLManifest")
    manifest.remove(manifest[0])
    with pytest.raises(PackageRefused) as caught:
        read_package(root, max_attachment_bytes=1024)
    assert caught.value.code == "package.manifest"
    assert caught.value.en == "attachment(s) cid:1 are not listed in the manifest (edXMLManifest)"


def test_document_id_that_contradicts_the_header_is_reported():
    root = build_package_xml(_package())
    root.find(f".//{E}DocumentId").text = "H26,2026/01/09,06/QĐ-UBND"
    _, wrong_ids = read_package(root, max_attachment_bytes=1024)
    assert wrong_ids == ("H26,2026/01/09,06/QĐ-UBND",)


def test_attachment_over_the_limit_is_refused():
    with pytest.raises(PackageRefused) as caught:
        read_package(build_package_xml(_package()), max_attachment_bytes=4)
    assert caught.value.en == "attachment cid:1 is over the limit of 4 bytes"


@pytest.mark.parametrize(("data", "code"), [
    (b'<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>', "format.dtd"),
    (b"<a><b></a>", "format.not-xml"),
    (b"%PDF-1.7", "format.not-xml"),
])
def test_untrusted_xml_refusals(data, code):
    with pytest.raises(PackageRefused) as caught:
        parse_untrusted(data)
    assert caught.value.code == code


def test_size_is_checked_before_parsing():
    with pytest.raises(PackageRefused) as caught:
        parse_untrusted(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1024)
    assert caught.value.en == "the package is 2007 bytes, over the limit of 1024 bytes"


def test_settings_deny_unknown_keys_and_need_an_offset():
    with pytest.raises(SettingsError) as caught:
        EdxmlSettings.from_config({"legacy_sha1": "2030-01-01"})
    assert caught.value.en == "[edxml]: unknown key(s) legacy_sha1"
    with pytest.raises(SettingsError) as caught:
        EdxmlSettings.from_config({"legacy_sha1_until": "2030-01-01T00:00:00"})
    assert caught.value.en == "[edxml] legacy_sha1_until needs a time with its UTC offset"
    settings = EdxmlSettings.from_config({"legacy_sha1_until": "2030-12-31T23:59:59+07:00", "max_bytes": "2048"})
    assert settings.max_bytes == 2048
    assert settings.legacy_sha1_until.isoformat() == "2030-12-31T23:59:59+07:00"


def test_two_attachments_may_not_share_a_content_id():
    attachment = Attachment("cid:1", "qd.pdf", "application/pdf", b"x")
    with pytest.raises(InvalidPackageData) as caught:
        Package(_header(), (attachment, copy.copy(attachment)))
    assert caught.value.en == "two attachments share a content id"
    assert etree.QName(build_package_xml(_package())).localname == "edXMLEnvelope"
