"""Signing sessions: the service's side of the signer's prepare / complete (DESIGN.md flow 2).

Prepare: check the signing policy (certificate type, order of signatures; validity and revocation now are
checked again by the signer), lay the signature out, keep the state in the database and hand the client the
digest and a description for the bridge. Complete: accept the signature value once, embed it with its
timestamp (B-T, B-LT for issued documents), verify the result, and record it in the ledger together with
the session's completion and the document's new revision, in one transaction. The document never leaves
the server; the bridge sees only the digest and the description.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from asn1crypto import x509
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from policies.text import MAX_DESCRIPTION_LENGTH, DisplayTextRefused, require_display_text
from service.database import write_transaction
from service.errors import BadRequest, Conflict, DocumentTooComplex, Gone, NotFound, PolicyRefused
from service.tables import DocumentFile, SigningSession
from service.translation import library_errors

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = ("approve", "issue", "appendix", "copy", "incoming")
LEVELS = ("B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class SessionRequest:
    """A parsed prepare request (values, not JSON)."""

    kind: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    content: bytes
    filename: str
    document: object | None  # ledger.DocumentInfo
    agency_code: str
    level: str
    fields: dict  # the kind's own inputs (images as bytes, series, notation...)


class _SessionNumbers:
    """The allocator the signer sees during one prepare: every number it takes (an issue number, an incoming
    number) is a reservation held by the signing session, made final by its completion and released when it
    fails or expires (ledger.numbering). An issue number goes in the registered document's own series
    (Decree 30 art. 15: unique per agency, year and series), whatever notation ("QĐ-UBND") the signer writes
    after the number."""

    def __init__(self, allocator, *, holder: str, now: dt.datetime, hold_until: dt.datetime, series: str | None = None):
        self.allocator = allocator
        self.holder = holder
        self.now = now
        self.hold_until = hold_until
        self.series = series
        self.taken: list[int] = []

    def allocate(self, agency_code: str, year: int, series: str) -> int:
        series = self.series or series
        if hasattr(self.allocator, "reserve"):
            number = self.allocator.reserve(agency_code, year, series, holder=self.holder,
                                            expires_at=self.hold_until, now=self.now)
        else:  # an allocator without reservations (not the ledger's): its numbers are final at once
            number = self.allocator.allocate(agency_code, year, series)
        self.taken.append(number)
        return number

    def release(self) -> None:
        if self.taken and hasattr(self.allocator, "release"):
            self.allocator.release(self.holder, now=self.now)


# A session's numbers stay reserved this long after the session expires: a completion that started just
# before the expiry (and may run for minutes with a slow TSA, up to the worker timeout) still finds its number
# reserved when it records it. Later, the next allocation in the series releases them (lazy expiry).
RESERVATION_GRACE = dt.timedelta(minutes=15)


# A completion that claimed its session and then vanished (its worker killed) recorded nothing: the ledger
# record and the session's completion commit together. After this long the claim is released, so that the
# client can send the same signature again instead of signing anew.
STALE_CLAIM = dt.timedelta(seconds=120)


def _claimable(now: dt.datetime):
    from sqlalchemy import and_, or_

    return or_(SigningSession.status == "prepared",
               and_(SigningSession.status == "completing", SigningSession.completed_at < now - STALE_CLAIM))


class _SessionClaim:
    """The signer's `UsedStates` over the sessions table: a state completes once, even across workers."""

    def __init__(self, engine, session_id: str, *, now: dt.datetime):
        self.engine = engine
        self.session_id = session_id
        self.now = now

    def claim(self, state_id: str) -> bool:
        with Session(self.engine) as db:
            write_transaction(db)
            result = db.execute(
                update(SigningSession)
                .where(SigningSession.id == self.session_id, _claimable(self.now))
                .values(status="completing", completed_at=self.now)  # the claim's time until completion
            )
            db.commit()
            return result.rowcount == 1


