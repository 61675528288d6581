"""The values of an edXML package (QCVN 102:2016/BTTTT, amended 2022): header, attachments, status.

Frozen values that check themselves when built ("parse, don't validate"): a `Package` that exists has a
well-formed DocumentId, a number, a date and at least one recipient, and each attachment is listed once.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from edxml.errors import InvalidPackageData

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"

# Organisation codes of the national catalogue (e.g. 000.00.00.H26, older form 000.00.00.G22):
# dotted groups of letters and digits (QCVN 102 / Decision 20/2020/QĐ-TTg on electronic identifiers).
_ORGAN_CODE = re.compile(r"^[0-9A-Z]{1,5}(\.[0-9A-Z]{1,5}){0,4}$")
_NOTATION = re.compile(r"^[^\s,/][^,]{0,60}$")


class StatusCode(enum.Enum):
    """Status of a received package (QCVN 102:2016/BTTTT, status message `StatusCode`)."""

    RECEIVED = "01"
    REFUSED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    FINISHED = "06"
    CANCELLED = "13"
    CHANGE_ACCEPTED = "15"
    CHANGE_REFUSED = "16"

    @property
    def label_vi(self) -> str:
        return {"01": "đã đến", "02": "từ chối tiếp nhận", "03": "đã tiếp nhận", "04": "phân công",
                "05": "đang xử lý", "06": "hoàn thành", "13": "lấy lại", "15": "đồng ý cập nhật",
                "16": "từ chối cập nhật"}[self.value]


def check_organ_code(code: str, *, what: str = "organisation code") -> str:
    if not isinstance(code, str) or not _ORGAN_CODE.match(code):
        raise InvalidPackageData(f"{what} {code!r} is not an organisation code like H26.10 or 000.10.00.H26",
                                 f"mã định danh cơ quan {code!r} không đúng dạng H26.10 hoặc 000.10.00.H26")
    return code


@dataclass(frozen=True)
class Organisation:
    """An agency of the exchange: its code (current form), name, and the older code when it has one
    (DOMAIN.md: organisation codes exist in two forms; store both)."""

    code: str
    name: str
    legacy_code: str | None = None

    def __post_init__(self):
        check_organ_code(self.code)
        if self.legacy_code is not None:
            check_organ_code(self.legacy_code, what="older organisation code")
        if not self.name or len(self.name) > 300:
            raise InvalidPackageData("an organisation needs a name (at most 300 characters)",
                                     "cơ quan phải có tên (tối đa 300 ký tự)")


@dataclass(frozen=True)
class SignerInfo:
    """Who signed the document (`SignerInfo`): competence (TM., KT., ...), position and full name."""

    full_name: str
    position: str = ""
    competence: str = ""


@dataclass(frozen=True)
class Attachment:
    """One attached file, with its manifest reference `cid:...`."""

    content_id: str
    name: str
    content_type: str
    data: bytes = field(repr=False)

    def __post_init__(self):
        if not self.content_id.startswith("cid:") or len(self.content_id) < 5 or len(self.content_id) > 100:
            raise InvalidPackageData(f"attachment content id {self.content_id!r} must look like cid:1",
                                     f"mã tệp đính kèm {self.content_id!r} phải có dạng cid:1")
        if not self.name or "/" in self.name or "\\" in self.name or len(self.name) > 255:
            raise InvalidPackageData(f"attachment name {self.name!r} is not a plain file name",
                                     f"tên tệp đính kèm {self.name!r} không hợp lệ")


@dataclass(frozen=True)
class PackageHeader:
    """The `MessageHeader` of a package."""

    sender: Organisation
    recipients: tuple[Organisation, ...]
    number: int
    notation: str  # e.g. "QĐ-UBND"
    promulgated_on: date
    place: str
    document_type: str  # e.g. "Quyết định"
    subject: str
    signer: SignerInfo
    document_type_code: str = "1"

    def __post_init__(self):
        if not self.recipients:
            raise InvalidPackageData("a package needs at least one recipient", "gói tin phải có ít nhất một nơi nhận")
        if not isinstance(self.number, int) or isinstance(self.number, bool) or self.number < 1:
            raise InvalidPackageData(f"document number {self.number!r} must be a positive integer",
                                     f"số văn bản {self.number!r} phải là số nguyên dương")
        if not isinstance(self.notation, str) or not _NOTATION.match(self.notation):
            raise InvalidPackageData(f"notation {self.notation!r} is not a document notation like QĐ-UBND",
                                     f"ký hiệu {self.notation!r} không đúng dạng ký hiệu văn bản (QĐ-UBND)")
        if not isinstance(self.promulgated_on, date) or isinstance(self.promulgated_on, datetime):
            raise InvalidPackageData("the promulgation date must be a date", "ngày ban hành phải là một ngày")
        if not self.subject:
            raise InvalidPackageData("a package needs a subject (trích yếu)", "gói tin phải có trích yếu")

    @property
    def number_notation(self) -> str:
        """The number and notation as the page shows them: "15/QĐ-UBND" (Decree 30: numbers below 10 get a 0)."""
        return f"{self.number:02d}/{self.notation}"

    @property
    def document_id(self) -> str:
        """QCVN 102: `sendercode,YYYY/MM/DD,number/notation`."""
        return f"{self.sender.code},{self.promulgated_on.strftime('%Y/%m/%d')},{self.number_notation}"


@dataclass(frozen=True)
class TraceEntry:
    organ_code: str
    at: datetime


@dataclass(frozen=True)
class Package:
    header: PackageHeader
    attachments: tuple[Attachment, ...]
    trace: tuple[TraceEntry, ...] = ()

    def __post_init__(self):
        if not self.attachments:
            raise InvalidPackageData("a package carries at least one document", "gói tin phải có ít nhất một văn bản")
        ids = [a.content_id for a in self.attachments]
        if len(set(ids)) != len(ids):
            raise InvalidPackageData("two attachments share a content id", "hai tệp đính kèm trùng mã")


@dataclass(frozen=True)
class StatusMessage:
    """The answer to a received package (`Status`), referring to it by `ResponseFor`."""

    sender: Organisation  # who answers (the receiving agency)
    response_for_organ: str  # the package's sender code
    response_for_code: str  # "15/QĐ-UBND"
    response_for_date: date
    response_for_document_id: str
    status: StatusCode
    description: str
    at: datetime
    staff: str = ""

    def __post_init__(self):
        check_organ_code(self.response_for_organ, what="ResponseFor organisation code")
        if not isinstance(self.status, StatusCode):
            raise InvalidPackageData(f"unknown status code {self.status!r}", f"mã trạng thái không hợp lệ {self.status!r}")
        if self.status is StatusCode.REFUSED and not self.description.strip():
            # Decree 30, art. 21: a returned document goes back with the reason.
            raise InvalidPackageData("a refusal (02) must give the reason", "từ chối tiếp nhận (02) phải nêu lý do")
        if self.at.tzinfo is None:
            raise InvalidPackageData("the status time needs its UTC offset", "thời gian trạng thái phải kèm múi giờ")
