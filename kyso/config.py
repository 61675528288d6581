"""Configuration loading: the kyso home folder and its `kyso.toml`.

`KYSO_HOME` (or `--home DIR`) holds the configuration, the SQLite database, the demo PKI and the SoftHSM
token directory. `kyso.toml` has one table per part; each part validates its own table with a
`from_config(mapping)` that rejects unknown keys. Environment variables `KYSO_<SECTION>_<KEY>` override
single values (e.g. `KYSO_DATABASE_URL`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECTIONS = ("database", "pkcs11", "ca", "bridge", "signer", "verifier", "service", "report", "edxml")


class ConfigError(Exception):
    """The configuration is wrong; the message names the file, the section and the key."""


@dataclass(frozen=True)
class Home:
    path: Path

    @classmethod
    def locate(cls, home: str | os.PathLike | None = None) -> "Home":
        if home is None:
            home = os.environ.get("KYSO_HOME") or Path.home() / ".kyso"
        return cls(Path(home).expanduser().resolve())

    @property
    def config_file(self) -> Path:
        return self.path / "kyso.toml"

    @property
    def pki_dir(self) -> Path:
        return self.path / "pki"

    @property
    def token_dir(self) -> Path:
        """SoftHSM token directory of this home (never the user's system-wide SoftHSM store)."""
        return self.path / "tokens"

    @property
    def softhsm_conf(self) -> Path:
        return self.path / "softhsm2.conf"

    @property
    def default_database_url(self) -> str:
        return f"sqlite:///{self.path / 'kyso.db'}"

    def ensure(self) -> "Home":
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self

    def settings(self) -> dict[str, dict[str, Any]]:
        """The validated top level of `kyso.toml` with environment overrides applied."""
        data: dict[str, Any] = {}
        if self.config_file.exists():
            try:
                data = tomllib.loads(self.config_file.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{self.config_file}: {exc}") from exc
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise ConfigError(
                f"{self.config_file}: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}"
            )
        for name, value in data.items():
            if not isinstance(value, dict):
                raise ConfigError(f"{self.config_file}: [{name}] must be a table")
        settings = {name: dict(data.get(name, {})) for name in SECTIONS}
        for key, value in os.environ.items():
            if not key.startswith("KYSO_") or key in ("KYSO_HOME",) or key.startswith("KYSO_TEST_"):
                continue
            section, _, option = key[5:].lower().partition("_")
            if section in settings and option:
                settings[section][option] = value
        return settings

    def section(self, name: str) -> dict[str, Any]:
        if name not in SECTIONS:
            raise ConfigError(f"unknown configuration section {name!r}")
        return self.settings()[name]

    def database_url(self) -> str:
        return self.section("database").get("url") or self.default_database_url


def reject_unknown_keys(section: str, mapping: dict[str, Any], known: set[str] | frozenset[str]) -> None:
    """Deny by default: an unknown configuration key is an error naming the key."""
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise ConfigError(
            f"[{section}]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
