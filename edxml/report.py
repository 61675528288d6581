"""The report of one package: its signature (kind `package`), the header it vouches for, and one nested
file report per attached PDF. Serialised in the `kyso verify` JSON contract of DESIGN.md, extended."""

from __future__ import annotations

from dataclasses import dataclass

from edxml.model import Package, PackageHeader
from verifier import FileReport, Indication, Message, SignatureReport, SubIndication, render_text

_ORDER = {Indication.TOTAL_FAILED: 0, Indication.INDETERMINATE: 1, Indication.NO_SIGNATURE_FOUND: 2,
          Indication.TOTAL_PASSED: 3}


@dataclass(frozen=True)
class PackageReport:
    path: str
    indication: Indication
    sub_indication: SubIndication | None
    signature: SignatureReport | None
    package: Package | None  # what the signature covers, read from the signed tree only; None when not read
    attachments: tuple[FileReport, ...]  # one per attached file, in the package's order
    messages: tuple[Message, ...] = ()
    certificate_serial: int | None = None  # of the package signer's certificate
    # What the header of a package that failed claims, read only to address the refusal (status 02) and
    # register the returned document: never trusted, never shown as the package's content.
    unverified_header: PackageHeader | None = None

    @property
    def header(self) -> PackageHeader | None:
        return self.package.header if self.package is not None else None

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED

    @property
    def signatures(self) -> tuple[SignatureReport, ...]:
        return (self.signature,) if self.signature is not None else ()

    def reasons(self, lang: str = "vi") -> list[str]:
        """What failed, in `lang`: the reason a refusal (status 02) carries back to the sender."""
        found = [m.text(lang) for m in self.messages if m.severity.value == "error"]
        if self.signature is not None and not self.signature.passed:
            found += [m.text(lang) for m in self.signature.messages if m.severity.value == "error"]
        for attachment in self.attachments:
            if not attachment.passed:
                found += [f"{attachment.path}: {m.text(lang)}" for m in attachment.messages]
                for signature in attachment.signatures:
                    if not signature.passed:
                        found += [f"{attachment.path} ({signature.field}): {m.text(lang)}"
                                  for m in signature.messages if m.severity.value == "error"]
        return found or [m.text(lang) for m in self.messages]

    def as_file_report(self) -> FileReport:
        """The package alone as a file report (its signature as the only entry)."""
        return FileReport(self.path, self.indication, self.signatures, self.sub_indication, self.messages)

    def to_json(self, lang: str = "en") -> dict:
        data = self.as_file_report().to_json(lang)
        data["format"] = "edxml"
        data["codes"] = [m.code for m in self.messages]
        data["package"] = None if self.header is None else {
            "document_id": self.header.document_id,
            "sender": {"code": self.header.sender.code, "name": self.header.sender.name,
                       "legacy_code": self.header.sender.legacy_code},
            "recipients": [{"code": r.code, "name": r.name, "legacy_code": r.legacy_code}
                           for r in self.header.recipients],
            "number": self.header.number, "notation": self.header.notation,
            "promulgation_date": self.header.promulgated_on.isoformat(),
            "subject": self.header.subject, "document_type": self.header.document_type,
            "signer": self.header.signer.full_name,
        }
        data["attachments"] = [a.to_json(lang) for a in self.attachments]
        return data


def worst(indications) -> Indication:
    return min(indications, key=_ORDER.__getitem__, default=Indication.NO_SIGNATURE_FOUND)


def render_package_text(report: PackageReport, *, lang: str = "vi") -> str:
    """The text a clerk reads: the package, then each attached document indented under it."""
    lines = [render_text(report.as_file_report(), lang=lang)]
    if report.header is not None:
        label = "Văn bản" if lang == "vi" else "Document"
        lines.append(f"    {label}: {report.header.document_id} - {report.header.subject}")
    for attachment in report.attachments:
        lines.append("\n".join("    " + line for line in render_text(attachment, lang=lang).splitlines()))
    return "\n".join(lines)
