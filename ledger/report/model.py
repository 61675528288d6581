"""Values of the monthly report: the facts it is built from and the figures it gives.

Pure: no database, no clock. Months are cut in Asia/Ho_Chi_Minh (DOMAIN.md).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.errors import InvalidValue

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self):
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise InvalidValue(f"tháng không hợp lệ: {self.year}-{self.month:02d}", f"invalid month: {self.year}-{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> "Month":
        match = _MONTH.match(str(text).strip())
        if not match:
            raise InvalidValue(f"tháng phải có dạng YYYY-MM: {text!r}", f"month must be YYYY-MM: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: datetime) -> "Month":
        """The month (in Vietnam) a moment belongs to: 2025-07-31T17:30Z is 1 August 00:30 in Hanoi."""
        local = moment.astimezone(VIETNAM)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next(self) -> "Month":
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    @property
    def last_day(self) -> date:
        return self.next.first_day - timedelta(days=1)

    @property
    def start(self) -> datetime:
        """Midnight of the first day in Hanoi (aware)."""
        return datetime.combine(self.first_day, time(0), tzinfo=VIETNAM)

    @property
    def end(self) -> datetime:
        """Midnight of the first day of the next month in Hanoi: the exclusive end."""
        return self.next.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class Metric(enum.Enum):
    SIGNING_RATE = "signing_rate"
    ONLINE_RATE = "online_rate"
    CERTIFICATE_COVERAGE = "certificate_coverage"


# ---------------------------------------------------------------------------------------------- facts in


@dataclass(frozen=True)
class AgencyFacts:
    code: str
    legacy_code: str | None
    name: str
    level: str
    valid_from: date
    valid_until: date | None

    def is_active_in(self, month: Month) -> bool:
        return self.valid_from <= month.last_day and (self.valid_until is None or self.valid_until >= month.first_day)


@dataclass(frozen=True)
class LevelFacts:
    code: str
    rank: int
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class TargetFacts:
    level: str
    metric: Metric
    percent: float
    source: str


@dataclass(frozen=True)
class DocumentFacts:
    id: int
    agency_code: str
    outgoing: bool
    dated_at: datetime
    secret: bool
    electronic: bool
    returned: bool = False
    return_reason: str | None = None


@dataclass(frozen=True)
class SignatureFacts:
    """One ledger record about a document's signature."""

    seq: int
    record_id: str
    document_id: int
    kind: str  # personal | agency | timestamp | unknown
    indication: str  # TOTAL_PASSED | TOTAL_FAILED | INDETERMINATE
    corrects: str | None = None  # record_id this record supersedes


@dataclass(frozen=True)
class OfficialFacts:
    id: int
    agency_code: str
    person_id: str


@dataclass(frozen=True)
class CertificateFacts:
    serial: str
    kind: str  # personal | agency
    agency_code: str
    official_id: int | None
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None

    def is_valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after and (self.revoked_at is None or moment < self.revoked_at)


@dataclass(frozen=True)
class ReportInputs:
    month: Month
    as_of: datetime  # certificate coverage and expiry are judged at this moment
    agencies: tuple[AgencyFacts, ...]
    levels: tuple[LevelFacts, ...]  # the levels in force during the month
    targets: tuple[TargetFacts, ...]  # the targets in force during the month
    documents: tuple[DocumentFacts, ...]
    signatures: tuple[SignatureFacts, ...]
    officials: tuple[OfficialFacts, ...] = ()
    certificates: tuple[CertificateFacts, ...] = ()
    expiry_window_days: int = 60


# ---------------------------------------------------------------------------------------------- figures out


@dataclass(frozen=True)
class Figure:
    """A count and what is behind it, so an auditor can re-derive it."""

    count: int
    document_ids: tuple[int, ...] = ()
    record_ids: tuple[str, ...] = ()
    official_ids: tuple[int, ...] = ()
    certificate_serials: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_json(self, *, drill_down: bool = True) -> dict:
        data: dict = {"count": self.count}
        if not drill_down:
            return data
        for name in ("document_ids", "record_ids", "official_ids", "certificate_serials", "reasons"):
            values = getattr(self, name)
            if values:
                data[name] = list(values)
        return data

    def __add__(self, other: "Figure") -> "Figure":
        return Figure(
            self.count + other.count,
            self.document_ids + other.document_ids,
            self.record_ids + other.record_ids,
            self.official_ids + other.official_ids,
            self.certificate_serials + other.certificate_serials,
            self.reasons + other.reasons,
        )


EMPTY = Figure(0)


