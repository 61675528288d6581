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

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # agency codes such as 000.00.00.G22, MST:0100686209
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def json_object() -> dict:
    if not request.is_json:
        raise BadRequest("Nội dung phải là JSON (Content-Type: application/json)", "body must be JSON (application/json)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("Nội dung JSON phải là một đối tượng", "JSON body must be an object")
    return data


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
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(
            f"Trường '{name}' phải là ngày dạng YYYY-MM-DD", f"field '{name}' must be a date YYYY-MM-DD", detail={"field": name}
        ) from exc


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
