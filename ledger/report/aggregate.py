"""The document figures of the monthly report, aggregated in the database (issue 12).

`ledger.report.build.agency_figures` says what each figure means, document by document, in Python; this
module asks the database the same question in one grouped query, so that a month of ~80,000 records
crosses to Python as about ten rows per agency: per (agency, bucket) the count, the document ids and the
records behind it (as "seq:record_id" lists, sorted here by seq). Tests compare both paths figure by figure
on SQLite and PostgreSQL (tests/integration/ledger/test_report_in_sql.py).

The rules, as in build.py: a record superseded by a correction about a document of the month is left out;
secret documents only count as `secret_excluded`; outgoing documents go to exactly one of signed_valid_both,
both_on_paper, personal_only, agency_only, unsigned by their valid (TOTAL_PASSED) personal and agency
signatures; incoming ones to one of incoming_unverified / invalid / indeterminate / valid by their
non-timestamp records (all records when there are only timestamps).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ledger.models import UtcDateTime
from ledger.report.model import Figure

# One pass: the month's documents, their records less the superseded ones, one row per document with its
# flags and the candidate lists of records behind it, then one row per (agency, bucket, ...).
_QUERY = """
WITH md AS (
    SELECT id, agency_code, direction, secret, electronic, returned_at
    FROM ledger_documents WHERE dated_at >= :start AND dated_at < :end
), mr AS (
    SELECT r.seq, r.record_id, r.document_id, r.signature_kind AS kind, r.indication, r.corrects
    FROM ledger_records r JOIN md ON md.id = r.document_id
), superseded AS (
    SELECT DISTINCT corrects FROM mr WHERE corrects IS NOT NULL
), eff AS (
    SELECT mr.seq, mr.record_id, mr.document_id, mr.kind, mr.indication, {pair} AS pair
    FROM mr LEFT JOIN superseded s ON s.corrects = mr.record_id WHERE s.corrects IS NULL
), flags AS (
    SELECT md.id, md.agency_code, md.direction, md.secret, md.electronic, md.returned_at,
        MAX(CASE WHEN eff.kind = 'personal' AND eff.indication = 'TOTAL_PASSED' THEN 1 ELSE 0 END) AS p,
        MAX(CASE WHEN eff.kind = 'agency' AND eff.indication = 'TOTAL_PASSED' THEN 1 ELSE 0 END) AS a,
        COUNT(eff.seq) AS n,
        SUM(CASE WHEN eff.kind <> 'timestamp' THEN 1 ELSE 0 END) AS nc,
        MAX(CASE WHEN eff.kind <> 'timestamp' AND eff.indication = 'TOTAL_FAILED' THEN 1 ELSE 0 END) AS fc,
        MAX(CASE WHEN eff.indication = 'TOTAL_FAILED' THEN 1 ELSE 0 END) AS fa,
        MAX(CASE WHEN eff.kind <> 'timestamp' AND eff.indication <> 'TOTAL_PASSED' THEN 1 ELSE 0 END) AS xc,
        MAX(CASE WHEN eff.indication <> 'TOTAL_PASSED' THEN 1 ELSE 0 END) AS xa,
        {agg}(eff.pair, ',') AS all_pairs,
        {agg}(CASE WHEN eff.kind IN ('personal', 'agency') AND eff.indication = 'TOTAL_PASSED'
                   THEN eff.pair END, ',') AS passed_pairs,
        {agg}(CASE WHEN eff.kind <> 'timestamp' THEN eff.pair END, ',') AS checked_pairs,
        {agg}(CASE WHEN eff.kind <> 'timestamp' AND eff.indication = 'TOTAL_FAILED' THEN eff.pair END, ',')
            AS checked_failed,
        {agg}(CASE WHEN eff.indication = 'TOTAL_FAILED' THEN eff.pair END, ',') AS all_failed,
        {agg}(CASE WHEN eff.kind <> 'timestamp' AND eff.indication <> 'TOTAL_PASSED' THEN eff.pair END, ',')
            AS checked_other,
        {agg}(CASE WHEN eff.indication <> 'TOTAL_PASSED' THEN eff.pair END, ',') AS all_other
    FROM md LEFT JOIN eff ON eff.document_id = md.id
    GROUP BY md.id, md.agency_code, md.direction, md.secret, md.electronic, md.returned_at
), classified AS (
    SELECT id, agency_code, electronic, direction, returned_at, all_pairs, passed_pairs, nc,
        checked_pairs, checked_failed, all_failed, checked_other, all_other,
        CASE WHEN secret THEN 'secret_excluded'
             WHEN direction = 'outgoing' THEN
                 CASE WHEN p = 1 AND a = 1 THEN
                          CASE WHEN electronic THEN 'signed_valid_both' ELSE 'both_on_paper' END
                      WHEN p = 1 THEN 'personal_only' WHEN a = 1 THEN 'agency_only' ELSE 'unsigned' END
             ELSE
                 CASE WHEN n = 0 THEN 'incoming_unverified'
                      WHEN (CASE WHEN nc > 0 THEN fc ELSE fa END) = 1 THEN 'incoming_invalid'
                      WHEN (CASE WHEN nc > 0 THEN xc ELSE xa END) = 1 THEN 'incoming_indeterminate'
                      ELSE 'incoming_valid' END
        END AS bucket
    FROM flags
)
SELECT agency_code, bucket, electronic, direction, returned_at IS NOT NULL AS returned, COUNT(*) AS n,
    {agg}(CAST(id AS TEXT), ',') AS ids,
    {agg}(CASE
        WHEN bucket IN ('signed_valid_both', 'both_on_paper', 'personal_only', 'agency_only') THEN passed_pairs
        WHEN bucket = 'unsigned' THEN all_pairs
        WHEN bucket = 'incoming_invalid' THEN (CASE WHEN nc > 0 THEN checked_failed ELSE all_failed END)
        WHEN bucket = 'incoming_indeterminate' THEN (CASE WHEN nc > 0 THEN checked_other ELSE all_other END)
        WHEN bucket = 'incoming_valid' THEN (CASE WHEN nc > 0 THEN checked_pairs ELSE all_pairs END)
        END, ',') AS behind,
    {agg}(CASE WHEN direction <> 'outgoing' AND bucket <> 'secret_excluded' THEN all_pairs END, ',') AS incoming
