"""The plugin protocol as document systems speak it: endpoints, request bodies, answers, statuses.

Each call is one WebSocket to `wss://127.0.0.1:8987/<Endpoint>` carrying one text frame; the first message
back goes to the page's callback. Answers are JSON objects with `Status` (0 = success; the values of
`PluginStatus` otherwise) and a readable `Message` ("tiếng Việt / English"). This module is pure: it parses
frames into frozen requests and builds answers; nothing here touches the network or a token.
"""

from __future__ import annotations

import enum
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


class Endpoint(enum.Enum):
    CONFIG = "Config"
    GET_VERSION = "GetVersion"
    GET_CERT_INFO = "GetCertInfo"
    GET_LICENSE_REQUEST = "GetLicenseRequest"
    SIGN_APPROVED = "SignApproved"
    SIGN_ISSUED = "SignIssued"
    SIGN_INCOME = "SignIncome"
    SIGN_APPENDIX = "SignAppendix"
    SIGN_COPY = "SignCopy"
    SIGN_PDF = "SignPDF"
    COMMENT = "Comment"
    SIGN_FILES = "SignFiles"
    VERIFY_PDF = "VerifyPDF"
    SIGN_XML = "SignXML"
    SIGN_MSG = "SignMsg"
    VERIFY_MSG = "VerifyMsg"

    @classmethod
    def from_path(cls, path: str) -> "Endpoint":
        name = path.split("?", 1)[0].strip("/")
        for endpoint in cls:
            if endpoint.value == name:
                return endpoint
        raise PluginError(
            PluginStatus.UNKNOWN_ENDPOINT,
            f"không có chức năng '{name[:60]}' / unknown endpoint '{name[:60]}'",
        )


# The Decree 30 kind of each document-signing endpoint (signer.SignatureKind values).
SIGNING_KINDS = {
    Endpoint.SIGN_APPROVED: "approve",
    Endpoint.SIGN_PDF: "approve",  # a plain personal signature: the approval layout
    Endpoint.SIGN_ISSUED: "issue",
    Endpoint.SIGN_INCOME: "incoming",
    Endpoint.SIGN_APPENDIX: "appendix",
    Endpoint.SIGN_COPY: "copy",
}
# The literal bodies the client sends to the information endpoints.
LITERAL_BODIES = {
    Endpoint.CONFIG: "config",
    Endpoint.GET_VERSION: "GetVersion",
    Endpoint.GET_CERT_INFO: "get_cert_info",
    Endpoint.GET_LICENSE_REQUEST: "request",
}


class PluginStatus(enum.IntEnum):
    """`Status` values of the answers. 0 is success, as the plugin's clients expect; the others are ours,
    stable, and documented in the README."""

    OK = 0
    MALFORMED_REQUEST = 1
    UNKNOWN_ENDPOINT = 2
    ORIGIN_REFUSED = 3
    URL_REFUSED = 4
    DOWNLOAD_FAILED = 5
    UPLOAD_REFUSED = 6
    USER_REFUSED = 7
    PIN_INCORRECT = 8
    PIN_LOCKED = 9
    TOKEN_NOT_PRESENT = 10
    POLICY_REFUSED = 11
    NOT_SUPPORTED = 12
    SIGNING_FAILED = 13
    NO_CERTIFICATE = 14
    NOT_VALID = 15  # VerifyPDF: the report holds a signature that is not TOTAL_PASSED