def check_policy(request: SessionRequest, *, components) -> None:
    """The pure signing policy (policies.signing) over the certificate and the document's prior signatures."""
    from policies.algorithms import KeyDescription
    from policies.identity import HolderKind, parse_identity
    from policies.signing import PriorSignature, SigningAct, SigningPolicy
    from policies.signing import SigningRequest as PolicyRequest

    prior = []
    if request.kind != "approve":
        report = components.verifier.verify_pdf(request.content, path=request.filename)
        refusal = report.limit_refusal
        if refusal is not None:  # issue 9: refused before any signing work
            raise DocumentTooComplex(refusal.vi, refusal.en, detail={"reason": "limit_exceeded"})
        for signature in report.signatures:
            if signature.kind.value == "timestamp":
                continue
            holder = signature.signer.holder_kind if signature.signer else HolderKind.UNKNOWN
            prior.append(PriorSignature(holder_kind=holder, valid=signature.passed))
    decision = SigningPolicy.default().evaluate(
        PolicyRequest(
            act=SigningAct(request.kind),
            signer=parse_identity(request.certificate),
            key=KeyDescription.of(request.certificate.public_key),
            digest_algorithm="sha256",
            prior=tuple(prior),
        )
    )
    if not decision.allowed:
        raise PolicyRefused(decision.reason_vi, decision.reason_en, detail={"rule": decision.rule})
    _check_roster(request, components=components)


def _check_roster(request: SessionRequest, *, components) -> None:
    """What the roster knows about the certificate: revoked there means no signing; an agency (seal)
    certificate signs for its own agency only. A personal certificate may sign for another agency
    (Decree 30 art. 13: KT., TL., TUQ. sign on behalf with their own certificate)."""
    from ledger.entries import normalise_serial
    from ledger.models import Certificate

    with Session(components.ledger.engine) as db:
        known = db.get(Certificate, normalise_serial(request.certificate.serial_number))
        if known is None:
            return
        if known.revoked_at is not None:
            raise PolicyRefused(
                f"Chứng thư số {known.serial} đã bị thu hồi trong danh bạ ({known.revocation_reason})",
                f"certificate {known.serial} is revoked on the roster ({known.revocation_reason})",
                detail={"rule": "roster:revoked"},
            )
        if known.kind == "agency" and request.kind != "approve" and known.agency_code != request.agency_code:
            raise PolicyRefused(
                f"Con dấu số của cơ quan {known.agency_code} không ký thay cơ quan {request.agency_code}",
                f"the seal certificate of agency {known.agency_code} cannot sign for agency {request.agency_code}",
                detail={"rule": "roster:agency"},
            )


def _signature_request(request: SessionRequest):
    from signer import CopyForm, PadesLevel, SignatureKind, SignatureRequest, StampImage

    fields = request.fields
    kind = SignatureKind(request.kind)
    level = PadesLevel(request.level)
    values: dict = {"kind": kind, "level": level}
    if kind is SignatureKind.APPROVE:
        values["signature_image"] = StampImage.from_png(fields["signature_image"], role="signature")
        for name in ("title", "signer_name"):
            if fields.get(name):
                values[name] = fields[name]
    elif kind is SignatureKind.ISSUE:
        values["seal_image"] = StampImage.from_png(fields["seal_image"], role="seal")
        if fields.get("seal_diameter_mm"):
            values["seal_diameter_mm"] = fields["seal_diameter_mm"]
        values["agency_code"] = request.agency_code
        values["series"] = fields["series"]
    elif kind is SignatureKind.APPENDIX:
        values["notation"] = fields["notation"]
    elif kind is SignatureKind.COPY:
        values["copy_form"] = CopyForm(fields["copy_form"])
        values["copying_agency"] = fields["copying_agency"]
    elif kind is SignatureKind.INCOMING:
        values["incoming_number"] = fields["incoming_number"]
        values["received_on"] = fields.get("received_on")
    return SignatureRequest(**values)


