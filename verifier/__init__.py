"""Validating signatures into reports with ETSI EN 319 102-1 indications (PAdES and CAdES detached).

Public API (for `kyso verify` and the service):

    from verifier import Verifier, ValidationSettings, FileReport, Indication, SubIndication

    settings = ValidationSettings.from_config(home.section("verifier"), base=home.path)
    settings = settings.with_trust(("demo", root_certificate))       # the demo PKI, `--trust FILE`
    verifier = Verifier(settings)                                     # build once, keep for a batch
    report = verifier.verify_pdf(pdf_bytes, path="incoming.pdf")      # -> FileReport, never raises
    report = verifier.verify_cades(p7s_bytes, content, path="x.p7s")  # detached CMS over `content`
    report = verifier.verify_file("x.pdf")                            # X.p7s is checked against X
    report.indication, report.signatures[0].sub_indication            # enums
    report.to_json(lang="vi")                                          # the DESIGN.md JSON of one file
    render_text(report, lang="vi")                                    # the text report a clerk reads
    report.require_passed()                                           # gate: raises NotPassed

`ValidationSettings` fields: explicit_roots, anchor_candidates (kept only when they match an enabled SHA-256
pin of policies/data/trust_anchors.toml), anchors, intermediates, policy (policies.validation), offline,
allow_aia, http (timeouts, retries, URL rewrites), at (validate as of a time). A `Verifier` shares its trust
manager, HTTP cache and chain-result cache across every file; each calling thread runs on its own event loop
(no lock is held across a file). `settings.pdf_limits` (policies.pdf_limits) bounds what one file may cost:
a file beyond it is TOTAL_FAILED / FORMAT_FAILURE with message code `LIMIT_MESSAGE` ("format.limit-exceeded")
and `report.limit_refusal` set.

Indications: per signature TOTAL_PASSED, or TOTAL_FAILED / INDETERMINATE with an ETSI EN 319 102-1
sub-indication; changes after signing that the policy refuses are TOTAL_FAILED / SIG_CONSTRAINTS_FAILURE
(FORMAT_FAILURE when the byte range itself is wrong), with `change` naming them. File-level `messages` carry
findings that do not fail a file, e.g. an agency signature without a preceding personal one (Decree 30,
art. 14: copies are signed that way). Stable machine codes are in `SignatureReport.messages[i].code`.
"""

from verifier.errors import NotPassed, SettingsError, VerifierError
from verifier.report import (
    LIMIT_MESSAGE, FileReport, Indication, Message, Modifications, SignatureKind, SignatureReport, SubIndication, TimeSource,
)
from verifier.settings import ValidationSettings
from verifier.text import render_text, render_summary
from verifier.validator import Verifier

__all__ = [
    "LIMIT_MESSAGE", "FileReport", "Indication", "Message", "Modifications", "NotPassed", "SettingsError", "SignatureKind",
    "SignatureReport", "SubIndication", "TimeSource", "ValidationSettings", "Verifier", "VerifierError",
    "render_summary", "render_text",
]
