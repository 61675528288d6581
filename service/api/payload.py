"""Parsing request bodies into values, with errors that name the field (in Vietnamese and English).

Views never read `request.json[...]` directly: a missing, mistyped or malformed field is a 400 that says which
field and why, before anything is stored. Codes and identifiers have strict shapes; free text (a title) is
kept verbatim but may not hold control characters, and everything reaches SQL only as bound parameters.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import unicodedata

from flask import request

from service.errors import BadRequest, NotAPdf

MAX_IDENTIFIER = 2**31 - 1  # ids are INTEGER columns: 32-bit signed on PostgreSQL
MAX_JSON_DEPTH = 32  # our bodies nest three levels; anything deeper is hostile (issue 9, item 11)
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100  # document dates outside these are typing errors or hostile

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # agency codes such as 000.00.00.G22, MST:0100686209
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def json_object() -> dict:
    if not request.is_json:
        raise BadRequest("Nội dung phải là JSON (Content-Type: application/json)", "body must be JSON (application/json)")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the C decoder gives up on [[[[...]]]] 100,000 deep
        data = None
        _too_deep()
    if not isinstance(data, dict):
        raise BadRequest("Nội dung JSON phải là một đối tượng", "JSON body must be an object")
    if _depth(data) > MAX_JSON_DEPTH:
        _too_deep()
    return data


def _too_deep():
    raise BadRequest(f"Nội dung JSON lồng quá {MAX_JSON_DEPTH} cấp", f"JSON body is nested deeper than {MAX_JSON_DEPTH} levels")


def _depth(value) -> int:
    """How deep containers nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def identifier(value, name: str) -> int:
    """A database id: a positive integer that fits its column (a JSON number or a decimal string); one
    beyond it (2**64 and up once gave a 500) is a precise 400 before any query."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_IDENTIFIER:
        raise BadRequest(
            f"'{name}' phải là số nguyên dương không quá {MAX_IDENTIFIER}",
            f"'{name}' must be a positive integer of at most {MAX_IDENTIFIER}",
            detail={"field": name},
        )
    return value


def reject_unknown(data: dict, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise BadRequest(
            f"Trường không được hỗ trợ: {', '.join(unknown)}",
            f"unknown field(s): {', '.join(unknown)}",
            detail={"fields": unknown},
        )


def _missing(name: str) -> BadRequest:
    return BadRequest(f"Thiếu trường '{name}'", f"field '{name}' is required", detail={"field": name})


def text(data: dict, name: str, *, required: bool = True, max_length: int = 500, default: str | None = None) -> str | None:
    """Free text: kept verbatim (quotes, semicolons and all), but no control characters and bounded."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return default
    if not isinstance(value, str):
        raise BadRequest(f"Trường '{name}' phải là chuỗi", f"field '{name}' must be a string", detail={"field": name})
    if len(value) > max_length:
        raise BadRequest(
            f"Trường '{name}' dài quá {max_length} ký tự",
            f"field '{name}' is longer than {max_length} characters",
            detail={"field": name},
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise BadRequest(
            f"Trường '{name}' chứa ký tự điều khiển", f"field '{name}' contains control characters", detail={"field": name}
        )
    return unicodedata.normalize("NFC", value)


def code(data: dict, name: str, *, required: bool = True) -> str | None:
    """An identifier such as an agency code: letters, digits and . _ : - only."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, str) or not CODE.match(value):
        raise BadRequest(
            f"Trường '{name}' không đúng định dạng mã (chữ, số, . _ : -; tối đa 64 ký tự)",
            f"field '{name}' is not a valid code (letters, digits, . _ : -; at most 64)",
            detail={"field": name},
        )
    return value


def choice(data: dict, name: str, choices: tuple[str, ...], *, required: bool = True, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is None:
        if required:
            raise _missing(name)
        return None
    if value not in choices:
        raise BadRequest(
            f"Trường '{name}' phải là một trong: {', '.join(choices)}",
            f"field '{name}' must be one of: {', '.join(choices)}",
            detail={"field": name, "allowed": list(choices)},
        )
    return value


def boolean(data: dict, name: str, *, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"Trường '{name}' phải là true/false", f"field '{name}' must be true or false", detail={"field": name})
    return value


def date(data: dict, name: str, *, required: bool = True) -> dt.date | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(
            f"Trường '{name}' phải là ngày dạng YYYY-MM-DD", f"field '{name}' must be a date YYYY-MM-DD", detail={"field": name}
        ) from exc
    check_year(day.year, name)
    return day


def check_year(year: int, name: str) -> None:
    """Issue 9, item 12: a document dated in year 1 or 9999 is refused, not registered."""
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise BadRequest(
            f"Trường '{name}' phải có năm từ {EARLIEST_YEAR} đến {LATEST_YEAR}",
            f"field '{name}' must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}",
            detail={"field": name},
        )


def base64_bytes(data: dict, name: str, *, max_length: int = 64 * 1024) -> bytes:
    value = data.get(name)
    if value is None or value == "":
        raise _missing(name)
    if not isinstance(value, str) or len(value) > max_length * 4 // 3 + 4:
        raise BadRequest(f"Trường '{name}' phải là base64", f"field '{name}' must be base64", detail={"field": name})
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(
            f"Trường '{name}' không phải base64 hợp lệ", f"field '{name}' is not valid base64", detail={"field": name}
        ) from exc


def month(value: str | None) -> tuple[int, int]:
    if not value:
        raise BadRequest("Thiếu tham số 'month' (YYYY-MM)", "query parameter 'month' (YYYY-MM) is required")
    match = MONTH.match(value)
    if not match:
        raise BadRequest(
            f"Tháng không hợp lệ: {value!r} (cần YYYY-MM)", f"invalid month {value!r} (expected YYYY-MM)"
        )
    return int(match.group(1)), int(match.group(2))


def uploaded_file(*, field: str = "file") -> tuple[str, bytes]:
    """The uploaded file: multipart field `file`, or the raw body (with an optional X-Filename header)."""
    if request.files:
        storage = request.files.get(field)
        if storage is None:
            raise BadRequest(
                f"Thiếu tệp trong trường multipart '{field}'", f"multipart field '{field}' is missing"
            )
        return (storage.filename or "upload"), storage.read()
    body = request.get_data(cache=False)
    if not body:
        raise BadRequest("Không có tệp nào được gửi", "no file in the request body")
    name = request.headers.get("X-Filename") or ("document.p7s" if request.mimetype == "application/pkcs7-signature" else "document.pdf")
    return name, body


def require_pdf(content: bytes) -> None:
    if not content.lstrip()[:5] == b"%PDF-":
        raise NotAPdf("Tệp không phải PDF (không có phần đầu %PDF-)", "not a PDF: no %PDF- header")
