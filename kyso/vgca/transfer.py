"""Downloads from and uploads to the document system, fenced so that the plugin endpoint cannot be used
by a web page to read from or post to other hosts (SSRF).

What is allowed (README, "Plugin-compatible endpoint"):
- `http` and `https` URLs only, without user names or passwords in them;
- on the calling page's own origin (scheme, host and port alike), or on an origin listed in
  `[bridge] vgca_allowed_hosts` (a document system that keeps its files on another server);
- a redirect is followed (at most `MAX_REDIRECTS`) only when its target passes the same rule;
- downloads stop at `max_download_bytes` and every connection has a timeout; the whole transfer a deadline.
`SessionId` goes along as a cookie and `JWTToken` as `Authorization: Bearer`, so the document system can
authenticate the plugin as it authenticates the page. `requests` errors end here as `PluginError`.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass

import requests

from kyso.vgca.protocol import MetaDatum, PluginError, PluginStatus

MAX_REDIRECTS = 3
MAX_ANSWER_BYTES = 1_048_576


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` in lower case without the default port, or None when `url` has no http(s) host."""
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    host = parsed.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parsed.scheme]
    return f"{parsed.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs a call from `caller_origin` may download from or upload to."""

    caller_origin: str | None
    allowed_origins: frozenset[str] = frozenset()

    def check(self, url: str, *, field: str) -> str:
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme.lower() not in ("http", "https"):
            raise PluginError(
                PluginStatus.URL_REFUSED,
                f"{field}: chỉ chấp nhận địa chỉ http hoặc https / {field}: only http and https URLs are allowed",
            )
        if parsed.username or parsed.password:
            raise PluginError(
                PluginStatus.URL_REFUSED,
                f"{field}: địa chỉ không được chứa tên người dùng hoặc mật khẩu / "
                f"{field}: a URL must not carry a user name or password",
            )
        origin = origin_of(url)
        if origin is None:
            raise PluginError(PluginStatus.URL_REFUSED,
                              f"{field}: địa chỉ không hợp lệ / {field}: not a valid URL")
        if origin != self.caller_origin and origin not in self.allowed_origins:
            raise PluginError(
                PluginStatus.URL_REFUSED,
                f"{field}: máy chủ {origin} không phải của trang gọi ({self.caller_origin or 'không có'}) "
                f"và không nằm trong vgca_allowed_hosts / {field}: {origin} is neither the calling page's origin "
                f"({self.caller_origin or 'none'}) nor in vgca_allowed_hosts",
            )
        return url


@dataclass(frozen=True)
class Credentials:
    session_id: str | None = None
    jwt_token: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": "kyso-vgca-plugin"}
        if self.session_id:
            # a caller may pass a whole cookie string ("ASP.NET_SessionId=..."); a bare value is SessionId=
            headers["Cookie"] = self.session_id if "=" in self.session_id else f"SessionId={self.session_id}"
        if self.jwt_token:
            headers["Authorization"] = f"Bearer {self.jwt_token}"
        return headers


@dataclass(frozen=True)
class Limits:
    max_download_bytes: int = 50 * 1024 * 1024
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class UploadAnswer:
    """What the document system's FileUploadHandler answered (`{"Status": true, "FileName", "FileServer"}`)."""

    file_name: str
    file_server: str
    raw: dict


def _download_error(url: str, vi: str, en: str) -> PluginError:
    return PluginError(PluginStatus.DOWNLOAD_FAILED, f"tải tệp {url} thất bại: {vi} / download of {url} failed: {en}")


def download(url: str, *, policy: UrlPolicy, credentials: Credentials, limits: Limits,
             field: str = "FileName") -> bytes:
    """GET `url` (following only allowed redirects) and return the body, at most `max_download_bytes`."""
    deadline = time.monotonic() + limits.timeout_seconds
    current = policy.check(url, field=field)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = requests.get(current, headers=credentials.headers(), stream=True, allow_redirects=False,
                                    timeout=(min(10.0, limits.timeout_seconds), limits.timeout_seconds))
        except requests.RequestException as exc:
            raise _download_error(current, f"không kết nối được ({type(exc).__name__})",
                                  f"cannot connect ({type(exc).__name__})") from exc
        with response:
            if response.is_redirect:
                location = urllib.parse.urljoin(current, response.headers.get("Location", ""))
                try:
                    current = policy.check(location, field=f"{field} (chuyển hướng / redirect)")
                except PluginError as refused:
                    raise PluginError(PluginStatus.URL_REFUSED, refused.message) from None
                continue
            if response.status_code != 200:
                raise _download_error(current, f"máy chủ trả lời HTTP {response.status_code}",
                                      f"the server answered HTTP {response.status_code}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_download_bytes:
                raise _download_error(current, f"tệp lớn hơn giới hạn {limits.max_download_bytes} byte",
                                      f"the file is larger than the {limits.max_download_bytes}-byte limit")
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(65536):
                    size += len(chunk)
                    if size > limits.max_download_bytes:
                        raise _download_error(current, f"tệp lớn hơn giới hạn {limits.max_download_bytes} byte",
                                              f"the file is larger than the {limits.max_download_bytes}-byte limit")
                    if time.monotonic() > deadline:
                        raise _download_error(current, f"quá thời gian {limits.timeout_seconds:g} giây",
                                              f"took longer than {limits.timeout_seconds:g} s")
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise _download_error(current, f"kết nối bị ngắt ({type(exc).__name__})",
                                      f"the connection broke ({type(exc).__name__})") from exc
            return b"".join(chunks)
    raise _download_error(url, f"quá {MAX_REDIRECTS} lần chuyển hướng", f"more than {MAX_REDIRECTS} redirects")


def file_name_of(url: str, default: str = "van-ban.pdf") -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '\\/"')[:200]
    return name or default


def upload(url: str, pdf: bytes, *, file_name: str, metadata: tuple[MetaDatum, ...], policy: UrlPolicy,
           credentials: Credentials, limits: Limits) -> UploadAnswer:
    """POST the signed file as multipart field `uploadfile` (MetaData pairs as form fields); no redirects."""
    policy.check(url, field="FileUploadHandler")
    try:
        response = requests.post(
            url, headers=credentials.headers(), allow_redirects=False, stream=True,
            files={"uploadfile": (file_name, pdf, "application/pdf")},
            data=[(m.key, m.value) for m in metadata],
            timeout=(min(10.0, limits.timeout_seconds), limits.timeout_seconds),
        )
    except requests.RequestException as exc:
        raise PluginError(PluginStatus.UPLOAD_REFUSED,
                          f"không gửi được tệp đã ký tới {url} ({type(exc).__name__}) / "
                          f"cannot send the signed file to {url} ({type(exc).__name__})") from exc
    with response:
        body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        if response.status_code != 200:
            raise PluginError(PluginStatus.UPLOAD_REFUSED,
                              f"máy chủ nhận tệp trả lời HTTP {response.status_code} / "
                              f"the upload handler answered HTTP {response.status_code}")
    try:
        answer = json.loads(body) if len(body) <= MAX_ANSWER_BYTES else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PluginError(PluginStatus.UPLOAD_REFUSED,
                          "máy chủ nhận tệp không trả lời JSON / the upload handler did not answer JSON")
    if answer.get("Status") is not True:
        handler_message = str(answer.get("Message") or "")[:1000]
        raise PluginError(PluginStatus.UPLOAD_REFUSED,
                          f"máy chủ nhận tệp từ chối: {handler_message} / the upload handler refused: {handler_message}")
    return UploadAnswer(file_name=str(answer.get("FileName") or file_name),
                        file_server=str(answer.get("FileServer") or ""), raw=answer)
