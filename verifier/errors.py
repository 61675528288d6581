"""The verifier's one error hierarchy. Verifying never raises because a signature is bad (that is a report);
these are for misuse, a broken configuration, or a caller's gate (`FileReport.require_passed`)."""

from __future__ import annotations


class VerifierError(Exception):
    """Base of every error the verifier raises."""


class SettingsError(VerifierError):
    """The verifier's configuration is wrong (an unknown key, an unreadable trust file, a bad URL map)."""


class NotPassed(VerifierError):
    """Raised by `FileReport.require_passed()` when a file is not TOTAL_PASSED; carries the report."""

    def __init__(self, report, message: str):
        super().__init__(message)
        self.report = report
