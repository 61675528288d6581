"""edXML packages of the national document exchange axis (QCVN 102:2016/BTTTT, amended 2022).

Public API (for `kyso` and the service):

    from edxml import (Package, PackageHeader, Organisation, SignerInfo, Attachment, StatusMessage, StatusCode,
                       EdxmlSettings, pack, verify_package, status_for, sign_status, render_package_text)

    package = Package(PackageHeader(sender=..., recipients=(...), number=15, notation="QĐ-UBND",
                                    promulgated_on=date(2026, 11, 29), place="Hà Nội", document_type="Quyết định",
                                    subject="...", signer=SignerInfo("...")),
                      (Attachment("cid:1", "15-QD-UBND.pdf", "application/pdf", pdf_bytes),))
    xml = pack(package, key=seal_key, certificate=cert, chain=chain)   # key: policies.keys.DigestSigner
    report = verify_package(xml, verifier=verifier, settings=EdxmlSettings(), path="x.edxml")  # never raises
    report.indication, report.signature (kind `package`), report.attachments (one FileReport per PDF)
    report.to_json(lang="vi")                      # the `kyso verify` file JSON + "package", "attachments"
    status = status_for(report, receiver=agency, at=now)                # 03 accepted, or 02 with reasons (vi)
    signed_status = sign_status(status, key=seal_key, certificate=cert, chain=chain)

XML is read with a parser that resolves nothing (no DTD, no entities, no network) after a size check;
the signature must be the only one, sit in `edXMLHeader` and cover the whole envelope (`URI=""`,
enveloped-signature then c14n), and only the tree signxml returns as signed is read afterwards.
Errors: `EdxmlError` > `InvalidPackageData` (bad values to build), `PackageRefused` (unreadable input),
`SigningFailed` (the key's failure, chained), `SettingsError`.
"""

from edxml.errors import EdxmlError, InvalidPackageData, PackageRefused, SigningFailed
from edxml.model import (
    NAMESPACE, Attachment, Organisation, Package, PackageHeader, SignerInfo, StatusCode, StatusMessage, TraceEntry,
)
from edxml.packing import pack, sign_status, status_for
from edxml.report import PackageReport, render_package_text
from edxml.settings import EdxmlSettings, SettingsError
from edxml.verification import verify_package

__all__ = [
    "NAMESPACE", "Attachment", "EdxmlError", "EdxmlSettings", "InvalidPackageData", "Organisation", "Package",
    "PackageHeader", "PackageRefused", "PackageReport", "SettingsError", "SignerInfo", "SigningFailed", "StatusCode",
    "StatusMessage", "TraceEntry", "pack", "render_package_text", "sign_status", "status_for", "verify_package",
]
