"""Settings of the central service, from the `[service]` table of kyso.toml (and `KYSO_SERVICE_*`).

Built by `ServiceSettings.from_config`, which rejects unknown keys (deny by default). Nothing here opens a
file or a connection: `create_app(settings)` does the work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields, replace
from typing import Any

from service.errors import ServiceConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ServiceConfigError(f"[service] {name}: expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ServiceConfigError(f"[service] {name}: expected an integer, got {value!r}") from exc


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ServiceConfigError(f"[service] {name}: expected true or false, got {value!r}")


def _as_list(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ServiceConfigError(f"[service] {name}: expected a list of strings, got {value!r}")


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the service needs to start. `database_url` comes from `[database] url` or the home."""

    database_url: str
    # Signs the session cookie and the CSRF tokens. A random one per process is safe for one process only:
    # several gunicorn workers or hosts must share one from configuration.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    max_upload_bytes: int = 20 * 1024 * 1024
    # A stored validation report (per language) is at most this large (issue 9: amplification).
    max_report_bytes: int = 2 * 1024 * 1024
    signing_session_ttl_seconds: int = 600
    # The time-stamping authority (RFC 3161) for B-T and later; the demo PKI's /pki/tsa by default.
    tsa_url: str | None = None
    # Where the kyso token bridge listens, for the signing page's kyso-bridge.js.
    bridge_url: str = "http://127.0.0.1:8988"
    # The PKI files (CA certificates, trust roots) of the kyso home, when it has one.
    pki_dir: str | None = None
    # Mount the PKI endpoints (CRLs, OCSP, TSA) of `ca` at /pki in this service.
    mount_pki: bool = True
    # Certificates (PEM or DER files) the service trusts as roots, and intermediates to complete chains.
    trust_roots: tuple[str, ...] = ()
    intermediates: tuple[str, ...] = ()
    # Label of a token holding the service's own agency (seal) certificate, which signs verification
    # receipts (its PIN from KYSO_RECEIPT_PIN); receipts are unsigned without one.
    receipt_token: str | None = None
    cookie_secure: bool = False
    # The PAdES level of issued documents (`[signer] level` of kyso.toml): B-LT at least (archives, issue 6);
    # B-LTA adds a document timestamp over the validation data (ETSI EN 319 142-1, 5.4.3).
    issue_level: str = "B-LT"
    default_language: str = "vi"
    trusted_proxies: int = 0
    # edxml.EdxmlSettings from the home's `[edxml]` table (package size limit, SHA-1 end date); None: defaults.
    edxml: Any = None

    KNOWN = frozenset(
        {
            "secret_key",
            "max_upload_bytes",
            "max_report_bytes",
            "signing_session_ttl_seconds",
            "tsa_url",
            "bridge_url",
            "mount_pki",
            "cookie_secure",
            "default_language",
            "trusted_proxies",
            "database_url",
            "pki_dir",
            "trust_roots",
            "intermediates",
            "receipt_token",
            "issue_level",
        }
    )

    @classmethod
    def from_config(cls, mapping: dict[str, Any], *, database_url: str, pki_dir: str | None = None) -> "ServiceSettings":
        """Validate the `[service]` table; an unknown key is an error that names it."""
        unknown = sorted(set(mapping) - cls.KNOWN)
        if unknown:
            raise ServiceConfigError(
                f"[service]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(cls.KNOWN))}"
            )
        values: dict[str, Any] = {"database_url": mapping.get("database_url") or database_url}
        if mapping.get("pki_dir") or pki_dir:
            values["pki_dir"] = str(mapping.get("pki_dir") or pki_dir)
        if "secret_key" in mapping:
            secret = str(mapping["secret_key"])
            if len(secret) < 32:
                raise ServiceConfigError("[service] secret_key: at least 32 characters")
            values["secret_key"] = secret
        for name in ("max_upload_bytes", "max_report_bytes", "signing_session_ttl_seconds", "trusted_proxies"):
            if name in mapping:
                number = _as_int(name, mapping[name])
                if number < (0 if name == "trusted_proxies" else 1):
                    raise ServiceConfigError(f"[service] {name}: must be positive, got {number}")
                values[name] = number
        for name in ("mount_pki", "cookie_secure"):
            if name in mapping:
                values[name] = _as_bool(name, mapping[name])
        if "issue_level" in mapping:
            level = str(mapping["issue_level"])
            if level not in ("B-T", "B-LT", "B-LTA"):
                raise ServiceConfigError(f"[signer] level ([service] issue_level): B-T, B-LT or B-LTA, got {level!r}")
            # Issued documents are archived: never below B-LT.
            values["issue_level"] = "B-LTA" if level == "B-LTA" else "B-LT"
        for name in ("tsa_url", "bridge_url", "receipt_token"):
            if name in mapping:
                values[name] = str(mapping[name])
        for name in ("trust_roots", "intermediates"):
            if name in mapping:
                values[name] = _as_list(name, mapping[name])
        if "default_language" in mapping:
            language = str(mapping["default_language"])
            if language not in ("vi", "en"):
                raise ServiceConfigError(f"[service] default_language: vi or en, got {language!r}")
            values["default_language"] = language
        return cls(**values)

    @classmethod
    def from_home(cls, home) -> "ServiceSettings":
        """Settings from a `kyso.config.Home` (its kyso.toml and KYSO_SERVICE_* environment)."""
        from edxml import EdxmlSettings, SettingsError

        service = dict(home.section("service"))
        level = home.section("signer").get("level")
        if level is not None and "issue_level" not in service:
            service["issue_level"] = level
        settings = cls.from_config(service, database_url=home.database_url(), pki_dir=str(home.pki_dir))
        try:
            return replace(settings, edxml=EdxmlSettings.from_config(home.section("edxml")))
        except SettingsError as exc:
            raise ServiceConfigError(exc.en) from None

    def with_changes(self, **changes: Any) -> "ServiceSettings":
        return replace(self, **changes)

    def __repr__(self) -> str:  # the secret key never appears in a log or a traceback
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "secret_key"
        )
        return f"ServiceSettings({shown})"
