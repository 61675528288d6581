"""Documents registered by the document management system: outgoing and incoming, numbered (Decree 30),
secret or not, sent over the network or on paper, returned to the sender with a reason (art. 21), and the
signed files (revisions, by SHA-256) linked to them."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ledger.covered import cover_in
from ledger.errors import Conflict, DuplicateDocumentNumber, InvalidValue, UnknownAgency, UnknownDocument
from ledger.models import Agency, Document, SignedFile
from ledger.numbering import DEFAULT_SERIES, INCOMING_SERIES, SECRET_SERIES, SqlNumberAllocator
from ledger.store import Store
from policies.text import MAX_TITLE_LENGTH, DisplayTextRefused, require_display_text

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Direction(enum.Enum):
    OUTGOING = "outgoing"  # văn bản đi
    INCOMING = "incoming"  # văn bản đến


def _now() -> datetime:
    return datetime.now(timezone.utc)


def default_series(direction: "Direction", secret: bool) -> str:
    if secret:
        return SECRET_SERIES
    return INCOMING_SERIES if direction is Direction.INCOMING else DEFAULT_SERIES


@dataclass(frozen=True)
class DocumentDraft:
    """A document to register. `dated_at` is its issue date (outgoing) or receipt time (incoming)."""

    agency_code: str
    direction: Direction
    dated_at: datetime
    doc_type: str
    title: str | None = None
    secret: bool = False
    electronic: bool = True
    series: str | None = None
    number: int | None = None
    notation: str | None = None
    counterpart_code: str | None = None
    external_id: str | None = None

    def __post_init__(self):
        if not isinstance(self.direction, Direction):
            try:
                object.__setattr__(self, "direction", Direction(self.direction))
            except ValueError:
                raise InvalidValue(f"hướng văn bản không hợp lệ: {self.direction!r}", f"invalid direction: {self.direction!r} (outgoing, incoming)") from None
        if not isinstance(self.dated_at, datetime) or self.dated_at.tzinfo is None:
            raise InvalidValue("ngày văn bản phải kèm múi giờ", "dated_at must be a datetime with its UTC offset")
        if not self.doc_type or len(self.doc_type) > 60:
            raise InvalidValue("thiếu loại văn bản (hoặc dài quá 60 ký tự)", "doc_type is empty or longer than 60 characters")
        for name in ("secret", "electronic"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValue(f"{name} phải là true/false", f"{name} must be a boolean")
        if self.number is not None and (not isinstance(self.number, int) or isinstance(self.number, bool) or self.number < 1):
            raise InvalidValue(f"số văn bản phải là số nguyên dương: {self.number!r}", f"number must be a positive integer: {self.number!r}")
        if self.series is None:
            object.__setattr__(self, "series", default_series(self.direction, self.secret))
        elif self.secret and self.series != SECRET_SERIES:
            # Decree 30, art. 15: secret documents are numbered in their own series.
            raise InvalidValue("văn bản mật phải đánh số theo sổ riêng 'secret'", "secret documents are numbered in the 'secret' series")
        for name, limit in (("notation", 100), ("counterpart_code", 40), ("external_id", 100), ("series", 40)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidValue(f"{name} không hợp lệ hoặc dài quá {limit} ký tự", f"{name} is not text or longer than {limit} characters")

        # The title, type and notation flow into the signing description a person consents to: one allow-list
        # of characters (policies/text.py) here, in the service's description and in the bridge, so that what
        # is registered can be signed and cannot fake the consent prompt (issue 9, item 7).
        for name, limit in (("title", MAX_TITLE_LENGTH), ("doc_type", 60), ("notation", 100)):
            value = getattr(self, name)
            if isinstance(value, str):
                try:
                    object.__setattr__(self, name, require_display_text(value, field=name, max_length=limit) or None)
                except DisplayTextRefused as exc:
                    raise InvalidValue(exc.vietnamese, exc.english) from None
        if not self.doc_type:
            raise InvalidValue("thiếu loại văn bản", "doc_type is empty")

    @property
    def year(self) -> int:
        return self.dated_at.astimezone(VIETNAM).year


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    agency_code: str
    direction: Direction
    dated_at: datetime
    year: int
    series: str
    number: int | None
    notation: str | None
    doc_type: str
    title: str | None
    secret: bool
    electronic: bool
    counterpart_code: str | None
    external_id: str | None
    returned_at: datetime | None
    return_reason: str | None

    @classmethod
    def from_row(cls, row: Document) -> "DocumentInfo":
        return cls(row.id, row.agency_code, Direction(row.direction), row.dated_at, row.year, row.series, row.number,
                   row.notation, row.doc_type, row.title, row.secret, row.electronic, row.counterpart_code,
                   row.external_id, row.returned_at, row.return_reason)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "agency_code": self.agency_code,
            "direction": self.direction.value,
            "dated_at": self.dated_at.astimezone(VIETNAM).isoformat(),
            "year": self.year,
            "series": self.series,
            "number": self.number,
            "notation": self.notation,
            "doc_type": self.doc_type,
            "title": self.title,
            "secret": self.secret,
            "electronic": self.electronic,
            "counterpart_code": self.counterpart_code,
            "external_id": self.external_id,
            "returned_at": self.returned_at.astimezone(VIETNAM).isoformat() if self.returned_at else None,
            "return_reason": self.return_reason,
        }


def register_document(store: Store, draft: DocumentDraft, *, clock: Callable[[], datetime] = _now) -> DocumentInfo:
    """Register a document; a number given here must be free (the database refuses a duplicate)."""
    with store.transaction() as session:
        if session.get(Agency, draft.agency_code) is None:
            raise UnknownAgency(draft.agency_code)
        if draft.number is not None and _number_taken(session, draft.agency_code, draft.year, draft.series, draft.number):
            raise _duplicate(draft.agency_code, draft.year, draft.series, draft.number)
        if draft.external_id is not None and session.scalar(
            select(Document.id).where(Document.agency_code == draft.agency_code, Document.external_id == draft.external_id)
        ):
            raise Conflict(f"văn bản {draft.external_id} đã được đăng ký", f"document {draft.external_id} is already registered")
        row = Document(
            agency_code=draft.agency_code,
            direction=draft.direction.value,
            dated_at=draft.dated_at,
            year=draft.year,
            series=draft.series,
            number=draft.number,
            notation=draft.notation,
            doc_type=draft.doc_type,
            title=draft.title,
            secret=draft.secret,
            electronic=draft.electronic,
            counterpart_code=draft.counterpart_code,
            external_id=draft.external_id,
            registered_at=clock(),
        )
        session.add(row)
        try:
            session.flush()
        except Exception as exc:  # a concurrent registration took the number first
            from sqlalchemy.exc import IntegrityError

            if isinstance(exc, IntegrityError) and draft.number is not None:
                raise _duplicate(draft.agency_code, draft.year, draft.series, draft.number) from exc
            raise
        cover_in(session, documents=[row.id], seal=store.head_seal, clock=clock)
        return DocumentInfo.from_row(row)


def _number_taken(session, agency_code: str, year: int, series: str, number: int) -> bool:
    return session.scalar(
        select(Document.id).where(Document.agency_code == agency_code, Document.year == year,
                                  Document.series == series, Document.number == number)
    ) is not None


def _duplicate(agency_code: str, year: int, series: str, number: int) -> DuplicateDocumentNumber:
    return DuplicateDocumentNumber(
        f"số {number:02d} năm {year} (sổ {series}) của {agency_code} đã được dùng",
        f"number {number:02d} of {year} (series {series}) of {agency_code} is already used",
    )


def issue_number(store: Store, document_id: int, *, issued_at: datetime, allocator: SqlNumberAllocator | None = None) -> DocumentInfo:
    """Decree 30, art. 15: give an outgoing document its number and issue date at issuing."""
    if issued_at.tzinfo is None:
        raise InvalidValue("ngày ban hành phải kèm múi giờ", "issued_at must carry its UTC offset")
    document = get_document(store, document_id)
    if document.number is not None:
        raise Conflict(f"văn bản {document_id} đã có số {document.number:02d}", f"document {document_id} already has number {document.number:02d}")
    year = issued_at.astimezone(VIETNAM).year
    number = (allocator or SqlNumberAllocator(store)).allocate(document.agency_code, year, document.series)
    with store.transaction() as session:
        row = session.get(Document, document_id)
        if _number_taken(session, row.agency_code, year, row.series, number):
            raise _duplicate(row.agency_code, year, row.series, number)
        row.number, row.year, row.dated_at = number, year, issued_at
        session.flush()
        cover_in(session, documents=[row.id], seal=store.head_seal, clock=_now)
        return DocumentInfo.from_row(row)


def get_document(store: Store, document_id: int) -> DocumentInfo:
    with store.transaction() as session:
        row = session.get(Document, document_id)
        if row is None:
            raise UnknownDocument(document_id)
        return DocumentInfo.from_row(row)


def mark_returned(store: Store, document_id: int, *, reason: str, returned_at: datetime) -> DocumentInfo:
    """Decree 30, art. 21: an incoming document that fails the check goes back to the sender, with the reason."""
    if not reason or not reason.strip():
        raise InvalidValue("cần lý do trả lại", "a reason for returning the document is required")
    if returned_at.tzinfo is None:
        raise InvalidValue("thời điểm trả lại phải kèm múi giờ", "returned_at must carry its UTC offset")
    with store.transaction() as session:
        row = session.get(Document, document_id)
        if row is None:
            raise UnknownDocument(document_id)
        if row.direction != Direction.INCOMING.value:
            raise InvalidValue("chỉ văn bản đến mới trả lại được", "only an incoming document can be returned")
        row.returned_at, row.return_reason = returned_at, reason.strip()
        session.flush()
        cover_in(session, documents=[row.id], seal=store.head_seal, clock=_now)
        return DocumentInfo.from_row(row)


@dataclass(frozen=True)
class SignedFileInfo:
    id: int
    document_id: int
    digest: str
    size: int
    filename: str | None
    created_at: datetime


def link_signed_file(store: Store, document_id: int, *, digest: str, size: int, filename: str | None = None,
                     clock: Callable[[], datetime] = _now) -> SignedFileInfo:
    """Link a signed revision (SHA-256 hex of its bytes) to its document. Linking the same file to the same
    document again is harmless; to another document it is a conflict."""
    digest = str(digest).strip().lower()
    if not _HEX64.match(digest):
        raise InvalidValue(f"giá trị băm SHA-256 không hợp lệ: {digest!r}", f"invalid SHA-256 hex digest: {digest!r}")
    if not isinstance(size, int) or size < 0:
        raise InvalidValue("kích thước tệp không hợp lệ", "invalid file size")
    with store.transaction() as session:
        if session.get(Document, document_id) is None:
            raise UnknownDocument(document_id)
        existing = session.scalar(select(SignedFile).where(SignedFile.digest == digest))
        if existing is not None:
            if existing.document_id != document_id:
                raise Conflict(f"tệp {digest[:16]}… đã gắn với văn bản {existing.document_id}",
                               f"file {digest[:16]}… is already linked to document {existing.document_id}")
            row = existing
        else:
            row = SignedFile(document_id=document_id, digest=digest, size=size, filename=filename, created_at=clock())
            session.add(row)
            session.flush()
            cover_in(session, signed_files=[row.id], seal=store.head_seal, clock=clock)
        return SignedFileInfo(row.id, row.document_id, row.digest, row.size, row.filename, row.created_at)


def find_document_by_external_id(store: Store, agency_code: str, external_id: str) -> DocumentInfo | None:
    """The agency's document registered with this external id (e.g. the edXML DocumentId of a received
    package), or None."""
    with store.transaction() as session:
        row = session.scalar(select(Document).where(Document.agency_code == agency_code,
                                                    Document.external_id == external_id))
        return DocumentInfo.from_row(row) if row else None


def find_document_by_digest(store: Store, digest: str) -> DocumentInfo | None:
    """The document a signed file belongs to, by the SHA-256 of the file's bytes."""
    with store.transaction() as session:
        row = session.scalar(
            select(Document).join(SignedFile, SignedFile.document_id == Document.id).where(SignedFile.digest == digest.lower())
        )
        return DocumentInfo.from_row(row) if row else None
