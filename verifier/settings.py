"""What the verifier trusts and how it may reach the network, built once and reused for a batch.

`ValidationSettings.from_config(mapping)` reads the `[verifier]` table of `kyso.toml` and rejects unknown
keys; `kyso verify` and the service add trust roots given on the command line or found in the demo PKI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import x509

from policies.anchors import AnchorSet, load_certificates
from policies.decision import PolicyError
from policies.pdf_limits import PdfLimits, PdfLimitsError
from policies.validation import ValidationPolicy
from verifier.errors import SettingsError
from verifier.fetching import HttpSettings, UrlRewrite

# DOMAIN.md: some VGCA certificates carry the internal OCSP address; the public one answers for it.
DEFAULT_REWRITES = (UrlRewrite("http://ocsp.ca.ptc", "http://ocsp.ca.gov.vn"),)

KNOWN_KEYS = frozenset({
    "trust", "trust_store", "anchors", "intermediates", "offline", "allow_aia", "timeout", "retries",
    "url_rewrites", "policy", "cache_seconds", "pdf_limits",
})


@dataclass(frozen=True)
class ValidationSettings:
    """Everything a validation depends on besides the document and the clock."""

    explicit_roots: tuple[tuple[str, x509.Certificate], ...] = ()  # (label, certificate): demo PKI, --trust
    anchor_candidates: tuple[x509.Certificate, ...] = ()  # accepted only when they match an enabled pin
    anchors: AnchorSet = field(default_factory=AnchorSet.default)
    intermediates: tuple[x509.Certificate, ...] = ()  # the configured store (real PDFs embed only the leaf)
    policy: ValidationPolicy = field(default_factory=ValidationPolicy.default)
    offline: bool = False  # only the document's own validation data and configured data
    allow_aia: bool = True  # fetch missing issuers from the AIA caIssuers URL (never when offline)
    http: HttpSettings = field(default_factory=lambda: HttpSettings(rewrites=DEFAULT_REWRITES))
    cache_seconds: float = 600.0
    at: datetime | None = None  # validate as of this time instead of now (`--at`)
    # Bounds on what one file may make us do (issue 9: Flate bombs, 20,000 fields, deep page trees).
    pdf_limits: PdfLimits = field(default_factory=PdfLimits)

    def with_trust(self, *certificates: tuple[str, x509.Certificate]) -> "ValidationSettings":
        return replace(self, explicit_roots=self.explicit_roots + tuple(certificates))

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any], *, base: Path | None = None) -> "ValidationSettings":
        """Settings from the `[verifier]` table: paths are relative to `base` (the kyso home)."""
        unknown = sorted(set(mapping) - KNOWN_KEYS)
        if unknown:
            raise SettingsError(f"[verifier]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_KEYS))}")
        base = base or Path.cwd()

        def path(value: str) -> Path:
            candidate = Path(value).expanduser()
            return candidate if candidate.is_absolute() else base / candidate

        explicit = tuple(
            (str(p), cert) for p in _as_list(mapping.get("trust")) for cert in read_certificates(path(p))
        )
        candidates = tuple(cert for d in _as_list(mapping.get("trust_store")) for cert in read_folder(path(d)))
        intermediates = tuple(cert for d in _as_list(mapping.get("intermediates")) for cert in read_folder(path(d)))
        try:
            anchors = AnchorSet.default()
            if "anchors" in mapping:
                anchors = anchors.only(_as_list(mapping["anchors"]))
            policy = ValidationPolicy.default()
            if mapping.get("policy"):
                policy = ValidationPolicy.from_toml(path(mapping["policy"]).read_text(encoding="utf-8"))
        except (PolicyError, OSError) as exc:
            raise SettingsError(f"[verifier]: {exc}") from exc
        rewrites = mapping.get("url_rewrites", {})
        if not isinstance(rewrites, Mapping):
            raise SettingsError("[verifier] url_rewrites must be a table of prefix = replacement")
        try:
            http = HttpSettings(
                timeout=float(mapping.get("timeout", 30)),
                retries=int(mapping.get("retries", 2)),
                rewrites=tuple(UrlRewrite(str(k), str(v)) for k, v in rewrites.items()) + DEFAULT_REWRITES,
            )
            cache_seconds = float(mapping.get("cache_seconds", 600))
            limits = mapping.get("pdf_limits", {})
            if not isinstance(limits, Mapping):
                raise SettingsError("[verifier] pdf_limits must be a table (max_decoded_bytes = ..., ...)")
            pdf_limits = PdfLimits.from_config(limits)
        except PdfLimitsError as exc:
            raise SettingsError(f"[verifier.pdf_limits]: {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"[verifier]: {exc}") from exc
        return cls(
            explicit_roots=explicit, anchor_candidates=candidates, anchors=anchors, intermediates=intermediates,
            policy=policy, offline=_as_bool(mapping.get("offline", False)),
            allow_aia=_as_bool(mapping.get("allow_aia", True)), http=http, cache_seconds=cache_seconds,
            pdf_limits=pdf_limits,
        )


def read_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates of one DER/PEM file; a SettingsError naming the file otherwise."""
    try:
        return load_certificates(path.read_bytes())
    except OSError as exc:
        raise SettingsError(f"cannot read certificate file {path}: {exc.strerror or exc}") from exc
    except PolicyError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def read_folder(folder: Path) -> list[x509.Certificate]:
    if not folder.is_dir():
        raise SettingsError(f"certificate folder {folder} does not exist")
    found: list[x509.Certificate] = []
    for item in sorted(folder.iterdir()):
        if item.suffix.lower() in (".crt", ".cer", ".der", ".pem"):
            found.extend(read_certificates(item))
    return found


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in (s.strip() for s in value.split(",")) if v]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    raise SettingsError(f"[verifier]: expected a list, got {value!r}")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"[verifier]: expected true or false, got {value!r}")
