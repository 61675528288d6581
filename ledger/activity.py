"""A generated year of activity for load tests, benchmarks and demos: agencies, officials, certificates,
documents and about a million signatures, bulk-inserted with a valid hash chain.

Deterministic for a seed. Writes straight into the tables with multi-row inserts while holding the chain's
append lock; meant for an empty or quiet database (it numbers documents itself).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, text, update

from ledger.chain import lock_head
from ledger.covered import CoveredKind, covering_content
from ledger.entries import format_time, record_hash
from ledger.models import Agency, Certificate, ChainHead, Document, Official, Record
from ledger.report.model import Month
from ledger.store import Store

CITY_AGENCIES = 24  # the city People's Committee and 23 departments
BATCH = 20_000


@dataclass
class ActivitySummary:
    """What was generated, per month ("YYYY-MM"): the exact figures a report over it must show."""

    agencies: int = 0
    officials: int = 0
    documents: int = 0
    records: int = 0
    per_month: dict[str, Counter] = field(default_factory=dict)

    def month(self, month: str) -> Counter:
        return self.per_month.setdefault(month, Counter())


def generate_year(
    store: Store,
    *,
    year: int = 2025,
    agencies: int = 150,
    outgoing_per_month: int = 200,
    incoming_per_month: int = 80,
    officials_per_agency: int = 10,
    months: tuple[int, ...] = tuple(range(1, 13)),
    seed: int = 2025,
    code_prefix: str = "G",
) -> ActivitySummary:
    """Generate `agencies` agencies (24 at city level, the rest communes) and, for each month, documents with
    their signatures: about (3 × outgoing + 2.9 × incoming) × agencies × months ledger records (the signatures and one
    covering record per registration, ledger.covered; 1.4 million at
    the defaults). Returns the exact tallies per month."""
    rng = random.Random(seed)
    cover_ids = random.Random(f"covered:{seed}")  # apart from `rng`: the generated activity stays what it was
    summary = ActivitySummary()
    clock = datetime(year, 1, 1, tzinfo=timezone.utc)
    with store.transaction() as session:
        lock_head(session)
        seq, prev_hash = session.execute(select(ChainHead.last_seq, ChainHead.last_hash).where(ChainHead.id == 1)).one()
        next_document = (session.scalar(select(func.max(Document.id))) or 0) + 1
        next_official = (session.scalar(select(func.max(Official.id))) or 0) + 1
        codes = []
        agency_rows, official_rows, certificate_rows = [], [], []
        for i in range(agencies):
            city = i < CITY_AGENCIES
            code = f"{code_prefix}{i:03d}"
            codes.append(code)
            agency_rows.append(dict(
                code=code, legacy_code=None, name=(f"Sở số {i}" if city else f"UBND xã số {i}"),
                level_code="city" if city else "commune", parent_code=None,
                valid_from=date(2008, 8, 1), valid_until=None,
            ))
            # The agency's seal certificate, and personal certificates for most officials.
            certificate_rows.append(dict(serial=f"{code_prefix.lower()}a{i:05x}", kind="agency", agency_code=code, official_id=None,
                                         subject=None, not_before=datetime(year - 1, 1, 1, tzinfo=timezone.utc),
                                         not_after=datetime(year + 3, 1, 1, tzinfo=timezone.utc), revoked_at=None, revocation_reason=None))
            for j in range(officials_per_agency):
                official_id = next_official
                next_official += 1
                official_rows.append(dict(id=official_id, person_id=f"CCCD:{seed % 1000:03d}{i:04d}{j:05d}", identifiers=f"CCCD:{seed % 1000:03d}{i:04d}{j:05d}",
                                          agency_code=code, full_name=f"Cán bộ {i}-{j}", title=None, active_from=None, active_until=None))
                if rng.random() < 0.93:
                    not_after = datetime(year, 1, 1, tzinfo=timezone.utc) + timedelta(days=rng.randint(30, 1500))
                    certificate_rows.append(dict(serial=f"{code_prefix.lower()}p{official_id:07x}", kind="personal", agency_code=code,
                                                 official_id=official_id, subject=None,
                                                 not_before=datetime(year - 2, 1, 1, tzinfo=timezone.utc),
                                                 not_after=not_after, revoked_at=None, revocation_reason=None))
        connection = session.connection()  # Core executemany: the ORM's bulk path costs 3x here
        connection.execute(Agency.__table__.insert(), agency_rows)
        connection.execute(Official.__table__.insert(), official_rows)
        connection.execute(Certificate.__table__.insert(), certificate_rows)
        summary.agencies, summary.officials = len(agency_rows), len(official_rows)

        documents: list[dict] = []
        records: list[dict] = []

        def flush() -> None:
            if documents:
                _bulk_insert(connection, Document.__table__, documents)
                documents.clear()
            if records:
                _bulk_insert(connection, Record.__table__, records)
                records.clear()

        numbers: Counter = Counter()
        for month_number in months:
            month = Month(year, month_number)
            tally = summary.month(str(month))
            span = int((month.end - month.start).total_seconds())
            for code in codes:
                for direction, count in (("outgoing", outgoing_per_month), ("incoming", incoming_per_month)):
                    for _ in range(count):
                        dated_at = (month.start + timedelta(seconds=rng.randrange(span))).astimezone(timezone.utc)
                        secret = rng.random() < 0.02
                        electronic = rng.random() < 0.95
                        series = "secret" if secret else ("incoming" if direction == "incoming" else "default")
                        numbers[(code, series)] += 1
                        document_id = next_document
                        next_document += 1
                        documents.append(dict(
                            id=document_id, agency_code=code, direction=direction, dated_at=dated_at, year=year,
                            series=series, number=numbers[(code, series)], notation="QĐ-UBND" if direction == "outgoing" else None,
                            doc_type="QĐ" if direction == "outgoing" else "CV", title=None, secret=secret,
                            electronic=electronic, counterpart_code=None, external_id=None, returned_at=None,
                            return_reason=None, registered_at=dated_at,
                        ))
                        # The registration enters the chain as the service's would (ledger.covered).
                        seq += 1
                        clock += timedelta(microseconds=1000)
                        content = covering_content(CoveredKind.DOCUMENT, documents[-1], agency_code=code,
                                                   record_id=uuid.UUID(int=cover_ids.getrandbits(128), version=4).hex,
                                                   recorded_at=clock)
                        digest = record_hash(prev_hash, content)
                        content.update(seq=seq, prev_hash=prev_hash, hash=digest)
                        prev_hash = digest
                        records.append(content)
                        # Which signatures the document carries, and whether each is valid.
                        roll = rng.random()
                        if direction == "outgoing":
                            kinds = (["personal", "agency"] if roll < 0.90 else ["personal"] if roll < 0.95
                                     else ["agency"] if roll < 0.97 else [])
                            purpose = {"personal": "approve", "agency": "issue"}
                        else:
                            kinds = ["personal", "agency"] if roll < 0.9 else ["agency"]
                            purpose = {"personal": "incoming", "agency": "incoming"}
                        outcomes = []
                        signing_time = format_time(dated_at)
                        for kind in kinds:
                            indication = "TOTAL_PASSED" if rng.random() < 0.99 else ("TOTAL_FAILED" if rng.random() < 0.5 else "INDETERMINATE")
                            outcomes.append((kind, indication))
                            seq += 1
                            clock += timedelta(microseconds=1000)
                            content = {
                                "record_id": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                                "recorded_at": format_time(clock),
                                "event": "signed" if direction == "outgoing" else "verified",
                                "document_id": document_id,
                                "agency_code": code,
                                "signature_kind": kind,
                                "purpose": purpose[kind],
                                "certificate_serial": f"{rng.getrandbits(64):x}",
                                "signer_name": "Cán bộ" if kind == "personal" else "Cơ quan",
                                "signer_identifiers": "",
                                "signed_digest": f"{rng.getrandbits(256):064x}",
                                "signing_time": signing_time,
                                "signing_time_source": "timestamp",
                                "indication": indication,
                                "sub_indication": None if indication == "TOTAL_PASSED" else "HASH_FAILURE",
                                "corrects": None,
                                "note": None,
                            }
                            digest = record_hash(prev_hash, content)
                            content.update(seq=seq, prev_hash=prev_hash, hash=digest, covers=None)
                            prev_hash = digest
                            records.append(content)
                        _tally(tally, direction, secret, electronic, outcomes)
                        summary.documents += 1
                        summary.records += len(kinds) + 1  # its signatures and its covering record
                        if len(records) >= BATCH:
                            flush()
        flush()
        session.execute(update(ChainHead).where(ChainHead.id == 1).values(last_seq=seq, last_hash=prev_hash))
        if store.dialect == "postgresql":
            for table in ("ledger_documents", "ledger_officials"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    return summary


def _bulk_insert(connection, table, rows: list[dict]) -> None:
    """PostgreSQL: COPY (several times faster than multi-row INSERTs); SQLite: executemany."""
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    raw = connection.connection.driver_connection  # psycopg 3, inside the session's transaction
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def _tally(tally: Counter, direction: str, secret: bool, electronic: bool, outcomes: list[tuple[str, str]]) -> None:
    if secret:
        tally["secret_excluded"] += 1
        return
    tally["handled_total"] += 1
    tally["handled_online"] += electronic
    valid = {kind for kind, indication in outcomes if indication == "TOTAL_PASSED"}
    if direction == "outgoing":
        tally["outgoing"] += 1
        if {"personal", "agency"} <= valid:
            tally["signed_valid_both" if electronic else "both_on_paper"] += 1
        elif "personal" in valid:
            tally["personal_only"] += 1
        elif "agency" in valid:
            tally["agency_only"] += 1
        else:
            tally["unsigned"] += 1
    else:
        tally["incoming"] += 1
        indications = {indication for _, indication in outcomes}
        if "TOTAL_FAILED" in indications:
            tally["incoming_invalid"] += 1
        elif "INDETERMINATE" in indications:
            tally["incoming_indeterminate"] += 1
        else:
            tally["incoming_valid"] += 1
