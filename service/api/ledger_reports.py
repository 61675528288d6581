"""The ledger and the monthly report over HTTP: `GET /api/v1/reports/monthly`, `GET /api/v1/ledger/verify`,
the records behind a document, and the roster (agencies and officials imported from CSV)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from service.accounts import Permission, Role
from service.api import payload
from service.errors import BadRequest, Forbidden
from service.guard import require, runtime
from service.openapi import json_response, operation
from service.translation import library_errors

blueprint = Blueprint("ledger_reports", __name__)


@blueprint.get("/reports/monthly")
@operation(
    "The monthly signing-rate report per level and agency against the period's targets",
    tag="reports",
    permission="reports",
    parameters=[
        {"name": "month", "in": "query", "required": True, "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}},
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["vi", "en"]}},
    ],
    responses={
        "200": {"description": "the report", "content": {
            "application/json": {}, "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
        "400": json_response("bad month or format"),
    },
)
def monthly():
    from ledger.report import monthly_report, render_csv, render_xlsx

    require(Permission.REPORTS)
    year, month = payload.month(request.args.get("month"))
    text = f"{year:04d}-{month:02d}"
    output = payload.choice({"format": request.args.get("format", "json")}, "format", ("json", "csv", "xlsx"))
    lang = payload.choice({"lang": request.args.get("lang", "vi")}, "lang", ("vi", "en"))
    with library_errors():
        report = monthly_report(runtime().components.ledger, text, now=runtime().clock())
    if output == "json":
        return jsonify(report.to_json())
    if output == "csv":
        response = Response(render_csv(report, lang=lang), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-ky-so-{text}.csv"'
        return response
    response = Response(
        render_xlsx(report, lang=lang),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-ky-so-{text}.xlsx"'
    return response


@blueprint.get("/ledger/verify")
@operation("Check the hash chain of the ledger: any changed, deleted, inserted or reordered record, and where; "
           "and any document, final number or signed file changed, deleted or added outside the chain (`row`)",
           tag="ledger", permission="ledger",
           responses={"200": json_response("the chain report (`intact` true or false)")})
def verify_ledger():
    from ledger import verify_chain

    require(Permission.LEDGER)
    with library_errors():
        report = verify_chain(runtime().components.ledger)
    return jsonify(report.to_json())


@blueprint.get("/ledger/documents/<int:document_id>/records")
@operation("The ledger records of one document (drill-down)", tag="ledger", permission="ledger")
def document_records(document_id: int):
    from ledger.chain import records_of_document

    require(Permission.LEDGER)
    with library_errors():
        records = records_of_document(runtime().components.ledger, document_id)
    return jsonify({"document_id": document_id, "records": [record.to_json() for record in records]})


def _csv_body() -> tuple[str, str]:
    filename, data = payload.uploaded_file()
    try:
        return filename, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("Tệp CSV phải mã hóa UTF-8", "the CSV file must be UTF-8 encoded") from exc


def roster_agency_of(principal) -> str | None:
    """The agency a roster write is bound to: the caller's (its API key's or account's); None (any agency)
    only for an administrator. Deny by default: a non-administrator bound to no agency writes nothing."""
    if Role.ADMINISTRATOR in principal.roles:
        return None
    if not principal.agency_code:
        raise Forbidden(
            "Chỉ khóa API hoặc tài khoản gắn với một cơ quan (hoặc quản trị viên) mới được sửa danh bạ",
            "roster writes need an API key or account bound to an agency, or an administrator",
        )
    return principal.agency_code


@blueprint.post("/roster/agencies")
@operation("Import agencies (code, name, level, parent...) from CSV: all rows or none", tag="roster",
           permission="roster",
           request_body={"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                                       "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
           responses={"200": json_response("the imported agencies"), "400": json_response("every problem, by line and column")})
def import_agencies():
    from ledger import import_agencies_csv

    principal = require(Permission.ROSTER)
    filename, text = _csv_body()
    with library_errors():
        agencies = import_agencies_csv(runtime().components.ledger, text, source=filename,
                                       within_agency=roster_agency_of(principal))
    runtime().audit(principal.label, "roster.agencies", "ok", target=filename, detail={"count": len(agencies)})
    return jsonify({"imported": len(agencies), "agencies": [a.code for a in agencies]})


@blueprint.post("/roster/officials")
@operation("Import officials (agency, name, title, identifiers, certificate serials) from CSV: all rows or none",
           tag="roster", permission="roster",
           request_body={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
           responses={"200": json_response("the number imported"), "400": json_response("every problem, by line and column")})
def import_officials():
    from ledger import import_officials_csv

    principal = require(Permission.ROSTER)
    filename, text = _csv_body()
    with library_errors():
        count = import_officials_csv(runtime().components.ledger, text, source=filename,
                                     within_agency=roster_agency_of(principal))
    runtime().audit(principal.label, "roster.officials", "ok", target=filename, detail={"count": count})
    return jsonify({"imported": count})
