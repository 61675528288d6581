"""The ledger's one error hierarchy. SQLAlchemy and driver exceptions are translated at the package boundary.

Every error carries a Vietnamese and an English message: clerks and auditors read them.
"""

from __future__ import annotations

from dataclasses import dataclass


def _rebuild(cls: type, state: dict) -> "LedgerError":
    error = cls.__new__(cls)
    Exception.__init__(error, f"{state.get('vi')} / {state.get('en')}")
    error.__dict__.update(state)
    return error


class LedgerError(Exception):
    """Base of every error the ledger raises. `str()` gives "Vietnamese / English"."""

    def __init__(self, vi: str, en: str):
        self.vi = vi
        self.en = en
        super().__init__(f"{vi} / {en}")

    def message(self, lang: str = "vi") -> str:
        return self.vi if lang == "vi" else self.en

    def __reduce__(self):
        # Subclasses take other constructor arguments: rebuild from the state, so errors cross processes
        # (multiprocessing, worker pools) intact.
        return (_rebuild, (self.__class__, dict(self.__dict__)))


class StoreUnavailable(LedgerError):
    """The database cannot be reached, created or migrated."""


class InvalidValue(LedgerError):
    """A value handed to the ledger is malformed (a digest that is not hex, a naive datetime, ...)."""


class UnknownAgency(LedgerError):
    def __init__(self, code: str):
        self.code = code
        super().__init__(f"không có cơ quan mã {code!r} trong danh bạ", f"no agency with code {code!r} on the roster")


class UnknownDocument(LedgerError):
    def __init__(self, document_id: object):
        self.document_id = document_id
        super().__init__(f"không có văn bản số hiệu nội bộ {document_id}", f"no document with id {document_id}")


class UnknownRecord(LedgerError):
    def __init__(self, record_id: str):
        self.record_id = record_id
        super().__init__(f"không có bản ghi sổ cái {record_id}", f"no ledger record {record_id}")


class UnknownCertificate(LedgerError):
    def __init__(self, serial: str):
        self.serial = serial
        super().__init__(f"không có chứng thư số sê-ri {serial} trong danh bạ", f"no certificate with serial {serial} on the roster")


class UnknownOfficial(LedgerError):
    def __init__(self, official_id: object):
        self.official_id = official_id
        super().__init__(f"không có cán bộ {official_id} trong danh bạ", f"no official {official_id} on the roster")


class DuplicateDocumentNumber(LedgerError):
    """Decree 30, art. 15: a number is unique per agency, year and series."""


class Conflict(LedgerError):
    """The data would break a uniqueness rule of the roster or the documents (the database refused it)."""


@dataclass(frozen=True)
class CsvProblem:
    """One error of an imported CSV file, located by line (1 = header) and column."""

    line: int
    column: str | None
    column_number: int | None
    vi: str
    en: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column_number} ({self.column})" if self.column else "")
        where_vi = f"dòng {self.line}" + (f", cột {self.column_number} ({self.column})" if self.column else "")
        return f"{where_vi}: {self.vi} / {where}: {self.en}"


class RosterImportError(LedgerError):
    """A roster CSV file was refused; `problems` lists every error found. Nothing was stored."""

    def __init__(self, source: str, problems: list[CsvProblem] | tuple[CsvProblem, ...]):
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        head = "; ".join(str(p) for p in self.problems[:20])
        more = f" (+{count - 20})" if count > 20 else ""
        super().__init__(
            f"tệp {source} có {count} lỗi, không lưu gì",
            f"{source} has {count} error(s), nothing stored: {head}{more}",
        )


class RosterOutsideAgency(RosterImportError):
    """A roster write bound to one agency (its API key's or user's) named rows outside that agency and its
    subordinates; `problems` lists each such row. Nothing was stored."""


class IdentifierOfAnotherOfficial(Conflict):
    """A person identifier (CCCD/CMND/HC) names an official of the roster other than the holder being enrolled:
    one identifier belongs to one official."""
