"""Reading the facts of one month from the ledger's database, then building the report (ledger.report.build).

Only the month's documents and the records about them are read (indexed by date and by document), so the
cost follows the month's activity, not the size of the whole ledger. `monthly_report` has the database
group them (ledger.report.aggregate); `load_report_inputs` reads them one by one for the pure core.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidValue
from ledger.models import Agency, Certificate, Document, Level, Official, Record, Target
from ledger.report.aggregate import document_figures
from ledger.report.build import build_monthly_report
from ledger.report.model import (
    AgencyFacts,
    CertificateFacts,
    DocumentFacts,
    LevelFacts,
    Metric,
    Month,
    MonthlyReport,
    OfficialFacts,
    ReportInputs,
    SignatureFacts,
    TargetFacts,
)
from ledger.store import Store, translated_errors


def _in_force(model, month: Month):
    """Rows whose period [valid_from, valid_until] overlaps the month."""
    return and_(model.valid_from <= month.last_day, or_(model.valid_until.is_(None), model.valid_until >= month.first_day))


@dataclass(frozen=True)
class ReportSettings:
    """The `[report]` table of kyso.toml."""

    expiry_window_days: int = 60  # DOMAIN.md: certificates expiring within 60 days
    lang: str = "vi"

    @classmethod
    def from_config(cls, mapping: dict) -> "ReportSettings":
        known = {"expiry_window_days", "lang"}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise InvalidValue(f"[report]: khóa không biết {', '.join(unknown)}",
                               f"[report]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        days = mapping.get("expiry_window_days", 60)
        try:
            days = int(days)
        except (TypeError, ValueError):
            days = -1
        if not 0 <= days <= 3650:
            raise InvalidValue("[report]: expiry_window_days phải từ 0 đến 3650",
                               "[report]: expiry_window_days must be a whole number from 0 to 3650")
        lang = mapping.get("lang", "vi")
        if lang not in ("vi", "en"):
            raise InvalidValue("[report]: lang phải là vi hoặc en", "[report]: lang must be vi or en")
        return cls(days, lang)


def load_report_inputs(store: Store, month: Month, *, as_of: datetime, expiry_window_days: int = 60) -> ReportInputs:
    """Every fact of the month, documents and signature records one by one (for `build_monthly_report`
    alone; `monthly_report` has the database aggregate the documents instead)."""
    with translated_errors(), store.snapshot() as connection:
        return _read_inputs(connection, month, as_of=as_of, expiry_window_days=expiry_window_days)


def _read_inputs(connection, month: Month, *, as_of: datetime, expiry_window_days: int,
                 documents_too: bool = True) -> ReportInputs:
    start, end = month.start.astimezone(timezone.utc), month.end.astimezone(timezone.utc)
    with Session(bind=connection) as session:
        levels = tuple(
            LevelFacts(r.code, r.rank, r.name_vi, r.name_en)
            for r in session.scalars(select(Level).where(_in_force(Level, month)).order_by(Level.rank))
        )
        targets = tuple(
            TargetFacts(r.level_code, Metric(r.metric), r.percent, r.source)
            for r in session.scalars(select(Target).where(_in_force(Target, month)))
            if r.metric in {m.value for m in Metric}
        )
        agencies = tuple(
            AgencyFacts(r.code, r.legacy_code, r.name, r.level_code, r.valid_from, r.valid_until)
            for r in session.scalars(select(Agency))
        )
        documents = () if not documents_too else tuple(
            DocumentFacts(id_, agency, direction == "outgoing", dated_at, secret, electronic, returned_at is not None, reason)
            for id_, agency, direction, dated_at, secret, electronic, returned_at, reason in session.execute(
                select(Document.id, Document.agency_code, Document.direction, Document.dated_at, Document.secret,
                       Document.electronic, Document.returned_at, Document.return_reason)
                .where(Document.dated_at >= start, Document.dated_at < end)
            )
        )
        signatures = () if not documents_too else tuple(
            SignatureFacts(seq, record_id, document_id, kind, indication, corrects)
            for seq, record_id, document_id, kind, indication, corrects in session.execute(
                select(Record.seq, Record.record_id, Record.document_id, Record.signature_kind, Record.indication, Record.corrects)
                .join(Document, Document.id == Record.document_id)
                .where(Document.dated_at >= start, Document.dated_at < end)
            )
        )
        day = as_of.date()
        officials = tuple(
            OfficialFacts(id_, agency, person)
            for id_, agency, person, active_from, active_until in session.execute(
                select(Official.id, Official.agency_code, Official.person_id, Official.active_from, Official.active_until)
            )
            if (active_from is None or active_from <= day) and (active_until is None or active_until >= day)
        )
        certificates = tuple(
            CertificateFacts(r.serial, r.kind, r.agency_code, r.official_id, r.not_before, r.not_after, r.revoked_at)
            for r in session.scalars(select(Certificate))
        )
    return ReportInputs(month, as_of, agencies, levels, targets, documents, signatures, officials, certificates,
                        expiry_window_days=expiry_window_days)


def monthly_report(store: Store, month: Month | str, *, as_of: datetime | None = None, now: datetime | None = None,
                   expiry_window_days: int = 60) -> MonthlyReport:
    """The report of `month` ("YYYY-MM" or a Month). Certificates are judged at `as_of`: by default the end of
    the month, or `now` when the month is not over yet."""
    if isinstance(month, str):
        month = Month.parse(month)
    if as_of is None:
        now = now or datetime.now(timezone.utc)
        as_of = min(month.end, now)
    start, end = month.start.astimezone(timezone.utc), month.end.astimezone(timezone.utc)
    with translated_errors(), store.snapshot() as connection:
        # One snapshot: the roster facts read row by row (small), the documents aggregated by the database.
        inputs = _read_inputs(connection, month, as_of=as_of, expiry_window_days=expiry_window_days,
                              documents_too=False)
        figures = document_figures(connection, start=start, end=end)
    return build_monthly_report(inputs, document_figures=figures)