@dataclass(frozen=True)
class Rate:
    metric: Metric
    numerator: Figure
    denominator: Figure
    target: float | None  # percent, None where no target is in force
    target_source: str | None = None

    @property
    def percent(self) -> float | None:
        if self.denominator.count == 0:
            return None
        return round(100.0 * self.numerator.count / self.denominator.count, 2)

    @property
    def shortfall(self) -> float:
        """Percentage points below the target (0 when met, without target or without anything to count)."""
        if self.target is None or self.percent is None:
            return 0.0
        return max(0.0, round(self.target - self.percent, 2))

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.percent is None:
            return None
        return self.percent >= self.target

    def to_json(self, *, drill_down: bool = True) -> dict:
        return {
            "percent": self.percent,
            "numerator": self.numerator.to_json(drill_down=drill_down),
            "denominator": self.denominator.to_json(drill_down=drill_down),
            "target": self.target,
            "target_source": self.target_source,
            "meets_target": self.meets_target,
        }


@dataclass(frozen=True)
class AgencyFigures:
    outgoing: Figure  # non-secret outgoing documents: the denominator of the signing rate
    secret_excluded: Figure
    signed_valid_both: Figure  # valid personal + valid agency signature, sent electronically
    both_on_paper: Figure  # valid personal + agency signatures but sent on paper
    personal_only: Figure
    agency_only: Figure
    unsigned: Figure
    handled_online: Figure
    handled_total: Figure
    officials: Figure
    officials_covered: Figure
    expiring_soon: Figure
    incoming: Figure
    incoming_valid: Figure
    incoming_invalid: Figure
    incoming_indeterminate: Figure
    incoming_unverified: Figure
    incoming_returned: Figure

    FIGURES = (
        "outgoing", "secret_excluded", "signed_valid_both", "both_on_paper", "personal_only", "agency_only",
        "unsigned", "handled_online", "handled_total", "officials", "officials_covered", "expiring_soon",
        "incoming", "incoming_valid", "incoming_invalid", "incoming_indeterminate", "incoming_unverified",
        "incoming_returned",
    )

    def __add__(self, other: "AgencyFigures") -> "AgencyFigures":
        return AgencyFigures(*(getattr(self, n) + getattr(other, n) for n in self.FIGURES))

    def to_json(self, *, drill_down: bool = True) -> dict:
        return {name: getattr(self, name).to_json(drill_down=drill_down) for name in self.FIGURES}


@dataclass(frozen=True)
class AgencyReport:
    code: str
    legacy_code: str | None
    name: str
    figures: AgencyFigures
    rates: tuple[Rate, ...]  # signing rate, online rate, certificate coverage

    def rate(self, metric: Metric) -> Rate:
        return next(r for r in self.rates if r.metric is metric)

    @property
    def below_target(self) -> tuple[Metric, ...]:
        return tuple(r.metric for r in self.rates if r.meets_target is False)

    @property
    def shortfall(self) -> float:
        return max((r.shortfall for r in self.rates), default=0.0)

    def to_json(self, *, drill_down: bool = True) -> dict:
        return {
            "code": self.code,
            "legacy_code": self.legacy_code,
            "name": self.name,
            "below_target": [m.value for m in self.below_target],
            "rates": {r.metric.value: r.to_json(drill_down=drill_down) for r in self.rates},
            "figures": self.figures.to_json(drill_down=drill_down),
        }


@dataclass(frozen=True)
class LevelReport:
    code: str
    rank: int
    name_vi: str
    name_en: str
    in_force: bool  # False: agencies of a level that does not exist in this month (e.g. district after July 2025)
    targets: tuple[TargetFacts, ...]
    agencies: tuple[AgencyReport, ...]  # below target first
    totals: AgencyReport

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name_vi": self.name_vi,
            "name_en": self.name_en,
            "in_force": self.in_force,
            "targets": {t.metric.value: {"percent": t.percent, "source": t.source} for t in self.targets},
            "totals": self.totals.to_json(drill_down=False),  # the agencies below list what is behind them
            "agencies": [a.to_json() for a in self.agencies],
        }


@dataclass(frozen=True)
class MonthlyReport:
    month: Month
    as_of: datetime
    levels: tuple[LevelReport, ...]
    warnings: tuple[str, ...] = field(default=())

    def agency(self, code: str) -> AgencyReport:
        for level in self.levels:
            for agency in level.agencies:
                if agency.code == code:
                    return agency
        raise KeyError(code)

    def level(self, code: str) -> LevelReport:
        return next(level for level in self.levels if level.code == code)

    def to_json(self) -> dict:
        return {
            "month": str(self.month),
            "timezone": "Asia/Ho_Chi_Minh",
            "period": {"start": self.month.start.isoformat(), "end": self.month.end.isoformat()},
            "as_of": self.as_of.astimezone(VIETNAM).isoformat(),
            "levels": [level.to_json() for level in self.levels],
            "warnings": list(self.warnings),
        }
