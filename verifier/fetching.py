"""Fetching revocation data and issuer certificates over HTTP: timeouts, retries, a cache, URL rewrites.

DOMAIN.md: real endpoints are slow (seconds to minutes), so timeouts are long and retries few; some
certificates carry an internal URL (`http://ocsp.ca.ptc`) that must be rewritten to the public one. The
cache lives in one `HttpCache` shared by every validation of a `Verifier`, so a batch of a thousand files
downloads each CRL once. pyhanko-certvalidator's requests fetchers do the protocol work; this module only
changes how they reach the network.
"""

from __future__ import annotations

import hashlib
import threading
import time
from asyncio import to_thread
from dataclasses import dataclass, field

import requests
from requests.structures import CaseInsensitiveDict
from pyhanko_certvalidator.fetchers.api import Fetchers, FetchLimits
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import RequestsCertificateFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher

USER_AGENT = "kyso-verifier/0.1"


@dataclass(frozen=True)
class UrlRewrite:
    """Replace a URL prefix (`http://ocsp.ca.ptc` -> `http://ocsp.ca.gov.vn`)."""

    prefix: str
    replacement: str


@dataclass
class HttpCache:
    """Responses by (method, URL, body), kept for `ttl` seconds; records every URL actually fetched."""

    ttl: float = 600.0
    _entries: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fetched: list[str] = field(default_factory=list)
    _urls: dict = field(default_factory=dict)  # SHA-256 of a response body -> the URL it came from

    def url_of(self, der: bytes) -> str | None:
        """Where a CRL or OCSP response (its DER bytes) was fetched from, if it was."""
        return self._urls.get(hashlib.sha256(der).digest())

    def remember(self, url: str, body: bytes) -> None:
        with self._lock:
            self.fetched.append(url)
            self._urls[hashlib.sha256(body).digest()] = url

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)


@dataclass(frozen=True)
class _Response:
    """What the fetchers read from a response: the body and the content type."""

    content: bytes
    headers: CaseInsensitiveDict
    status_code: int = 200


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 30.0
    retries: int = 2
    rewrites: tuple[UrlRewrite, ...] = ()

    def rewrite(self, url: str) -> str:
        for rule in self.rewrites:
            if url.startswith(rule.prefix):
                return rule.replacement + url[len(rule.prefix):]
        return url


class _NotThere(requests.RequestException):
    """A 4xx answer: the resource is not at that URL; the fetchers treat it like any fetch failure."""


class _RewritingMixin:
    """Overrides the GET/POST of pyhanko-certvalidator's requests fetchers (rewrite, retry, cache)."""

    _http: HttpSettings
    _cache: HttpCache

    def _exchange(self, method: str, url: str, data: bytes | None, headers: dict) -> _Response:
        target = self._http.rewrite(url)
        key = (method, target, data)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        last: Exception | None = None
        for attempt in range(self._http.retries + 1):
            try:
                response = requests.request(method, target, data=data, headers=headers,
                                            timeout=self._http.timeout)
                if 400 <= response.status_code < 500:
                    raise _NotThere(f"{target}: HTTP status {response.status_code}")  # retrying cannot help
                if response.status_code != 200:
                    raise requests.RequestException(f"{target}: HTTP status {response.status_code}")
                result = _Response(response.content, CaseInsensitiveDict(response.headers))
                self._cache.put(key, result)
                self._cache.remember(target, response.content)
                return result
            except _NotThere:
                raise
            except requests.RequestException as exc:
                last = exc
                if attempt < self._http.retries:
                    time.sleep(min(0.2 * 2 ** attempt, 2.0))
        assert last is not None
        raise last  # the fetchers translate RequestException into their own fetch errors

    def _get(self, url, *, acceptable_content_types):
        headers = {"Accept": ",".join(acceptable_content_types), "User-Agent": USER_AGENT}
        return to_thread(self._exchange, "GET", url, None, headers)

    def _post(self, url, data, *, content_type, acceptable_content_types):
        headers = {"Accept": ",".join(acceptable_content_types), "User-Agent": USER_AGENT,
                   "Content-Type": content_type}
        return to_thread(self._exchange, "POST", url, data, headers)


class _OCSPFetcher(_RewritingMixin, RequestsOCSPFetcher):
    pass


class _CRLFetcher(_RewritingMixin, RequestsCRLFetcher):
    pass


class _CertFetcher(_RewritingMixin, RequestsCertificateFetcher):
    pass


def build_fetchers(http: HttpSettings, cache: HttpCache, *, allow_aia: bool) -> Fetchers:
    """Fresh fetchers (with their own request budget) over the shared cache, for one file."""
    budget = FetchBudget(FetchLimits(max_cert_requests=50 if allow_aia else 0))
    # OCSP requests go without a nonce so that identical requests hit the cache across a batch; the
    # response's producedAt is still checked for freshness by certvalidator.
    fetchers = [
        _OCSPFetcher(per_request_timeout=http.timeout, request_nonces=False, budget=budget),
        _CRLFetcher(per_request_timeout=http.timeout, budget=budget),
        _CertFetcher(per_request_timeout=http.timeout, budget=budget),
    ]
    for fetcher in fetchers:
        fetcher._http = http
        fetcher._cache = cache
    return Fetchers(ocsp_fetcher=fetchers[0], crl_fetcher=fetchers[1], cert_fetcher=fetchers[2])
