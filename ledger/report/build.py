"""The monthly report's pure core: facts in, report out (no database, no clock).

Signing rate (Decree 307/2025, the official formula for communes): outgoing documents that carry both a
valid personal signature and a valid agency signature and were sent over the network, over all outgoing
documents; secret documents excluded. "Valid" means the latest record about the signature (corrections
supersede) has the ETSI indication TOTAL_PASSED.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from ledger.report.model import (
    EMPTY,
    AgencyFigures,
    AgencyReport,
    CertificateFacts,
    DocumentFacts,
    Figure,
    LevelFacts,
    LevelReport,
    Metric,
    MonthlyReport,
    OfficialFacts,
    Rate,
    ReportInputs,
    SignatureFacts,
    TargetFacts,
)

PASSED = "TOTAL_PASSED"
FAILED = "TOTAL_FAILED"
INDETERMINATE = "INDETERMINATE"


def effective_signatures(signatures: tuple[SignatureFacts, ...]) -> list[SignatureFacts]:
    """Drop every record that a later correction supersedes (both stay in the ledger)."""
    superseded = {s.corrects for s in signatures if s.corrects}
    return [s for s in sorted(signatures, key=lambda s: s.seq) if s.record_id not in superseded]


def build_monthly_report(
    inputs: ReportInputs, *, document_figures: dict[str, dict[str, Figure]] | None = None
) -> MonthlyReport:
    """The report from facts. `document_figures` ({agency: {figure: Figure}}, from
    `ledger.report.aggregate`, computed by the database) replaces the per-document work on
    `inputs.documents` and `inputs.signatures`, which are then not read."""
    month = inputs.month
    start, end = month.start, month.end
    by_agency: dict[str, list[DocumentFacts]] = defaultdict(list)
    signatures: dict[int, list[SignatureFacts]] = defaultdict(list)
    if document_figures is None:
        for document in inputs.documents:
            if start <= document.dated_at < end:
                by_agency[document.agency_code].append(document)
        for signature in effective_signatures(inputs.signatures):
            signatures[signature.document_id].append(signature)
        document_counts = {code: len(items) for code, items in by_agency.items()}
    else:
        document_counts = {code: f["handled_total"].count + f["secret_excluded"].count
                           for code, f in document_figures.items()}
    officials: dict[str, list[OfficialFacts]] = defaultdict(list)
    for official in inputs.officials:
        officials[official.agency_code].append(official)
    certificates: dict[str, list[CertificateFacts]] = defaultdict(list)
    for certificate in inputs.certificates:
        certificates[certificate.agency_code].append(certificate)

    levels = {level.code: level for level in inputs.levels}
    targets: dict[str, list[TargetFacts]] = defaultdict(list)
    for target in inputs.targets:
        targets[target.level].append(target)

    warnings: list[str] = []
    grouped: dict[str, list[AgencyReport]] = defaultdict(list)
    known = {a.code for a in inputs.agencies}
    for code in sorted(set(document_counts) - known):
        warnings.append(f"{document_counts[code]} văn bản của cơ quan {code} không có trong danh bạ / "
                        f"{document_counts[code]} document(s) of agency {code} not on the roster")
    for agency in sorted(inputs.agencies, key=lambda a: a.code):
        if not agency.is_active_in(month) and agency.code not in document_counts:
            continue
        if document_figures is None:
            figures = agency_figures(
                by_agency.get(agency.code, []), signatures, officials.get(agency.code, []),
                certificates.get(agency.code, []), inputs,
            )
        else:
            figures = AgencyFigures(**{
                **{name: EMPTY for name in AgencyFigures.FIGURES},
                **document_figures.get(agency.code, {}),
                **_people_figures(officials.get(agency.code, []), certificates.get(agency.code, []), inputs),
            })
        grouped[agency.level].append(_agency_report(agency.code, agency.legacy_code, agency.name, figures, targets.get(agency.level, [])))

    reports = []
    for code in sorted(set(levels) | set(grouped), key=lambda c: (levels[c].rank if c in levels else 99, c)):
        level = levels.get(code)
        if level is None:
            warnings.append(f"cấp {code} không còn trong kỳ {month}: các cơ quan của cấp này không có chỉ tiêu / "
                            f"level {code} is not in force in {month}: its agencies have no target")
            level = LevelFacts(code, 99, code, code)
        agencies = sorted(grouped.get(code, []), key=lambda a: (not a.below_target, -a.shortfall, a.code))
        total = sum((a.figures for a in agencies), start=_empty_figures())
        level_targets = tuple(sorted(targets.get(code, []), key=lambda t: list(Metric).index(t.metric)))
        reports.append(
            LevelReport(
                code=code, rank=level.rank, name_vi=level.name_vi, name_en=level.name_en, in_force=code in levels,
                targets=level_targets, agencies=tuple(agencies),
                totals=_agency_report(code, None, level.name_vi, total, list(level_targets)),
            )
        )
    return MonthlyReport(month=month, as_of=inputs.as_of, levels=tuple(reports), warnings=tuple(warnings))


def _empty_figures() -> AgencyFigures:
    return AgencyFigures(*([EMPTY] * len(AgencyFigures.FIGURES)))


def _agency_report(code, legacy_code, name, figures: AgencyFigures, targets: list[TargetFacts]) -> AgencyReport:
    by_metric = {t.metric: t for t in targets}

    def rate(metric: Metric, numerator: Figure, denominator: Figure) -> Rate:
        target = by_metric.get(metric)
        return Rate(metric, numerator, denominator, target.percent if target else None, target.source if target else None)

    return AgencyReport(
        code=code,
        legacy_code=legacy_code,
        name=name,
        figures=figures,
        rates=(
            rate(Metric.SIGNING_RATE, figures.signed_valid_both, figures.outgoing),
            rate(Metric.ONLINE_RATE, figures.handled_online, figures.handled_total),
            rate(Metric.CERTIFICATE_COVERAGE, figures.officials_covered, figures.officials),
        ),
    )


def _figure(documents: list[DocumentFacts], records: list[SignatureFacts] = (), *, reasons: tuple[str, ...] = ()) -> Figure:
    return Figure(
        len(documents),
        document_ids=tuple(sorted(d.id for d in documents)),
        record_ids=tuple(r.record_id for r in sorted(records, key=lambda r: r.seq)),
        reasons=reasons,
    )


def agency_figures(
    documents: list[DocumentFacts],
    signatures: dict[int, list[SignatureFacts]],
    officials: list[OfficialFacts],
    certificates: list[CertificateFacts],
    inputs: ReportInputs,
) -> AgencyFigures:
    buckets: dict[str, list[DocumentFacts]] = defaultdict(list)
    records: dict[str, list[SignatureFacts]] = defaultdict(list)

    def put(bucket: str, document: DocumentFacts, behind: list[SignatureFacts] = ()) -> None:
        buckets[bucket].append(document)
        records[bucket].extend(behind)

    for document in documents:
        sigs = signatures.get(document.id, [])
        if document.secret:
            put("secret_excluded", document)
            continue
        put("handled_total", document)
        if document.electronic:
            put("handled_online", document)
        if document.outgoing:
            personal = [s for s in sigs if s.kind == "personal" and s.indication == PASSED]
            agency = [s for s in sigs if s.kind == "agency" and s.indication == PASSED]
            put("outgoing", document)
            if personal and agency:
                put("signed_valid_both" if document.electronic else "both_on_paper", document, personal + agency)
            elif personal:
                put("personal_only", document, personal)
            elif agency:
                put("agency_only", document, agency)
            else:
                put("unsigned", document, sigs)
        else:
            put("incoming", document, sigs)
            checked = [s for s in sigs if s.kind != "timestamp"] or sigs
            if not checked:
                put("incoming_unverified", document)
            elif any(s.indication == FAILED for s in checked):
                put("incoming_invalid", document, [s for s in checked if s.indication == FAILED])
            elif any(s.indication != PASSED for s in checked):
                put("incoming_indeterminate", document, [s for s in checked if s.indication != PASSED])
            else:
                put("incoming_valid", document, checked)
            if document.returned:
                put("incoming_returned", document)

    figures = {name: _figure(buckets[name], records[name]) for name in AgencyFigures.FIGURES}
    returned = sorted(buckets["incoming_returned"], key=lambda d: d.id)
    figures["incoming_returned"] = _figure(returned, reasons=tuple(d.return_reason or "" for d in returned))
    figures.update(_people_figures(officials, certificates, inputs))
    return AgencyFigures(**figures)


def _people_figures(officials: list[OfficialFacts], certificates: list[CertificateFacts],
                    inputs: ReportInputs) -> dict[str, Figure]:
    # Certificate coverage (DOMAIN.md): officials with a valid personal certificate / officials on the roster.
    as_of = inputs.as_of
    valid_personal: dict[int, list[str]] = defaultdict(list)
    for certificate in certificates:
        if certificate.kind == "personal" and certificate.official_id is not None and certificate.is_valid_at(as_of):
            valid_personal[certificate.official_id].append(certificate.serial)
    covered = [o for o in officials if valid_personal.get(o.id)]
    horizon = as_of + timedelta(days=inputs.expiry_window_days)
    expiring = sorted(c.serial for c in certificates if c.is_valid_at(as_of) and c.not_after <= horizon)

    figures = {}
    figures["officials"] = Figure(len(officials), official_ids=tuple(sorted(o.id for o in officials)))
    figures["officials_covered"] = Figure(
        len(covered),
        official_ids=tuple(sorted(o.id for o in covered)),
        certificate_serials=tuple(sorted(s for o in covered for s in valid_personal[o.id])),
    )
    figures["expiring_soon"] = Figure(len(expiring), certificate_serials=tuple(expiring))
    return figures
