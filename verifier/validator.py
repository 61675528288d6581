"""`Verifier`: one trust setup, one HTTP cache and one event loop, reused for every file of a batch.

DESIGN.md pitfall: batch modes must reuse one validation context. A certvalidator `ValidationContext` is
bound to one validation time, and every signature has its own signing time, so what is shared is what costs:
the trust manager built from the anchors, the configured intermediates, the HTTP cache of CRLs, OCSP
responses and AIA certificates, and the algorithm policy. Each signature gets a light context over them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from policies.anchors import TrustAnchor
from verifier.cades import judge_cades
from verifier.chain import ChainCache
from verifier.fetching import HttpCache, build_fetchers
from verifier.pades import judge_pdf
from verifier.signature import DocumentData, Environment
from verifier.errors import VerifierError
from verifier.report import FileReport, Message, Severity
from verifier.settings import ValidationSettings

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
log = logging.getLogger(__name__)


class Verifier:
    """Validates PDFs and CAdES signatures into `FileReport`s. Thread-safe: each thread runs its
    validations on its own event loop, so one slow or hostile file never holds up the others (issue 9: no
    process-wide lock across work on untrusted input); the caches they share lock themselves. Create one
    per process or worker and keep it."""

    def __init__(self, settings: ValidationSettings | None = None, *,
                 clock: Callable[[], datetime] | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.settings = settings or ValidationSettings()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_bytes = max_bytes
        self.anchors: tuple[TrustAnchor, ...] = self.settings.anchors.select(
            self.settings.anchor_candidates, explicit=self.settings.explicit_roots)
        # Explicit roots only: never the operating system's trust list (DESIGN.md pitfall).
        self._trust_manager = SimpleTrustManager.build(
            trust_roots=[CertTrustAnchor(a.certificate) for a in self.anchors])
        self._cache = HttpCache(ttl=self.settings.cache_seconds)
        self._chain_cache = ChainCache(ttl=self.settings.cache_seconds)
        # SHA-1 in CA chains passes certvalidator and is judged by policies.algorithms (warning or refusal);
        # MD2/MD5 and RSA keys under 2048 bits in the chain are refused outright.
        self._algorithm_policy = DisallowWeakAlgorithmsPolicy(weak_hash_algos=frozenset({"md2", "md5"}),
                                                              rsa_key_size_threshold=2048)
        self._lock = threading.Lock()  # guards the list of loops, never a validation
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._local = threading.local()
        self._closed = False

    @property
    def fetched_urls(self) -> list[str]:
        """Every URL fetched over HTTP by this verifier (after rewriting), in order."""
        return list(self._cache.fetched)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            loops, self._loops = self._loops, []
        for loop in loops:
            if not loop.is_closed() and not loop.is_running():
                loop.close()

    def __enter__(self) -> "Verifier":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _environment(self) -> Environment:
        settings = self.settings
        fetchers = None if settings.offline else build_fetchers(settings.http, self._cache,
                                                                allow_aia=settings.allow_aia)
        revocation_mode = "require" if settings.policy.require_revocation_info else "soft-fail"

        def new_context(*, moment: datetime, document: DocumentData,
                        extra_certs=()) -> ValidationContext:
            return ValidationContext(
                trust_manager=self._trust_manager,
                other_certs=list(settings.intermediates) + list(document.certs) + list(extra_certs),
                moment=moment,
                allow_fetching=not settings.offline,
                fetchers=fetchers,
                crls=list(document.crls),
                ocsps=list(document.ocsps),
                revocation_mode=revocation_mode,
                retroactive_revinfo=settings.policy.accept_later_revocation_info,
                algorithm_usage_policy=self._algorithm_policy,
                # Clock drift allowed for revocation data; validity bounds are checked exactly in
                # verifier.chain (this tolerance would otherwise widen them by a second).
                time_tolerance=timedelta(seconds=1),
            )

        # `at` moves the reference time: revocation freshness then differs, so nothing is reused.
        return Environment(policy=settings.policy, new_context=new_context, now=settings.at or self._clock(),
                           chain_cache=None if settings.at else self._chain_cache, url_of=self._cache.url_of,
                           pdf_limits=settings.pdf_limits)

    def _run(self, coroutine):
        loop = getattr(self._local, "loop", None)
        with self._lock:
            if self._closed:
                coroutine.close()
                raise VerifierError("this Verifier is closed; create a new one")
            if loop is None or loop.is_closed():
                loop = asyncio.new_event_loop()
                self._local.loop = loop
                self._loops.append(loop)
        return loop.run_until_complete(coroutine)

    def verify_pdf(self, data: bytes, *, path: str = "<memory>") -> FileReport:
        """Every signature and document timestamp of a PDF. Never raises for a bad or hostile file."""
        if len(data) > self.max_bytes:
            return _too_large(path, len(data), self.max_bytes)
        return self._judged(judge_pdf(data, path=path, env=self._environment()), path)

    def verify_cades(self, signature: bytes, content: bytes, *, path: str = "<memory>") -> FileReport:
        """A detached CMS signature (.p7s, DER or PEM) over `content`."""
        if len(content) > self.max_bytes or len(signature) > self.max_bytes:
            return _too_large(path, max(len(content), len(signature)), self.max_bytes)
        return self._judged(judge_cades(signature, content, path=path, env=self._environment()), path)

    def _judged(self, coroutine, path: str) -> FileReport:
        """Run one judgement; an exception that escapes it is our fault, not the file's: INDETERMINATE with
        an "internal error" message, logged (a verdict is never made of a crash)."""
        try:
            return self._run(coroutine)
        except VerifierError:
            raise
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.error("internal error while validating %s", path, exc_info=exc)
            text = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
            return FileReport.internal_error(path, Message(
                "internal-error", f"internal error of the verifier, not a fault of the document: {text}",
                f"lỗi nội bộ của phần mềm kiểm tra, không phải lỗi của văn bản: {text}", Severity.ERROR))

    def check_certificate(self, certificate, *, other_certs=(), moment: datetime | None = None,
                          role_en: str = "signer", role_vi: str = "người ký"):
        """The chain, revocation and algorithm status of a signing certificate at `moment` (default: the
        validation time), for signatures judged outside the verifier (edXML packages).
        Returns a `verifier.certificates.CertificateStatus`."""
        from verifier.certificates import judge_certificate

        return self._run(judge_certificate(certificate, other_certs=tuple(other_certs), moment=moment,
                                           env=self._environment(), role_en=role_en, role_vi=role_vi))

    def verify_file(self, path: str | Path) -> FileReport:
        """A file on disk: `X.p7s` is checked against `X` beside it; anything else is read as a PDF."""
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                return _too_large(str(path), size, self.max_bytes)
            if path.suffix.lower() == ".p7s":
                content_path = path.with_suffix("")
                if not content_path.exists():
                    return FileReport.format_failure(str(path), Message(
                        "format.no-content", f"the signed content {content_path.name} is not beside the signature",
                        f"không tìm thấy tệp nội dung {content_path.name} bên cạnh chữ ký", Severity.ERROR))
                return self.verify_cades(path.read_bytes(), content_path.read_bytes(), path=str(path))
            return self.verify_pdf(path.read_bytes(), path=str(path))
        except OSError as exc:
            return FileReport.format_failure(str(path), Message(
                "format.unreadable-file", f"the file cannot be read: {exc.strerror or exc}",
                f"không đọc được tệp: {exc.strerror or exc}", Severity.ERROR))


def _too_large(path: str, size: int, limit: int) -> FileReport:
    return FileReport.format_failure(path, Message(
        "format.too-large", f"the file is {size} bytes, over the limit of {limit} bytes",
        f"tệp có {size} byte, vượt giới hạn {limit} byte", Severity.ERROR))
