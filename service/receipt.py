"""The receipt of a verification (biên nhận kết quả kiểm tra chữ ký số): a one-page PDF in Vietnamese for
the clerk's file, signed by the service's own agency key when one is configured.

DOMAIN.md (Decree 68/2024): verification software must report valid / invalid in Vietnamese, with signer,
time and integrity; Decree 30 art. 21: receipt of incoming documents is confirmed the same day.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_VERDICT = {
    "TOTAL_PASSED": "HỢP LỆ",
    "TOTAL_FAILED": "KHÔNG HỢP LỆ",
    "INDETERMINATE": "CHƯA XÁC ĐỊNH ĐƯỢC",
    "NO_SIGNATURE_FOUND": "KHÔNG CÓ CHỮ KÝ SỐ",
}
_KIND = {"personal": "cá nhân", "agency": "cơ quan, tổ chức", "timestamp": "dấu thời gian", "unknown": "không rõ"}
_INTEGRITY = {"none": "nguyên vẹn", "allowed": "có thay đổi được phép", "disallowed": "bị thay đổi trái phép"}


def receipt_lines(validation, *, now: dt.datetime) -> list[tuple[str, bool]]:
    """The receipt's text, line by line (text, bold)."""
    report = json.loads(validation.report_vi)
    lines: list[tuple[str, bool]] = [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True),
        ("Độc lập - Tự do - Hạnh phúc", True),
        ("", False),
        ("BIÊN NHẬN KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ", True),
        ("", False),
        (f"Tệp: {validation.filename}", False),
        (f"Mã băm SHA-256: {validation.sha256}", False),
        (f"Thời điểm kiểm tra: {validation.created_at.astimezone(VIETNAM).isoformat(timespec='seconds')}", False),
        (f"Mã kết quả: {validation.id}", False),
        (f"Kết luận: {_VERDICT.get(report['indication'], report['indication'])}", True),
    ]
    if validation.document_id is not None:
        lines.append((f"Văn bản đến (mã nội bộ): {validation.document_id}", False))
    if validation.returned:
        lines.append(("Văn bản được đánh dấu trả lại nơi gửi (Nghị định 30, Điều 21).", True))
    for message in report.get("messages", []):
        lines.append((f"Ghi chú: {message}", False))
    for index, signature in enumerate(report["signatures"], start=1):
        signer = signature.get("signer") or {}
        lines.append(("", False))
        lines.append((f"Chữ ký {index} ({signature['field']}): {_VERDICT.get(signature['indication'], signature['indication'])}"
                      + (f" - {signature['sub_indication']}" if signature.get("sub_indication") else ""), True))
        lines.append((f"  Người ký: {signer.get('common_name') or '?'}"
                      + (f" ({', '.join(signer.get('identifiers', []))})" if signer.get("identifiers") else ""), False))
        if signer.get("organization"):
            lines.append((f"  Cơ quan: {signer['organization']}", False))
        lines.append((f"  Loại chữ ký: {_KIND.get(signature['kind'], signature['kind'])}", False))
        source = {"timestamp": "theo dấu thời gian", "claimed": "do người ký khai"}.get(signature.get("signing_time_source"), "không có")
        lines.append((f"  Thời gian ký: {signature.get('signing_time') or '-'} ({source})", False))
        lines.append((f"  Tính toàn vẹn: {_INTEGRITY.get(signature.get('modifications'), signature.get('modifications'))}", False))
        if signature.get("trust_anchor"):
            lines.append((f"  Chứng thư gốc tin cậy: {signature['trust_anchor']}", False))
        for message in signature.get("messages", [])[:4]:
            lines.append((f"  - {message}", False))
    lines.append(("", False))
    lines.append((f"Lập lúc {now.astimezone(VIETNAM).isoformat(timespec='seconds')} bởi dịch vụ ký số kyso.", False))
    return lines


def build_receipt(validation, *, components, now: dt.datetime) -> bytes:
    """The receipt PDF; signed (PAdES, invisible) when the service has a receipt signer."""
    from service.text_pdf import A4, TextLine, build_text_pdf

    lines = []
    for text, is_bold in receipt_lines(validation, now=now):
        centred = is_bold and (text.isupper() or text.startswith("Độc lập"))
        lines.append(TextLine(text, bold=is_bold, size=12 if is_bold else 11, centre_x=A4[0] / 2 if centred else None))
    pdf = build_text_pdf(lines)
    if components.receipt_signer is None:
        return pdf
    return _sign(pdf, components)


def _sign(pdf: bytes, components) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from signer import KeySigner

    key, certificate, chain = components.receipt_signer
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name="BienNhanKiemTra", md_algorithm="sha256",
                                        reason="Biên nhận kết quả kiểm tra chữ ký số")
    with components.signer_lock:
        out = signers.sign_pdf(writer, meta, signer=KeySigner(key, certificate, chain))
    return out.getvalue()