def prepare_session(request: SessionRequest, *, principal, components, engine, clock, ttl_seconds: int) -> tuple[SigningSession, object]:
    """Check the policy, prepare the signature and store the session. Returns (row, PreparedSignature)."""
    from ledger import INCOMING_SERIES
    from signer import prepare

    check_policy(request, components=components)
    now = clock()
    session_id = uuid.uuid4().hex
    expires_at = now + dt.timedelta(seconds=ttl_seconds)
    environment = copy.copy(components.signing)
    fields = dict(request.fields)
    numbers = _SessionNumbers(
        components.signing.numbers, holder=session_id, now=now, hold_until=expires_at + RESERVATION_GRACE,
        series=request.document.series if request.kind == "issue" and request.document is not None else None,
    )
    environment.numbers = numbers
    try:
        with library_errors():
            if request.kind == "incoming" and not fields.get("incoming_number"):
                # Decree 30, art. 22: the incoming register numbers what arrives, from 01 each year.
                year = now.astimezone(VIETNAM).year
                fields["incoming_number"] = numbers.allocate(request.agency_code, year, INCOMING_SERIES)
            signature_request = _signature_request(SessionRequest(**{**request.__dict__, "fields": fields}))
            # No process-wide lock here (issue 9): this parses an untrusted document, bounded by the
            # environment's PDF limits; a hostile file must not make every other prepare wait.
            prepared = prepare(request.content, certificate=request.certificate, chain=request.chain,
                               request=signature_request, environment=environment)
        row = _store_session(request, prepared, fields, session_id=session_id, principal=principal,
                             engine=engine, now=now, expires_at=expires_at, reserved=bool(numbers.taken))
    except BaseException:
        try:
            numbers.release()  # a prepare that failed after taking a number gives it back
        except Exception:  # noqa: BLE001 - the prepare's own error matters; lazy expiry frees the number later
            pass
        raise
    return row, prepared


def _store_session(request: SessionRequest, prepared, fields: dict, *, session_id: str, principal, engine,
                   now: dt.datetime, expires_at: dt.datetime, reserved: bool) -> SigningSession:
    description = prepared.description
    if request.document is not None:
        title = request.document.title or request.document.doc_type
        description += f" — {title}"[:200]
    else:
        description += f" — {request.filename}"[:200]
    # The bridge shows this text for consent and refuses what policies/text.py refuses: refuse it here first,
    # with the reason, rather than hand the client a request no bridge will sign (issue 9, item 7).
    try:
        description = require_display_text(description, field="description", max_length=MAX_DESCRIPTION_LENGTH)
    except DisplayTextRefused as exc:
        raise BadRequest(f"Mô tả chữ ký không hiển thị được để xin đồng ý: {exc.vietnamese}",
                         f"the signing description cannot be shown for consent: {exc.english}",
                         detail={"code_point": exc.code_point}) from None
    row = SigningSession(
        id=session_id,
        principal=principal.label,
        kind=request.kind,
        document_id=str(request.document.id) if request.document is not None else None,
        document_revision=fields.pop("_revision", None),
        filename=request.filename,
        certificate=request.certificate.dump(),
        digest=prepared.digest,
        digest_algorithm=prepared.digest_algorithm.value,
        signature_algorithm=prepared.scheme.value,
        description=description,
        state=prepared.state.to_json().encode("utf-8"),
        fields=json.dumps({
            "agency_code": request.agency_code,
            "level": request.level,
            "series": fields.get("series"),
            "incoming_number": fields.get("incoming_number"),
            "reserved": reserved,  # the session holds a number reservation, made final at completion
        }, ensure_ascii=False),
        status="prepared",
        created_at=now,
        expires_at=expires_at,
    )
    with Session(engine, expire_on_commit=False) as db:
        write_transaction(db)
        # Sessions that expired a day ago are of no use to anyone: keep the table small.
        db.execute(delete(SigningSession).where(SigningSession.status == "prepared",
                                                SigningSession.expires_at < now - dt.timedelta(days=1)))
        db.add(row)
        db.commit()
    return row


def load_session(db: Session, session_id: str, *, principal) -> SigningSession:
    row = db.get(SigningSession, session_id[:32])
    # Another caller's session is reported as unknown: its existence is none of their business.
    if row is None or row.principal != principal.label:
        raise NotFound(f"Không có phiên ký {session_id[:32]}", f"no signing session {session_id[:32]}")
    return row


@dataclass(frozen=True)
class CompletedSignature:
    session: SigningSession
    pdf: bytes
    report: object  # verifier.FileReport
    signature_report: object  # verifier.SignatureReport of the new signature
    record_id: str
    number: object | None


