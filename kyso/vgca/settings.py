"""The plugin endpoint's keys of the `[bridge]` table (kyso.toml); the rest of the table is token_bridge's.

```toml
[bridge]
vgca = true                                   # also serve wss://127.0.0.1:8987 (like --vgca)
vgca_port = 8987
vgca_allowed_hosts = ["https://files.vanban.hanoi.gov.vn"]  # origins besides the page's own for FileName/uploads
vgca_max_download_bytes = 52428800
vgca_timeout_seconds = 60
vgca_level = "B-T"
vgca_signature_image = "/home/me/chu-ky.png"  # approve; default [signer] signature_image
vgca_seal_image = "/home/me/dau.png"          # issue; default [signer] seal_image
vgca_seal_diameter_mm = 35
vgca_personal_certificate = "3fa1"            # certificate id prefix, when the tokens hold several
vgca_agency_certificate = "9c0e"
service_url = "https://kyso.hanoi.gov.vn"     # report every signature to the central ledger (rate tracking)
service_api_key_env = "KYSO_BRIDGE_API_KEY"   # the environment variable holding its API key (never the file)
service_agency_code = "H26.10"                # the agency the signatures are counted for
```
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kyso.vgca.transfer import origin_of

PLUGIN_KEYS = frozenset({
    "vgca", "vgca_port", "vgca_allowed_hosts", "vgca_max_download_bytes", "vgca_timeout_seconds", "vgca_level",
    "vgca_signature_image", "vgca_seal_image", "vgca_seal_diameter_mm", "vgca_personal_certificate",
    "vgca_agency_certificate", "service_url", "service_api_key_env", "service_agency_code",
})


class PluginSettingsError(ValueError):
    """A wrong plugin key; the message names it in Vietnamese and English."""


def _error(key: str, vi: str, en: str) -> PluginSettingsError:
    return PluginSettingsError(f"[bridge] {key}: {vi} / {en}")


@dataclass(frozen=True)
class PluginSettings:
    enabled: bool = False
    port: int = 8987
    allowed_hosts: frozenset[str] = frozenset()
    max_download_bytes: int = 50 * 1024 * 1024
    timeout_seconds: float = 60.0
    level: str = "B-T"
    signature_image: str | None = None
    seal_image: str | None = None
    seal_diameter_mm: float | None = None
    personal_certificate: str | None = None
    agency_certificate: str | None = None
    service_url: str | None = None
    service_api_key_env: str = "KYSO_BRIDGE_API_KEY"
    service_agency_code: str | None = None

    @classmethod
    def from_config(cls, mapping: Mapping[str, Any]) -> "PluginSettings":
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            if key not in PLUGIN_KEYS:
                raise _error(key, "khóa không hợp lệ", "unknown key")
            if key == "vgca":
                if isinstance(value, str):
                    value = value.lower() in ("1", "true", "yes")
                if not isinstance(value, bool):
                    raise _error(key, "phải là true hoặc false", "must be true or false")
                values["enabled"] = value
            elif key in ("vgca_port", "vgca_max_download_bytes"):
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    raise _error(key, "phải là số nguyên", "must be an integer") from None
                low, high = (1, 65535) if key == "vgca_port" else (1024, 2 * 1024 ** 3)
                if not low <= number <= high:
                    raise _error(key, f"phải từ {low} đến {high}", f"must be between {low} and {high}")
                values["port" if key == "vgca_port" else "max_download_bytes"] = number
            elif key in ("vgca_timeout_seconds", "vgca_seal_diameter_mm"):
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    raise _error(key, "phải là số", "must be a number") from None
                if number <= 0:
                    raise _error(key, "phải lớn hơn 0", "must be positive")
                values["timeout_seconds" if key == "vgca_timeout_seconds" else "seal_diameter_mm"] = number
            elif key == "vgca_allowed_hosts":
                items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
                if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
                    raise _error(key, "phải là danh sách origin", "must be a list of origins")
                origins = set()
                for item in items:
                    origin = origin_of(item.strip())
                    parsed = urllib.parse.urlsplit(item.strip())
                    if origin is None or parsed.path not in ("", "/") or parsed.query or parsed.username:
                        raise _error(key, f"'{item}' không phải origin (https://tên-máy[:cổng])",
                                     f"'{item}' is not an origin (https://host[:port])")
                    origins.add(origin)
                values["allowed_hosts"] = frozenset(origins)
            elif key == "vgca_level":
                if value not in ("B-B", "B-T", "B-LT", "B-LTA"):
                    raise _error(key, "phải là B-B, B-T, B-LT hoặc B-LTA", "must be B-B, B-T, B-LT or B-LTA")
                values["level"] = value
            elif key == "service_url":
                if origin_of(str(value)) is None:
                    raise _error(key, "phải là địa chỉ http(s)", "must be an http(s) URL")
                values["service_url"] = str(value).rstrip("/")
            elif key.startswith("service_"):
                if not isinstance(value, str) or not value:
                    raise _error(key, "phải là chuỗi không rỗng", "must be a non-empty string")
                values[key] = value
            else:
                if not isinstance(value, str) or not value:
                    raise _error(key, "phải là chuỗi không rỗng", "must be a non-empty string")
                values[key.removeprefix("vgca_")] = value
        return cls(**values)


def split_bridge_table(mapping: Mapping[str, Any]) -> tuple[dict, dict]:
    """(token_bridge's keys, the plugin's keys) of a `[bridge]` table."""
    bridge = {k: v for k, v in mapping.items() if k not in PLUGIN_KEYS}
    plugin = {k: v for k, v in mapping.items() if k in PLUGIN_KEYS}
    return bridge, plugin


def reporter_for(home, settings: PluginSettings):
    """The service reporter of `[bridge] service_url`, or None when the bridge reports to no service."""
    import os
    from pathlib import Path

    from kyso.vgca.reporting import ServiceReporter

    if settings.service_url is None:
        return None
    key = os.environ.get(settings.service_api_key_env)
    if not key:
        raise PluginSettingsError(f"[bridge] service_url: biến môi trường {settings.service_api_key_env} chưa có khóa "
                                  f"API / the environment variable {settings.service_api_key_env} holds no API key")
    if not settings.service_agency_code:
        raise PluginSettingsError("[bridge] service_agency_code: cần mã cơ quan để tính chữ ký / needed with "
                                  "service_url: the agency the signatures count for")
    return ServiceReporter(Path(home.path) / "bridge" / "outbox", service_url=settings.service_url, api_key=key,
                           agency_code=settings.service_agency_code)
