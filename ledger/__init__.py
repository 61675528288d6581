"""The append-only, hash-chained record of documents and signatures, and the monthly rate reports.

A library (no Flask, no click). Open the database with `open_store(url)` (migrates it), then:
- roster: `import_agencies_csv`, `import_officials_csv`, `add_agency`, `enrol_certificate`, `revoke_certificate`;
- documents: `register_document(DocumentDraft)`, `issue_number`, `link_signed_file`, `mark_returned`;
- numbering: `SqlNumberAllocator(store).allocate(agency_code, year, series)`;
- the chain: `append(store, LedgerEntry)`, `verify_chain(store)`;
- reports: `ledger.report.monthly_report(store, month)` and its renderers.
"""

from ledger.chain import append, append_in, append_many, chain_head, correct_record, records_of_document, seal_current_head
from ledger.seal import HeadSeal
from ledger.integrity import ChainBroken, ChainProblem, ChainReport, ProblemKind, verify_chain
from ledger.documents import (
    Direction,
    DocumentDraft,
    DocumentInfo,
    find_document_by_digest,
    find_document_by_external_id,
    get_document,
    issue_number,
    link_signed_file,
    mark_returned,
    register_document,
)
from ledger.entries import Indication, LedgerEntry, LedgerRecord, RecordEvent, SignatureKind, TimeSource
from ledger.errors import (
    Conflict,
    CsvProblem,
    DuplicateDocumentNumber,
    InvalidValue,
    LedgerError,
    RosterImportError,
    StoreUnavailable,
    UnknownAgency,
    UnknownCertificate,
    UnknownDocument,
    UnknownOfficial,
    UnknownRecord,
)
from ledger.numbering import DEFAULT_SERIES, INCOMING_SERIES, SECRET_SERIES, NumberAllocator, SqlNumberAllocator
from ledger.roster import AgencyInfo, add_agency, check_certificate_holder, enrol_certificate, get_agency, revoke_certificate
from ledger.roster_csv import import_agencies_csv, import_officials_csv
from ledger.store import Store, create_engine, migrate, open_store

__all__ = [name for name in dir() if not name.startswith("_")]
