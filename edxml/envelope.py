"""The XML of packages and status messages: building it from values, reading values back from a signed tree.

Element names and order follow QCVN 102:2016/BTTTT (amended 2022) as the issue describes them: `edXMLEnvelope`
holds `edXMLHeader` (`MessageHeader`, `TraceHeaderList`, the `ds:Signature`), `edXMLBody/edXMLManifest`
(one `Reference` per attachment) and `AttachmentEncoded` (the attachments, base64).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime

from lxml import etree

from edxml.errors import InvalidPackageData, PackageRefused
from edxml.model import (
    NAMESPACE, Attachment, Organisation, Package, PackageHeader, SignerInfo, StatusMessage, TraceEntry,
)

NS = {"edXML": NAMESPACE}
PREFIX = "edXML"


def q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _sub(parent, name: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, q(name), **attributes)
    if text is not None:
        element.text = text
    return element


def _organisation(parent, name: str, organisation: Organisation) -> None:
    element = _sub(parent, name)
    _sub(element, "OrganId", organisation.code)
    _sub(element, "OrganName", organisation.name)
    if organisation.legacy_code:
        _sub(element, "OrganIdOld", organisation.legacy_code)


def build_package_xml(package: Package) -> etree._Element:
    """The unsigned envelope of `package` (`edxml.signing.sign_envelope` adds the signature)."""
    header = package.header
    root = etree.Element(q("edXMLEnvelope"), nsmap={PREFIX: NAMESPACE})
    head = _sub(root, "edXMLHeader")
    message = _sub(head, "MessageHeader")
    _organisation(message, "From", header.sender)
    for recipient in header.recipients:
        _organisation(message, "To", recipient)
    _sub(message, "DocumentId", header.document_id)
    code = _sub(message, "Code")
    _sub(code, "CodeNumber", f"{header.number:02d}")
    _sub(code, "CodeNotation", header.notation)
    promulgation = _sub(message, "PromulgationInfo")
    _sub(promulgation, "Place", header.place)
    _sub(promulgation, "PromulgationDate", header.promulgated_on.strftime("%Y/%m/%d"))
    doc_type = _sub(message, "DocumentType")
    _sub(doc_type, "Type", header.document_type_code)
    _sub(doc_type, "TypeName", header.document_type)
    _sub(message, "Subject", header.subject)
    signer = _sub(message, "SignerInfo")
    _sub(signer, "Competence", header.signer.competence)
    _sub(signer, "Position", header.signer.position)
    _sub(signer, "FullName", header.signer.full_name)
    trace = _sub(head, "TraceHeaderList")
    for entry in package.trace:
        item = _sub(trace, "TraceHeader")
        _sub(item, "OrganId", entry.organ_code)
        _sub(item, "Timestamp", entry.at.isoformat())
    body = _sub(root, "edXMLBody")
    manifest = _sub(body, "edXMLManifest", version="1.0")
    for attachment in package.attachments:
        reference = _sub(manifest, "Reference")
        _sub(reference, "ContentId", attachment.content_id)
        _sub(reference, "ContentType", attachment.content_type)
        _sub(reference, "AttachmentName", attachment.name)
    encoded = _sub(root, "AttachmentEncoded")
    for attachment in package.attachments:
        item = _sub(encoded, "Attachment")
        _sub(item, "ContentId", attachment.content_id)
        _sub(item, "AttachmentName", attachment.name)
        _sub(item, "ContentType", attachment.content_type)
        _sub(item, "ContentTransferEncoded", "base64")
        _sub(item, "Value", base64.b64encode(attachment.data).decode("ascii"))
    return root


def build_status_xml(status: StatusMessage) -> etree._Element:
    """The unsigned status message answering a package (`ResponseFor` names it)."""
    root = etree.Element(q("edXMLEnvelope"), nsmap={PREFIX: NAMESPACE})
    head = _sub(root, "edXMLHeader")
    element = _sub(head, "Status")
    response = _sub(element, "ResponseFor")
    _sub(response, "OrganId", status.response_for_organ)
    _sub(response, "Code", status.response_for_code)
    _sub(response, "PromulgationDate", status.response_for_date.strftime("%Y/%m/%d"))
    _sub(response, "DocumentId", status.response_for_document_id)
    _organisation(element, "From", status.sender)
    _sub(element, "StatusCode", status.status.value)
    _sub(element, "Description", status.description)
    _sub(element, "Timestamp", status.at.isoformat())
    if status.staff:
        staff = _sub(element, "StaffInfo")
        _sub(staff, "Staff", status.staff)
    return root


# -- reading ---------------------------------------------------------------------------------------------

def _refuse(code: str, en: str, vi: str) -> PackageRefused:
    return PackageRefused(code, en, vi)


def _one(parent, path: str, *, what: str):
    found = parent.findall(path, NS)
    if len(found) != 1:
        raise _refuse("package.shape", f"the package must have exactly one {what} (found {len(found)})",
                      f"gói tin phải có đúng một {what} (có {len(found)})")
    return found[0]


def _text(parent, path: str, *, what: str, required: bool = True) -> str:
    found = parent.findall(path, NS)
    if len(found) > 1:
        raise _refuse("package.shape", f"{what} appears {len(found)} times", f"{what} xuất hiện {len(found)} lần")
    value = (found[0].text or "").strip() if found else ""
    if required and not value:
        raise _refuse("package.shape", f"the package has no {what}", f"gói tin thiếu {what}")
    return value


def _read_organisation(element) -> Organisation:
    try:
        return Organisation(_text(element, "edXML:OrganId", what="OrganId"),
                            _text(element, "edXML:OrganName", what="OrganName"),
                            _text(element, "edXML:OrganIdOld", what="OrganIdOld", required=False) or None)
    except InvalidPackageData as exc:
        raise _refuse("package.header", exc.en, exc.vi) from None


def _read_date(value: str, *, what: str) -> date:
    try:
        return datetime.strptime(value, "%Y/%m/%d").date()
    except ValueError:
        raise _refuse("package.header", f"{what} {value!r} is not a date YYYY/MM/DD",
                      f"{what} {value!r} không đúng dạng ngày YYYY/MM/DD") from None


def check_envelope(root) -> None:
    if root.tag != q("edXMLEnvelope"):
        raise _refuse("package.shape", f"the root element is {root.tag}, not edXML:edXMLEnvelope ({NAMESPACE})",
                      f"phần tử gốc là {root.tag}, không phải edXML:edXMLEnvelope ({NAMESPACE})")


def read_header(root) -> PackageHeader:
    """The `MessageHeader` of an envelope. `PackageRefused` when it is not well-formed."""
    check_envelope(root)
    message = _one(root, "edXML:edXMLHeader/edXML:MessageHeader", what="MessageHeader")
    sender = _read_organisation(_one(message, "edXML:From", what="From"))
    recipients = tuple(_read_organisation(e) for e in message.findall("edXML:To", NS))
    number_text = _text(message, "edXML:Code/edXML:CodeNumber", what="CodeNumber")
    if not number_text.isdigit():
        raise _refuse("package.header", f"CodeNumber {number_text!r} is not a number",
                      f"CodeNumber {number_text!r} không phải là số")
    signer = message.find("edXML:SignerInfo", NS)
    try:
        header = PackageHeader(
            sender=sender, recipients=recipients, number=int(number_text),
            notation=_text(message, "edXML:Code/edXML:CodeNotation", what="CodeNotation"),
            promulgated_on=_read_date(_text(message, "edXML:PromulgationInfo/edXML:PromulgationDate",
                                            what="PromulgationDate"), what="PromulgationDate"),
            place=_text(message, "edXML:PromulgationInfo/edXML:Place", what="Place", required=False),
            document_type=_text(message, "edXML:DocumentType/edXML:TypeName", what="TypeName", required=False),
            document_type_code=_text(message, "edXML:DocumentType/edXML:Type", what="Type", required=False),
            subject=_text(message, "edXML:Subject", what="Subject"),
            signer=SignerInfo(
                full_name=_text(signer, "edXML:FullName", what="FullName", required=False) if signer is not None else "",
                position=_text(signer, "edXML:Position", what="Position", required=False) if signer is not None else "",
                competence=_text(signer, "edXML:Competence", what="Competence", required=False) if signer is not None else ""),
        )
    except InvalidPackageData as exc:
        raise _refuse("package.header", exc.en, exc.vi) from None
    return header


def read_package(root, *, max_attachment_bytes: int) -> tuple[Package, tuple[str, ...]]:
    """The package in a (signed) envelope. Returns it with the DocumentId as written, for the check
    against the one the header implies. Raises `PackageRefused` when the shape is wrong."""
    check_envelope(root)
    header = read_header(root)
    message = _one(root, "edXML:edXMLHeader/edXML:MessageHeader", what="MessageHeader")
    document_id = _text(message, "edXML:DocumentId", what="DocumentId")
    problems = []
    if document_id != header.document_id:
        problems.append(document_id)
    manifest = [(_text(r, "edXML:ContentId", what="ContentId"), _text(r, "edXML:AttachmentName", what="AttachmentName"),
                 _text(r, "edXML:ContentType", what="ContentType"))
                for r in root.findall("edXML:edXMLBody/edXML:edXMLManifest/edXML:Reference", NS)]
    attachments = []
    for item in root.findall("edXML:AttachmentEncoded/edXML:Attachment", NS):
        content_id = _text(item, "edXML:ContentId", what="ContentId")
        encoding = _text(item, "edXML:ContentTransferEncoded", what="ContentTransferEncoded", required=False)
        if encoding and encoding.lower() != "base64":
            raise _refuse("package.attachment", f"attachment {content_id}: transfer encoding {encoding!r} is not base64",
                          f"tệp đính kèm {content_id}: mã hóa {encoding!r} không phải base64")
        value = _one(item, "edXML:Value", what=f"Value of attachment {content_id}").text or ""
        if len(value) * 3 // 4 > max_attachment_bytes:
            raise _refuse("format.too-large", f"attachment {content_id} is over the limit of {max_attachment_bytes} bytes",
                          f"tệp đính kèm {content_id} vượt giới hạn {max_attachment_bytes} byte")
        try:
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise _refuse("package.attachment", f"attachment {content_id} is not valid base64",
                          f"tệp đính kèm {content_id} không phải base64 hợp lệ") from None
        try:
            attachments.append(Attachment(content_id, _text(item, "edXML:AttachmentName", what="AttachmentName"),
                                          _text(item, "edXML:ContentType", what="ContentType"), data))
        except InvalidPackageData as exc:
            raise _refuse("package.attachment", exc.en, exc.vi) from None
    listed = {m[0]: m for m in manifest}
    carried = {a.content_id: a for a in attachments}
    if len(listed) != len(manifest):
        raise _refuse("package.manifest", "the manifest lists a content id twice", "danh mục tệp liệt kê một mã hai lần")
    outside = sorted(set(carried) - set(listed))
    if outside:
        raise _refuse("package.manifest",
                      f"attachment(s) {', '.join(outside)} are not listed in the manifest (edXMLManifest)",
                      f"tệp đính kèm {', '.join(outside)} không có trong danh mục (edXMLManifest)")
    missing = sorted(set(listed) - set(carried))
    if missing:
        raise _refuse("package.manifest", f"the manifest lists {', '.join(missing)}, which the package does not carry",
                      f"danh mục liệt kê {', '.join(missing)} nhưng gói tin không chứa tệp đó")
    for attachment in attachments:
        _, name, content_type = listed[attachment.content_id]
        if (name, content_type) != (attachment.name, attachment.content_type):
            raise _refuse("package.manifest",
                          f"attachment {attachment.content_id} is {attachment.name} ({attachment.content_type}) but the "
                          f"manifest says {name} ({content_type})",
                          f"tệp đính kèm {attachment.content_id} là {attachment.name} ({attachment.content_type}) nhưng "
                          f"danh mục ghi {name} ({content_type})")
    trace = []
    for item in root.findall("edXML:edXMLHeader/edXML:TraceHeaderList/edXML:TraceHeader", NS):
        try:
            trace.append(TraceEntry(_text(item, "edXML:OrganId", what="OrganId"),
                                    datetime.fromisoformat(_text(item, "edXML:Timestamp", what="Timestamp"))))
        except ValueError:
            continue  # a trace entry is informative only
    try:
        package = Package(header, tuple(attachments), tuple(trace))
    except InvalidPackageData as exc:
        raise _refuse("package.shape", exc.en, exc.vi) from None
    return package, tuple(problems)
