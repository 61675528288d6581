"""The `[bridge]` configuration table (kyso.toml), checked when read: unknown keys are errors.

```toml
[bridge]
port = 8988                                   # loopback port
hosts = ["127.0.0.1", "::1"]                  # loopback addresses only
allowed_origins = ["https://vanban.hanoi.gov.vn"]   # the city's systems that may call the bridge
modules = ["/usr/lib/softhsm/libsofthsm2.so"] # PKCS#11 libraries (vendor modules of real tokens by path)
max_body_bytes = 16384
audit_log = "/home/me/.kyso/bridge-audit.jsonl"
pin_prompt = "auto"                           # auto | desktop | console
consent = "auto"                              # auto | desktop | console
chain_certificates = ["/etc/kyso/gov-ca.pem"] # CA certificates to complete chains not on the token
```
"""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from token_bridge.errors import ConfigurationError
from token_bridge.module import DEFAULT_MODULE_PATH

DEFAULT_PORT = 8988  # beside the 8987 of the plugin Vietnamese document systems call today (DOMAIN.md)
PROMPT_KINDS = ("auto", "desktop", "console")


def _error(key: str, en: str, vi: str) -> ConfigurationError:
    return ConfigurationError(f"[bridge] {key}: {en}", f"[bridge] {key}: {vi}")


def _normalise_origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case, without the default port; anything else is an error."""
    parsed = urllib.parse.urlsplit(origin.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/") \
            or parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise _error(
            "allowed_origins",
            f"'{origin}' is not an origin (scheme://host[:port], nothing after).",
            f"'{origin}' không phải là một origin (scheme://host[:port]).",
        )
    host = parsed.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parsed.scheme]
    port = parsed.port
    return f"{parsed.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class BridgeSettings:
    port: int = DEFAULT_PORT
    hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    allowed_origins: frozenset[str] = frozenset()
    modules: tuple[str, ...] = (DEFAULT_MODULE_PATH,)
    max_body_bytes: int = 16384
    audit_log: str | None = None
    pin_prompt: str = "auto"
    consent: str = "auto"
    chain_certificates: tuple[str, ...] = field(default_factory=tuple)

    KEYS = frozenset(
        {"port", "hosts", "allowed_origins", "modules", "max_body_bytes", "audit_log", "pin_prompt", "consent",
         "chain_certificates"}
    )

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any]) -> "BridgeSettings":
        unknown = sorted(set(mapping) - cls.KEYS)
        if unknown:
            raise ConfigurationError(
                f"[bridge]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(cls.KEYS))}",
                f"[bridge]: khóa không hợp lệ {', '.join(unknown)}; hợp lệ: {', '.join(sorted(cls.KEYS))}",
            )
        values: dict[str, Any] = {}
        if "port" in mapping:
            values["port"] = _port(mapping["port"])
        if "hosts" in mapping:
            values["hosts"] = tuple(_loopback(h) for h in _list(mapping["hosts"], "hosts"))
        if "allowed_origins" in mapping:
            values["allowed_origins"] = frozenset(
                _normalise_origin(o) for o in _list(mapping["allowed_origins"], "allowed_origins")
            )
        if "modules" in mapping:
            values["modules"] = tuple(_list(mapping["modules"], "modules"))
        if "max_body_bytes" in mapping:
            try:
                size = int(mapping["max_body_bytes"])
            except (TypeError, ValueError):
                raise _error("max_body_bytes", "must be a number of bytes.", "phải là số byte.") from None
            if not 1024 <= size <= 1_048_576:
                raise _error("max_body_bytes", "must be between 1024 and 1048576.", "phải từ 1024 đến 1048576.")
            values["max_body_bytes"] = size
        if "audit_log" in mapping:
            values["audit_log"] = str(mapping["audit_log"]) or None
        for key in ("pin_prompt", "consent"):
            if key in mapping:
                if mapping[key] not in PROMPT_KINDS:
                    raise _error(key, f"must be one of {', '.join(PROMPT_KINDS)}.",
                                 f"phải là một trong {', '.join(PROMPT_KINDS)}.")
                values[key] = mapping[key]
        if "chain_certificates" in mapping:
            values["chain_certificates"] = tuple(_list(mapping["chain_certificates"], "chain_certificates"))
        return cls(**values)

    def with_overrides(self, **changes: Any) -> "BridgeSettings":
        """Command-line options over the file: same checks."""
        merged = {k: getattr(self, k) for k in self.KEYS if getattr(self, k) is not None}
        merged.update({k: v for k, v in changes.items() if v is not None})
        merged["allowed_origins"] = sorted(merged["allowed_origins"])
        return BridgeSettings.from_config(merged)

    @property
    def host_headers(self) -> frozenset[str]:
        """The Host header values that name this bridge (DNS rebinding defence: anything else is refused)."""
        names = set()
        for host in self.hosts:
            if ipaddress.ip_address(host).version == 6:
                names.add(f"[{host}]:{self.port}")
            else:
                names.add(f"{host}:{self.port}")
                names.add(f"localhost:{self.port}")
        return frozenset(names)

    @property
    def base_url(self) -> str:
        host = self.hosts[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def _list(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]  # from KYSO_BRIDGE_* environment variables
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise _error(key, "must be a list of strings.", "phải là danh sách chuỗi.")
    return [v.strip() for v in value]


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise _error("port", f"'{value}' is not a port number.", f"'{value}' không phải là số cổng.") from None
    if not 1 <= port <= 65535:
        raise _error("port", f"{port} is outside 1-65535.", f"{port} nằm ngoài khoảng 1-65535.")
    return port


def _loopback(host: str) -> str:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise _error("hosts", f"'{host}' is not an IP address.", f"'{host}' không phải là địa chỉ IP.") from None
    if not address.is_loopback:
        raise _error(
            "hosts",
            f"{host} is not a loopback address: the bridge listens on 127.0.0.1 and ::1 only.",
            f"{host} không phải địa chỉ loopback: cầu nối chỉ lắng nghe trên 127.0.0.1 và ::1.",
        )
    return str(address)


def default_audit_log(home: str | os.PathLike) -> str:
    return os.path.join(os.fspath(home), "bridge-audit.jsonl")
