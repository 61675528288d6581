"""Text reports in Vietnamese or English: what a clerk reads (Decree 68/2024: valid / invalid, signer, time,
integrity, in Vietnamese)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from verifier.report import FileReport, Indication, Modifications, SignatureKind, TimeSource, iso

_INDICATION = {
    "en": {Indication.TOTAL_PASSED: "VALID", Indication.TOTAL_FAILED: "INVALID",
           Indication.INDETERMINATE: "CANNOT BE DETERMINED", Indication.NO_SIGNATURE_FOUND: "NO SIGNATURE"},
    "vi": {Indication.TOTAL_PASSED: "HỢP LỆ", Indication.TOTAL_FAILED: "KHÔNG HỢP LỆ",
           Indication.INDETERMINATE: "CHƯA XÁC ĐỊNH ĐƯỢC", Indication.NO_SIGNATURE_FOUND: "KHÔNG CÓ CHỮ KÝ SỐ"},
}
_KIND = {
    "en": {SignatureKind.PERSONAL: "personal signature", SignatureKind.AGENCY: "agency signature",
           SignatureKind.TIMESTAMP: "document timestamp", SignatureKind.UNKNOWN: "signature",
           SignatureKind.PACKAGE: "edXML package signature"},
    "vi": {SignatureKind.PERSONAL: "chữ ký số cá nhân", SignatureKind.AGENCY: "chữ ký số cơ quan, tổ chức",
           SignatureKind.TIMESTAMP: "dấu thời gian văn bản", SignatureKind.UNKNOWN: "chữ ký số",
           SignatureKind.PACKAGE: "chữ ký số gói tin edXML"},
}
_SOURCE = {
    "en": {TimeSource.TIMESTAMP: "proven by a timestamp", TimeSource.CLAIMED: "self-declared by the signer",
           TimeSource.NONE: "unknown"},
    "vi": {TimeSource.TIMESTAMP: "theo dấu thời gian", TimeSource.CLAIMED: "do người ký tự khai",
           TimeSource.NONE: "không rõ"},
}
_MODS = {
    "en": {Modifications.NONE: "unchanged since signing", Modifications.ALLOWED: "changed afterwards, allowed",
           Modifications.DISALLOWED: "changed afterwards, NOT allowed"},
    "vi": {Modifications.NONE: "không thay đổi sau khi ký", Modifications.ALLOWED: "có thay đổi sau khi ký, được phép",
           Modifications.DISALLOWED: "có thay đổi sau khi ký, KHÔNG được phép"},
}
_ORIGIN = {
    "en": {"document": "from the document", "fetched": "fetched", "given": "configured"},
    "vi": {"document": "có sẵn trong tệp", "fetched": "tải về", "given": "được cấu hình"},
}
_LABELS = {
    "en": {"file": "File", "result": "Result", "signer": "Signer", "time": "Signing time", "anchor": "Trust anchor",
           "integrity": "Integrity", "ids": "Identifiers", "org": "Organisation", "revocation": "Revocation data",
           "none": "none"},
    "vi": {"file": "Tệp", "result": "Kết quả", "signer": "Người ký", "time": "Thời gian ký", "anchor": "CA gốc",
           "integrity": "Toàn vẹn", "ids": "Mã định danh", "org": "Cơ quan", "revocation": "Dữ liệu thu hồi",
           "none": "không có"},
}


def _lang(lang: str) -> str:
    return "vi" if lang == "vi" else "en"


def render_text(report: FileReport, *, lang: str = "vi") -> str:
    lang = _lang(lang)
    labels = _LABELS[lang]
    sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
    lines = [f"{labels['file']}: {report.path}",
             f"{labels['result']}: {_INDICATION[lang][report.indication]} ({report.indication.value}{sub})"]
    lines += [f"  ! {m.text(lang)}" for m in report.messages]
    for index, signature in enumerate(report.signatures, 1):
        sub = f" / {signature.sub_indication.value}" if signature.sub_indication else ""
        lines.append(f"[{index}] {signature.field}: {_KIND[lang][signature.kind]} - "
                     f"{_INDICATION[lang][signature.indication]} ({signature.indication.value}{sub})")
        if signature.signer is not None:
            identity = signature.signer
            lines.append(f"    {labels['signer']}: {identity.common_name or '?'}"
                         + (f", {identity.title}" if identity.title else ""))
            if identity.identifiers:
                lines.append(f"    {labels['ids']}: {', '.join(str(i) for i in identity.identifiers)}")
            units = list(identity.units) + ([identity.organization] if identity.organization else [])
            if units:
                lines.append(f"    {labels['org']}: {', '.join(units)}")
        lines.append(f"    {labels['time']}: {iso(signature.signing_time) or '?'} "
                     f"({_SOURCE[lang][signature.signing_time_source]})")
        lines.append(f"    {labels['anchor']}: {signature.trust_anchor or labels['none']}")
        lines.append(f"    {labels['integrity']}: {_MODS[lang][signature.modifications]}"
                     + (f" ({signature.change})" if signature.change else ""))
        if signature.revocation:
            lines.append(f"    {labels['revocation']}: " + "; ".join(
                f"{r.kind.upper()} {_ORIGIN[lang].get(r.source, r.source)} {iso(r.produced_at)}"
                for r in signature.revocation))
        lines += [f"    - {m.text(lang)}" for m in signature.messages]
    return "\n".join(lines)


def render_summary(reports: Iterable[FileReport], *, lang: str = "vi") -> str:
    lang = _lang(lang)
    counts = Counter(r.indication for r in reports)
    total = sum(counts.values())
    head = "Tổng cộng" if lang == "vi" else "Total"
    parts = [f"{_INDICATION[lang][i]}: {counts[i]}" for i in Indication if counts[i]]
    return f"{head}: {total} ({', '.join(parts)})"