class PluginError(Exception):
    """A refusal or failure to answer in the plugin's shape; `message` is "tiếng Việt / English"."""

    def __init__(self, status: PluginStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def to_answer(self, **extra) -> dict:
        return {"Status": int(self.status), "Message": self.message, **extra}


def _malformed(vi: str, en: str) -> PluginError:
    return PluginError(PluginStatus.MALFORMED_REQUEST, f"{vi} / {en}")


def _text(body: Mapping, key: str, *, required: bool, limit: int = 4096) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise _malformed(f"thiếu trường {key}", f"missing field {key}")
        return None
    if not isinstance(value, str):
        raise _malformed(f"trường {key} phải là chuỗi", f"field {key} must be a string")
    if len(value) > limit:
        raise _malformed(f"trường {key} dài quá {limit} ký tự", f"field {key} is longer than {limit} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        # these strings reach the consent dialog and HTTP headers: no line breaks or bidi overrides
        raise _malformed(f"trường {key} chứa ký tự điều khiển", f"field {key} contains control characters")
    return value


def _object(frame: str) -> Mapping:
    try:
        body = json.loads(frame)
    except (TypeError, ValueError):
        raise _malformed("nội dung không phải JSON hợp lệ", "the frame is not valid JSON") from None
    if not isinstance(body, Mapping):
        raise _malformed("nội dung phải là một đối tượng JSON", "the frame must be a JSON object")
    return body


@dataclass(frozen=True)
class MetaDatum:
    key: str
    value: str


@dataclass(frozen=True)
class DocumentRequest:
    """The body of SignApproved, SignIssued, SignIncome, SignAppendix, SignCopy, SignPDF."""

    file_url: str
    upload_url: str
    session_id: str | None = None
    jwt_token: str | None = None
    doc_number: str | None = None
    issued_date: str | None = None
    metadata: tuple[MetaDatum, ...] = ()

    @classmethod
    def from_frame(cls, frame: str) -> "DocumentRequest":
        body = _object(frame)
        return cls(
            file_url=_text(body, "FileName", required=True),
            upload_url=_text(body, "FileUploadHandler", required=True),
            session_id=_text(body, "SessionId", required=False),
            jwt_token=_text(body, "JWTToken", required=False, limit=16384),
            doc_number=_text(body, "DocNumber", required=False, limit=200),
            issued_date=_text(body, "IssuedDate", required=False, limit=64),
            metadata=_metadata(body.get("MetaData")),
        )


def _metadata(value) -> tuple[MetaDatum, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 100:
        raise _malformed("MetaData phải là danh sách (tối đa 100)", "MetaData must be a list (at most 100)")
    pairs = []
    for item in value:
        if not isinstance(item, Mapping):
            raise _malformed("mỗi MetaData phải có Key và Value", "each MetaData item needs Key and Value")
        key = _text(item, "Key", required=True, limit=200)
        datum = item.get("Value", "")
        if not isinstance(datum, str):
            datum = json.dumps(datum, ensure_ascii=False) if datum is not None else ""
        pairs.append(MetaDatum(key, _text({"Value": datum}, "Value", required=False, limit=4096) or ""))
    return tuple(pairs)


@dataclass(frozen=True)
class BatchFile:
    file_id: str
    file_name: str
    url: str


@dataclass(frozen=True)
class BatchRequest:
    """The body of SignFiles: approve every file of the list, asking consent once."""

    upload_url: str
    files: tuple[BatchFile, ...]
    session_id: str | None = None
    jwt_token: str | None = None

    MAX_FILES = 20  # the consent dialog lists them all (2000 characters at most)

    @classmethod
    def from_frame(cls, frame: str) -> "BatchRequest":
        body = _object(frame)
        files = body.get("Files")
        if not isinstance(files, list) or not files:
            raise _malformed("Files phải là danh sách không rỗng", "Files must be a non-empty list")
        if len(files) > cls.MAX_FILES:
            raise _malformed(f"tối đa {cls.MAX_FILES} tệp một lần", f"at most {cls.MAX_FILES} files at once")
        parsed = []
        for item in files:
            if not isinstance(item, Mapping):
                raise _malformed("mỗi tệp phải là đối tượng JSON", "each file must be a JSON object")
            file_id = item.get("FileID")
            if isinstance(file_id, int) and not isinstance(file_id, bool):
                file_id = str(file_id)
            parsed.append(BatchFile(
                file_id=_text({"FileID": file_id}, "FileID", required=True, limit=200),
                file_name=_text(item, "FileName", required=False, limit=255) or "",
                url=_text(item, "URL", required=True),
            ))
        if len({f.file_id for f in parsed}) != len(parsed):
            raise _malformed("FileID bị trùng", "duplicate FileID")
        return cls(
            upload_url=_text(body, "FileUploadHandler", required=True),
            files=tuple(parsed),
            session_id=_text(body, "SessionId", required=False),
            jwt_token=_text(body, "JWTToken", required=False, limit=16384),
        )


@dataclass(frozen=True)
class VerifyRequest:
    file_url: str
    session_id: str | None = None

    @classmethod
    def from_frame(cls, frame: str) -> "VerifyRequest":
        body = _object(frame)
        return cls(file_url=_text(body, "FileName", required=True),
                   session_id=_text(body, "SessionId", required=False))


def check_literal(endpoint: Endpoint, frame: str) -> None:
    """The information endpoints take a fixed word; anything else is malformed (never silently accepted)."""
    expected = LITERAL_BODIES[endpoint]
    if frame.strip().strip('"') != expected:
        raise _malformed(f"{endpoint.value} cần nội dung '{expected}'",
                         f"{endpoint.value} expects the body '{expected}'")


def encode(answer: Mapping) -> str:
    return json.dumps(answer, ensure_ascii=False)