def complete_session(row: SigningSession, signature_value: bytes, *, components, engine, clock, logger=None) -> CompletedSignature:
    """Embed the signature, verify the result and record it (see the module docstring)."""
    from signer import SigningState, complete

    now = clock()
    if row.status == "completed":
        raise Conflict("Phiên ký này đã hoàn tất", "this signing session is already completed",
                       detail={"status": row.status})
    stale = row.status == "completing" and row.completed_at is not None and row.completed_at < now - STALE_CLAIM
    if row.status != "prepared" and not stale:
        raise Conflict(f"Phiên ký đang ở trạng thái {row.status}", f"this signing session is {row.status}",
                       detail={"status": row.status})
    if now >= row.expires_at:
        _release_numbers(row, engine=engine, now=now)
        raise Gone("Phiên ký đã hết hạn; hãy chuẩn bị lại", "this signing session has expired; prepare again",
                   detail={"expired_at": row.expires_at.isoformat()})
    if row.document_id is not None and row.document_revision is not None:
        with Session(engine) as db:
            current = db.get(DocumentFile, row.document_id)
            moved = current is not None and current.revision != row.document_revision
        if moved:
            # Refused for good: the session can never complete (revisions only go forward). Fail it and give
            # its number back now.
            _fail_prepared(row, engine=engine, now=now)
            raise Conflict(
                "Văn bản đã được ký tiếp trong phiên khác sau khi chuẩn bị; hãy chuẩn bị lại",
                "the document was signed in another session since this one was prepared; prepare again",
            )
    with library_errors():
        state = SigningState.from_json(row.state)
        signed = complete(state, signature_value, environment=components.signing,
                          used_states=_SessionClaim(engine, row.id, now=now))
    try:
        report = components.verifier.verify_pdf(signed.pdf, path=row.filename)
        mine = next((s for s in report.signatures if s.field == signed.field_name), None)
        if mine is None or not mine.passed:
            detail = {"report": report.to_json("en")}
            raise PolicyRefused(
                "Chữ ký vừa tạo không được xác nhận hợp lệ; văn bản không được ghi nhận",
                "the new signature did not verify as TOTAL_PASSED; nothing was recorded",
                detail=detail,
            )
        # The signed revision: what the ByteRange covers, i.e. the prepared document around its /Contents
        # hex string (pyHanko's reserved region includes the < >), without the B-LT/B-LTA additions after it.
        covered = signed.pdf[:state.reserved_start] + signed.pdf[state.reserved_end:len(state.document)]
        revision_digest = hashlib.sha256(covered).hexdigest()
        record_id = _record(row, signed, mine, revision_digest=revision_digest, engine=engine, clock=clock, now=now,
                            seal=components.ledger.head_seal)
    except BaseException:
        from ledger.numbering import release_in

        with Session(engine) as db:
            write_transaction(db)
            failed = db.execute(update(SigningSession).where(SigningSession.id == row.id, SigningSession.status == "completing")
                                .values(status="failed", completed_at=now))
            if failed.rowcount == 1:
                release_in(db, row.id, now=now)  # failed for good: its number goes to the next prepare
            db.commit()
        raise
    return CompletedSignature(row, signed.pdf, report, mine, record_id, signed.number)


def _release_numbers(row: SigningSession, *, engine, now: dt.datetime) -> None:
    """An expired session can no longer complete: give its reserved numbers back now rather than at the next
    allocation (both are safe: only a `reserved` number is released, never a final one)."""
    from ledger.numbering import release_in

    if not json.loads(row.fields).get("reserved"):
        return
    with Session(engine) as db:
        write_transaction(db)
        # Not while a completion holds the session: it will finalize or release the number itself.
        live = db.get(SigningSession, row.id)
        if live is not None and live.status == "prepared":
            release_in(db, row.id, now=now)
        db.commit()


def _fail_prepared(row: SigningSession, *, engine, now: dt.datetime) -> None:
    """Mark a session that can never complete as failed and release its numbers, in one transaction (not if
    a completion has claimed it meanwhile: that one finalizes or releases the number itself)."""
    from ledger.numbering import release_in

    with Session(engine) as db:
        write_transaction(db)
        failed = db.execute(update(SigningSession).where(SigningSession.id == row.id, SigningSession.status == "prepared")
                            .values(status="failed", completed_at=now))
        if failed.rowcount == 1:
            release_in(db, row.id, now=now)
        db.commit()