FROM classified GROUP BY agency_code, bucket, electronic, direction, returned_at IS NOT NULL
"""

_RETURNED = """
SELECT agency_code, id, return_reason FROM ledger_documents
WHERE dated_at >= :start AND dated_at < :end AND returned_at IS NOT NULL AND NOT secret
    AND direction <> 'outgoing'
ORDER BY id
"""

DOCUMENT_FIGURES = (
    "outgoing", "secret_excluded", "signed_valid_both", "both_on_paper", "personal_only", "agency_only",
    "unsigned", "handled_online", "handled_total", "incoming", "incoming_valid", "incoming_invalid",
    "incoming_indeterminate", "incoming_unverified", "incoming_returned",
)


def _sql(template: str, dialect: str) -> str:
    if dialect == "postgresql":
        return template.format(agg="string_agg", pair="(CAST(mr.seq AS TEXT) || ':' || mr.record_id)")
    return template.format(agg="group_concat", pair="(mr.seq || ':' || mr.record_id)")


def _parameters(statement: str, start: datetime, end: datetime):
    return text(statement).bindparams(bindparam("start", start, type_=UtcDateTime),
                                      bindparam("end", end, type_=UtcDateTime))


def _ids(joined: str | None) -> list[int]:
    return [int(item) for item in joined.split(",")] if joined else []


def _pairs(joined: str | None) -> list[tuple[int, str]]:
    if not joined:
        return []
    out = []
    for item in joined.split(","):
        seq, _, record_id = item.partition(":")
        out.append((int(seq), record_id))
    return out


def document_figures(connection: Connection, *, start: datetime, end: datetime) -> dict[str, dict[str, Figure]]:
    """{agency code: {figure name: Figure}} for the document figures of the month [start, end)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # For this transaction only: JIT compilation of the grouped query cost more than running it (0.5 s
        # against ~0.3 s measured), and its sorts spill to disk with the default 4 MB work_mem.
        connection.execute(text("SET LOCAL jit = off"))
        connection.execute(text("SET LOCAL work_mem = '64MB'"))
    documents: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    records: dict[str, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    for row in connection.execute(_parameters(_sql(_QUERY, dialect), start, end)):
        ids = _ids(row.ids)
        into = documents[row.agency_code]
        into[row.bucket].extend(ids)
        records[row.agency_code][row.bucket].extend(_pairs(row.behind))
        if row.bucket == "secret_excluded":
            continue
        into["handled_total"].extend(ids)
        if row.electronic:
            into["handled_online"].extend(ids)
        if row.direction == "outgoing":
            into["outgoing"].extend(ids)
        else:
            into["incoming"].extend(ids)
            records[row.agency_code]["incoming"].extend(_pairs(row.incoming))
    returned: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in connection.execute(_parameters(_RETURNED, start, end)):
        returned[row.agency_code].append((row.id, row.return_reason or ""))
    out: dict[str, dict[str, Figure]] = {}
    for agency in set(documents) | set(returned):
        figures = {}
        for name in DOCUMENT_FIGURES:
            if name == "incoming_returned":
                items = returned.get(agency, [])
                figures[name] = Figure(len(items), document_ids=tuple(i for i, _ in items),
                                       reasons=tuple(reason for _, reason in items))
                continue
            ids = sorted(documents[agency].get(name, []))
            behind = sorted(records[agency].get(name, []))
            figures[name] = Figure(len(ids), document_ids=tuple(ids), record_ids=tuple(r for _, r in behind))
        out[agency] = figures
    return out
