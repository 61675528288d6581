"""The errors of edxml: misuse and refused input. A bad signature is a report, never an exception."""

from __future__ import annotations


class EdxmlError(Exception):
    """Base of every edxml error; `en` and `vi` are what a person reads."""

    def __init__(self, en: str, vi: str):
        super().__init__(en)
        self.en = en
        self.vi = vi

    def text(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en


class InvalidPackageData(EdxmlError):
    """A value given to build a package or a status message is wrong (nothing was built)."""


class PackageRefused(EdxmlError):
    """Bytes that are not a package edxml will read: too large, not XML, a DTD or entities, wrong shape.
    `code` is a stable machine name."""

    def __init__(self, code: str, en: str, vi: str):
        super().__init__(en, vi)
        self.code = code


class SigningFailed(EdxmlError):
    """The key could not sign the package (the token's error is chained as the cause)."""