def _record(row: SigningSession, signed, mine, *, revision_digest: str, engine, clock, now, seal=None) -> str:
    """The ledger record, the document's new revision and number, and the session's completion: together."""
    from ledger import Indication, LedgerEntry, RecordEvent, TimeSource
    from ledger import SignatureKind as LedgerKind
    from ledger.chain import append_in
    from ledger.models import Document, SignedFile
    from policies.identity import parse_identity

    fields = json.loads(row.fields)
    certificate = x509.Certificate.load(row.certificate)
    identity = parse_identity(certificate)
    document_id = int(row.document_id) if row.document_id is not None else None
    entry = LedgerEntry(
        event=RecordEvent.SIGNED,
        agency_code=fields["agency_code"],
        signature_kind=LedgerKind.PERSONAL if row.kind == "approve" else LedgerKind.AGENCY,
        certificate_serial=certificate.serial_number,
        signer_name=identity.common_name or "?",
        signed_digest=revision_digest,
        signing_time=mine.signing_time or signed.signing_time,
        signing_time_source=TimeSource.TIMESTAMP if mine.signing_time_source.value == "timestamp" else TimeSource.CLAIMED,
        indication=Indication(mine.indication.value),
        signer_identifiers=tuple(str(i) for i in identity.identifiers),
        document_id=document_id,
        purpose=row.kind,
    )
    file_sha = hashlib.sha256(signed.pdf).hexdigest()
    with library_errors(), Session(engine, expire_on_commit=False) as db:
        write_transaction(db)
        (record,) = append_in(db, [entry], clock=clock, seal=seal)
        if fields.get("reserved"):
            from ledger.numbering import finalize_in

            # The number printed in the document becomes final with the record, in one transaction; one that
            # was released meanwhile (its reservation lapsed) cannot be used any more.
            if not finalize_in(db, row.id, now=now, seal=seal):
                raise Conflict(
                    "Số văn bản giữ cho phiên ký này đã hết hạn giữ và được cấp lại; hãy chuẩn bị lại",
                    "the number reserved for this signing session lapsed and was given back; prepare again",
                )
        if document_id is not None:
            document = db.get(Document, document_id)
            if signed.number is not None:
                issued = dt.datetime.combine(signed.number.issued_on, dt.time(12), tzinfo=VIETNAM)
                document.number = signed.number.number
                document.notation = signed.number.series
                document.year = issued.year
                document.dated_at = issued
            signed_file = SignedFile(document_id=document_id, digest=file_sha, size=len(signed.pdf),
                                     filename=row.filename, created_at=now)
            db.add(signed_file)
            db.flush()
            from ledger.covered import cover_in

            # The document (its number, when given) and the stored file enter the chain with the signature.
            cover_in(db, documents=[document_id], signed_files=[signed_file.id], seal=seal, clock=clock)
            current = db.get(DocumentFile, str(document_id))
            if current is not None and row.document_revision is not None and current.revision != row.document_revision:
                raise Conflict(
                    "Văn bản đã được ký tiếp trong phiên khác sau khi chuẩn bị; hãy chuẩn bị lại",
                    "the document was signed in another session since this one was prepared; prepare again",
                )
            if current is not None:
                current.content, current.sha256, current.updated_at = signed.pdf, file_sha, now
                current.revision += 1
        db.execute(
            update(SigningSession).where(SigningSession.id == row.id).values(
                status="completed", completed_at=now, result=signed.pdf, result_sha256=file_sha,
                ledger_record=record.record_id,
            )
        )
        db.commit()
    return record.record_id


def parse_certificate(der: bytes, name: str = "certificate") -> x509.Certificate:
    try:
        certificate = x509.Certificate.load(der)
        _ = certificate.native  # parse it all now: a broken certificate is a 400, not a 500 later
        return certificate
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"Trường '{name}' không phải chứng thư số X.509 (DER)", f"field '{name}' is not an X.509 certificate (DER)") from exc
