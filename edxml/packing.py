"""Outgoing packages and status messages: build the envelope, sign it through the key protocol."""

from __future__ import annotations

from datetime import datetime

from edxml.envelope import build_package_xml, build_status_xml
from edxml.model import Organisation, Package, StatusCode, StatusMessage
from edxml.report import PackageReport
from edxml.signing import sign_envelope
from policies.keys import DigestAlgorithm, DigestSigner


def pack(package: Package, *, key: DigestSigner, certificate, chain=(),
         digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256) -> bytes:
    """The signed edXML package (bytes of the XML document) for `package`, signed with the agency's seal key."""
    return sign_envelope(build_package_xml(package), key=key, certificate=certificate, chain=chain,
                         digest_algorithm=digest_algorithm)


def sign_status(status: StatusMessage, *, key: DigestSigner, certificate, chain=()) -> bytes:
    """The signed status message answering a package."""
    return sign_envelope(build_status_xml(status), key=key, certificate=certificate, chain=chain)


def status_for(report: PackageReport, *, receiver: Organisation, at: datetime,
               status: StatusCode | None = None, staff: str = "") -> StatusMessage:
    """The answer to a verified package: 03 accepted when it passed, 02 refused (with the verifier's reasons
    in Vietnamese, Decree 30 art. 21) otherwise; `status` overrides the code for a package that passed."""
    # A refused package is answered at the address its header claims (Decree 30, art. 21: return it to the
    # sender with the reason); nothing else of an unverified header is used.
    header = report.header or (None if report.passed else report.unverified_header)
    if report.passed:
        code = status or StatusCode.ACCEPTED
        description = "Văn bản đã được tiếp nhận; chữ ký số hợp lệ."
    else:
        code = StatusCode.REFUSED
        description = "Từ chối tiếp nhận: " + "; ".join(report.reasons("vi"))
    if header is None:
        from edxml.errors import InvalidPackageData

        raise InvalidPackageData("the package header could not be read, so no status message can refer to it",
                                 "không đọc được tiêu đề gói tin nên không lập được thông điệp trạng thái")
    return StatusMessage(
        sender=receiver, response_for_organ=header.sender.code, response_for_code=header.number_notation,
        response_for_date=header.promulgated_on, response_for_document_id=header.document_id, status=code,
        description=description[:2000], at=at, staff=staff)
