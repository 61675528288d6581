"""What a caller asks the signer for: the kind, the level, the appearance inputs. Values checked on creation.

DOMAIN.md, Decree 30 Appendix I: five kinds of signature. `approve` is the competent person's personal
signature; `issue`, `appendix`, `copy` and `incoming` are agency signatures made by the clerk with the
agency's certificate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from policies.identity import HolderKind
from policies.keys import DigestAlgorithm, SignatureScheme
from signer.errors import SignerError
from signer.image import StampImage


class RequestError(SignerError):
    """The request itself is incomplete or contradictory (a programming or usage error)."""


class SignatureKind(enum.Enum):
    APPROVE = "approve"  # ký duyệt
    ISSUE = "issue"  # ký phát hành
    APPENDIX = "appendix"  # ký phụ lục / tài liệu kèm theo
    COPY = "copy"  # sao y / sao lục / trích sao
    INCOMING = "incoming"  # ký văn bản đến

    @property
    def holder_kind(self) -> HolderKind:
        """Decree 30: personal certificates approve; every other kind is the agency's seal key."""
        return HolderKind.PERSON if self is SignatureKind.APPROVE else HolderKind.ORGANISATION

    @property
    def label_vi(self) -> str:
        return {
            "approve": "ký duyệt", "issue": "ký phát hành", "appendix": "ký phụ lục",
            "copy": "ký sao văn bản", "incoming": "ký văn bản đến",
        }[self.value]


class PadesLevel(enum.Enum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def has_timestamp(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def has_validation_data(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)


class CopyForm(enum.Enum):
    SAO_Y = "SAO Y"
    SAO_LUC = "SAO LỤC"
    TRICH_SAO = "TRÍCH SAO"


@runtime_checkable
class NumberAllocator(Protocol):
    """Decree 30 art. 15: numbers run from 01 each year, unique per agency and year (and series).

    The ledger implements this with stored state; `allocate` must be atomic and never return a number twice.
    """

    def allocate(self, agency_code: str, year: int, series: str) -> int: ...


@dataclass(frozen=True)
class Placement:
    """Where the main appearance goes: a named empty signature field, explicit coordinates, or (default)
    found from the document text."""

    field_name: str | None = None
    page: int | None = None  # 0-based
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in points

    def __post_init__(self):
        if self.field_name is not None and self.box is not None:
            raise RequestError("chọn một vị trí: trường chữ ký hoặc tọa độ / give a field name or a box, not both")
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            if not (x1 > x0 and y1 > y0):
                raise RequestError(f"hộp tọa độ không hợp lệ {self.box} / invalid box {self.box}")
            if self.page is None or self.page < 0:
                raise RequestError("tọa độ cần số trang (từ 0) / a box needs a page index (from 0)")


@dataclass(frozen=True)
class SignatureRequest:
    """One signature to make. Only the fields of its kind may be set; each kind's must-haves are checked."""

    kind: SignatureKind
    level: PadesLevel = PadesLevel.B_B
    digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256
    scheme: SignatureScheme | None = None  # None: PKCS#1 v1.5 for RSA, ECDSA for EC
    field_name: str | None = None  # the new signature field's name; generated when None
    placement: Placement | None = None
    reason: str | None = None
    location: str | None = None
    # approve
    signature_image: StampImage | None = None
    title: str | None = None  # the title line to find ("GIÁM ĐỐC"); default: the certificate's title, and
    # without one, the nearest line above the name line
    signer_name: str | None = None  # the name line to find; default: the certificate's common name
    # issue
    seal_image: StampImage | None = None
    seal_diameter_mm: float | None = None  # default: the size the PNG declares
    agency_code: str | None = None
    series: str | None = None  # the notation after the number, e.g. "QĐ-UBND"
    # appendix
    notation: str | None = None  # e.g. "15/QĐ-UBND"
    # copy
    copy_form: CopyForm | None = None
    copying_agency: str | None = None
    # incoming
    incoming_number: int | None = None
    received_on: date | None = None

    def __post_init__(self):
        kind = self.kind
        if self.digest_algorithm is DigestAlgorithm.SHA1:
            raise RequestError("SHA-1 không được dùng cho chữ ký mới / SHA-1 is not allowed for new signatures")
        required = {
            SignatureKind.APPROVE: ("signature_image",),
            SignatureKind.ISSUE: ("seal_image", "agency_code", "series"),
            SignatureKind.APPENDIX: ("notation",),
            SignatureKind.COPY: ("copy_form", "copying_agency"),
            SignatureKind.INCOMING: ("incoming_number",),
        }[kind]
        missing = [name for name in required if getattr(self, name) in (None, "")]
        if missing:
            raise RequestError(
                f"thiếu {', '.join(missing)} cho loại ký {kind.value} / "
                f"{kind.value} signatures need {', '.join(missing)}"
            )
        own = {
            "signature_image": SignatureKind.APPROVE, "title": SignatureKind.APPROVE,
            "signer_name": SignatureKind.APPROVE, "seal_image": SignatureKind.ISSUE,
            "seal_diameter_mm": SignatureKind.ISSUE, "agency_code": SignatureKind.ISSUE,
            "series": SignatureKind.ISSUE, "notation": SignatureKind.APPENDIX,
            "copy_form": SignatureKind.COPY, "copying_agency": SignatureKind.COPY,
            "incoming_number": SignatureKind.INCOMING, "received_on": SignatureKind.INCOMING,
        }
        foreign = [name for name, owner in own.items() if owner is not kind and getattr(self, name) is not None]
        if foreign:
            raise RequestError(
                f"{', '.join(foreign)} không dùng cho loại ký {kind.value} / "
                f"{', '.join(foreign)} do not apply to {kind.value} signatures"
            )
        if self.seal_diameter_mm is not None and not (10 <= self.seal_diameter_mm <= 80):
            raise RequestError(
                f"đường kính dấu {self.seal_diameter_mm} mm không hợp lý (10-80) / "
                f"seal diameter {self.seal_diameter_mm} mm is implausible (10-80)"
            )
        if self.incoming_number is not None and self.incoming_number < 1:
            raise RequestError("số đến phải từ 1 / the incoming number starts at 1")
        if self.placement is not None and kind is SignatureKind.ISSUE:
            raise RequestError(
                "vị trí dấu do chữ ký cá nhân quyết định / the seal's place follows the personal signature"
            )


@dataclass(frozen=True)
class IssuedNumber:
    """The number and date given to a document at issuing (Decree 30 art. 15)."""

    number: int
    series: str
    issued_on: date

    @property
    def notation(self) -> str:
        """"01/QĐ-UBND": at least two digits, numbers from 01."""
        return f"{self.number:02d}/{self.series}"
