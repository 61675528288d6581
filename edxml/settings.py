"""edxml settings, from the `[edxml]` section of the configuration (unknown keys are errors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edxml.errors import EdxmlError
from edxml.parsing import DEFAULT_MAX_BYTES


class SettingsError(EdxmlError):
    """A wrong `[edxml]` configuration value, naming the key."""


@dataclass(frozen=True)
class EdxmlSettings:
    """`max_bytes`: packages above it are refused before parsing. `legacy_sha1_until`: RSA-SHA1 package
    signatures (older packages of the axis) are accepted with a warning until then, refused after; None
    takes the verifier policy's `legacy_sha1_ca_until` (the date SHA-1 CA chains stop being accepted)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    legacy_sha1_until: datetime | None = None

    @classmethod
    def from_config(cls, section: dict) -> "EdxmlSettings":
        unknown = set(section) - {"max_bytes", "legacy_sha1_until"}
        if unknown:
            raise SettingsError(f"[edxml]: unknown key(s) {', '.join(sorted(unknown))}",
                                f"[edxml]: khóa không hợp lệ {', '.join(sorted(unknown))}")
        max_bytes = section.get("max_bytes", DEFAULT_MAX_BYTES)
        if isinstance(max_bytes, str) and max_bytes.isdigit():  # from an environment variable
            max_bytes = int(max_bytes)
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1024:
            raise SettingsError("[edxml] max_bytes must be an integer of at least 1024",
                                "[edxml] max_bytes phải là số nguyên từ 1024 trở lên")
        until = section.get("legacy_sha1_until")
        if isinstance(until, str):
            try:
                until = datetime.fromisoformat(until)
            except ValueError as exc:
                raise SettingsError(f"[edxml] legacy_sha1_until: {exc}", f"[edxml] legacy_sha1_until: {exc}") from None
        if until is not None and (not isinstance(until, datetime) or until.tzinfo is None):
            raise SettingsError("[edxml] legacy_sha1_until needs a time with its UTC offset",
                                "[edxml] legacy_sha1_until phải là thời điểm kèm múi giờ")
        return cls(max_bytes, until)
