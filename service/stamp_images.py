"""Stored stamp images (Decree 30, Appendix I): each official's handwritten signature image (blue, transparent
PNG) and each agency's seal image (red, transparent PNG) with the seal's real diameter in mm.

An official is the roster's official (ledger_officials.id): at prepare the certificate's serial is looked up
in the roster's certificates to find its holder, so a renewed certificate keeps the same image. An agency is
its roster code. Every image is checked with the signer's own `StampImage.from_png` before it is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.database import write_transaction
from service.errors import BadRequest, NotFound, StampImageMissing
from service.tables import StampImageRow
from service.translation import library_errors

OFFICIAL = "official"
AGENCY = "agency"
MAX_PNG_BYTES = 2 * 1024 * 1024
SEAL_DIAMETER_MM = (10.0, 80.0)  # the signer's own bounds for a seal


@dataclass(frozen=True)
class StoredImage:
    png: bytes
    diameter_mm: float | None


def check_png(data: bytes, *, role: str) -> None:
    """The signer's check (PNG with alpha, not fully opaque): its precise bilingual error, as a 400."""
    from signer.image import StampImage

    with library_errors():
        StampImage.from_png(data, role=role)


def check_diameter(value) -> float:
    low, high = SEAL_DIAMETER_MM
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise BadRequest(f"'diameter_mm' phải là số từ {low:g} đến {high:g} (mm)",
                         f"'diameter_mm' must be a number from {low:g} to {high:g} (mm)",
                         detail={"field": "diameter_mm"})
    return float(value)


def official_exists(store, official_id: int) -> bool:
    from ledger.models import Official

    with store.transaction() as session:
        return session.get(Official, official_id) is not None


def agency_exists(store, code: str) -> bool:
    from ledger.models import Agency

    with store.transaction() as session:
        return session.get(Agency, code) is not None


def holder_of(store, serial: int) -> int | None:
    """The roster official holding the certificate with this serial, or None."""
    from ledger.entries import normalise_serial
    from ledger.models import Certificate

    with store.transaction() as session:
        row = session.get(Certificate, normalise_serial(serial))
        return row.official_id if row is not None else None


def save(engine, owner_kind: str, owner: str, png: bytes, *, diameter_mm: float | None, actor: str,
         now: dt.datetime) -> StampImageRow:
    """Insert or replace the owner's image. Two first writes racing on PostgreSQL: the loser's INSERT hits the
    primary key, and it is retried once as a replacement (the last write wins, as for any replacement)."""
    for attempt in (1, 2):
        try:
            with Session(engine, expire_on_commit=False) as db:
                write_transaction(db)
                row = db.get(StampImageRow, (owner_kind, owner))
                if row is None:
                    row = StampImageRow(owner_kind=owner_kind, owner=owner)
                    db.add(row)
                row.png, row.sha256, row.diameter_mm = png, hashlib.sha256(png).hexdigest(), diameter_mm
                row.updated_by, row.updated_at = actor[:120], now
                db.commit()
            return row
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def load(db: Session, owner_kind: str, owner: str) -> StampImageRow | None:
    return db.get(StampImageRow, (owner_kind, str(owner)))


def signature_for(engine, store, certificate) -> StoredImage:
    """The stored signature image of the certificate's holder, or a precise StampImageMissing."""
    serial = format(certificate.serial_number, "x")
    official_id = holder_of(store, certificate.serial_number)
    if official_id is None:
        raise StampImageMissing(
            f"Không gửi ảnh chữ ký và chứng thư {serial} không thuộc cán bộ nào trong danh sách, "
            "nên không có ảnh chữ ký đã lưu",
            f"no signature image was sent and certificate {serial} belongs to no official of the roster, "
            "so there is no stored signature image",
            detail={"certificate_serial": serial},
        )
    with Session(engine) as db:
        row = load(db, OFFICIAL, str(official_id))
        if row is None:
            raise StampImageMissing(
                f"Không gửi ảnh chữ ký và cán bộ {official_id} (chứng thư {serial}) chưa có ảnh chữ ký đã lưu",
                f"no signature image was sent and official {official_id} (certificate {serial}) has no stored "
                "signature image",
                detail={"official_id": official_id, "certificate_serial": serial},
            )
        return StoredImage(row.png, None)


def seal_for(engine, agency_code: str) -> StoredImage:
    """The stored seal image of the agency, or a precise StampImageMissing."""
    with Session(engine) as db:
        row = load(db, AGENCY, agency_code)
        if row is None:
            raise StampImageMissing(
                f"Không gửi ảnh con dấu và cơ quan {agency_code} chưa có ảnh con dấu đã lưu",
                f"no seal image was sent and agency {agency_code} has no stored seal image",
                detail={"agency_code": agency_code},
            )
        return StoredImage(row.png, row.diameter_mm)


def require_official(store, official_id: int) -> None:
    if not official_exists(store, official_id):
        raise NotFound(f"Không có cán bộ {official_id} trong danh sách", f"no official {official_id} on the roster")


def require_agency(store, code: str) -> None:
    if not agency_exists(store, code):
        raise NotFound(f"Không có cơ quan {code} trong danh sách", f"no agency {code} on the roster")
