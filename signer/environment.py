"""What a signature needs from the outside world: trust roots, the TSA, revocation fetching, the clock,
the number allocator. Built once and reused (batch signing, the service) so one timestamper and one
validation context serve many documents (DESIGN.md pitfall).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from asn1crypto import x509

from policies.pdf_limits import PdfLimits
from signer.request import NumberAllocator

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SigningEnvironment:
    """Trust and services for signing.

    - `trust_roots`: the only anchors used for checking certificates and gathering validation data
      (never the operating system's store: DESIGN.md pitfall).
    - `tsa_url`: the RFC 3161 time-stamping authority for B-T and above (the demo PKI's by default in
      the CLI); asked with `http_timeout` seconds per attempt and `tsa_attempts` attempts.
    - `revocation_mode`: how the signer's certificate is checked before signing: "soft-fail" (refuse
      revoked, tolerate unreachable responders), "hard-fail" (also refuse when no answer), "off".
    - `numbers`: the allocator for `issue` numbers (the ledger in the service).
    - `check_cache_seconds`: how long a passed path/revocation check of a certificate is reused (0: never).
    - `pdf_limits`: the bounds on what one document may make us do (decoded bytes, objects, page-tree
      depth, time: `policies.pdf_limits`); a document beyond them is refused with `DocumentTooComplex`.
    """

    def __init__(
        self,
        *,
        trust_roots: Iterable[x509.Certificate],
        tsa_url: str | None = None,
        other_certs: Iterable[x509.Certificate] = (),
        allow_fetching: bool = True,
        revocation_mode: str = "soft-fail",
        numbers: NumberAllocator | None = None,
        clock: Callable[[], datetime] = _now,
        http_timeout: float = 60.0,
        tsa_attempts: int = 3,
        check_cache_seconds: float = 300.0,
        pdf_limits: PdfLimits | None = None,
    ):
        if revocation_mode not in ("soft-fail", "hard-fail", "off"):
            raise ValueError(f"revocation_mode must be soft-fail, hard-fail or off, not {revocation_mode!r}")
        self.trust_roots = tuple(trust_roots)
        self.tsa_url = tsa_url
        self.other_certs = tuple(other_certs)
        self.allow_fetching = allow_fetching
        self.revocation_mode = revocation_mode
        self.numbers = numbers
        self.clock = clock
        self.http_timeout = http_timeout
        self.tsa_attempts = tsa_attempts
        self.check_cache_seconds = check_cache_seconds
        self.pdf_limits = pdf_limits or PdfLimits()
        self._timestamper = None
        self._checked: dict[bytes, datetime] = {}  # certificate SHA-256 -> when its path and status passed

    def recently_checked(self, fingerprint: bytes, moment: datetime) -> bool:
        """True when this certificate's path and revocation status passed within `check_cache_seconds`
        (a batch or the service signs many documents with one certificate: one OCSP round trip, not one per
        document; like an OCSP response cache, a revocation is seen at most that late)."""
        checked = self._checked.get(fingerprint)
        return checked is not None and 0 <= (moment - checked).total_seconds() < self.check_cache_seconds

    def remember_checked(self, fingerprint: bytes, moment: datetime) -> None:
        self._checked[fingerprint] = moment

    def now(self) -> datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return moment

    @property
    def timestamper(self):
        """One timestamper per environment (retries, long timeout, few concurrent requests), or None."""
        if self.tsa_url is None:
            return None
        if self._timestamper is None:
            from signer.timestamping import RetryingTimeStamper

            self._timestamper = RetryingTimeStamper(self.tsa_url, timeout=self.http_timeout,
                                                    attempts=self.tsa_attempts)
        return self._timestamper

    def validation_context(self, *, moment: datetime | None = None, for_embedding: bool = False,
                           extra_certs: Iterable[x509.Certificate] = (), allow_fetching: bool | None = None):
        """A certvalidator context on the explicit trust roots. `for_embedding` keeps fetched revocation
        data for the DSS (B-LT); otherwise it checks one certificate at `moment`."""
        from pyhanko_certvalidator import ValidationContext

        mode = "soft-fail" if self.revocation_mode == "off" else self.revocation_mode
        if for_embedding:
            mode = "hard-fail"
        return ValidationContext(
            trust_roots=list(self.trust_roots),
            other_certs=[*self.other_certs, *extra_certs],
            allow_fetching=self.allow_fetching if allow_fetching is None else allow_fetching,
            revocation_mode=mode,
            moment=moment,
        )
