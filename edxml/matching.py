"""The header against the document: number/notation and promulgation date in the header must be what the
issued PDF shows (Decree 30, art. 15: the number and date are part of the document the agency signed).

The issuing signature writes the number and date into the dots of "Số: ....../QĐ-UBND" and
"..., ngày .. tháng .. năm .." as widget appearances of the agency signature (signer.placement), so the
text read here is page 1's content stream plus the appearance streams of its widgets.
"""

from __future__ import annotations

import io
import re
import unicodedata

from edxml.model import Attachment, PackageHeader
from verifier import FileReport, Message
from verifier.report import Severity, SignatureKind


def _page_one_text(data: bytes) -> tuple[str, list[str]]:
    """(page-1 text, texts of its widget appearances). Raises on an unreadable PDF."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    def collect(layout) -> list[str]:
        return [item.get_text() for item in layout if isinstance(item, LTTextContainer)]

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    page = next(iter(PDFPage.create_pages(document)))
    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=LAParams())
    interpreter = PDFPageInterpreter(manager, device)
    interpreter.process_page(page)
    page_text = "".join(collect(device.get_result()))
    widgets: list[str] = []
    for annotation in resolve1(page.annots) or []:
        annotation = resolve1(annotation)
        if not isinstance(annotation, dict) or resolve1(annotation.get("Subtype")).name != "Widget":
            continue
        appearance = resolve1((resolve1(annotation.get("AP")) or {}).get("N"))
        if appearance is None or not hasattr(appearance, "get_data"):
            continue
        device = PDFPageAggregator(manager, laparams=LAParams())
        interpreter = PDFPageInterpreter(manager, device)
        device.begin_page(page, (1, 0, 0, 1, 0, 0))
        interpreter.init_resources(resolve1(appearance.get("Resources")) or {})
        interpreter.init_state((1, 0, 0, 1, 0, 0))
        interpreter.render_contents(resolve1(appearance.get("Resources")) or {}, [appearance])
        device.end_page(page)
        widgets.extend(t.strip() for t in collect(device.get_result()) if t.strip())
    return page_text, widgets


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def shows_header(header: PackageHeader, page_text: str, widgets: list[str]) -> tuple[bool, bool]:
    """(number/notation shown, date shown) on page 1."""
    text = _norm(page_text)
    notation = re.escape(header.notation)
    day, month, year = header.promulgated_on.day, header.promulgated_on.month, header.promulgated_on.year
    number = (re.search(rf"Số\s*:?\s*0*{header.number}\s*/\s*{notation}\b", text) is not None
              or (any(re.fullmatch(rf"0*{header.number}", w) for w in widgets)
                  and re.search(rf"Số\s*:?\s*\.+\s*/\s*{notation}", text) is not None))
    dated = (re.search(rf"ngày\s*0*{day}\s*tháng\s*0*{month}\s*năm\s*{year}", text) is not None
             or (re.search(r"ngày\s*\.+\s*tháng\s*\.+\s*năm\s*\.+", text) is not None
                 and {f"{day:02d}", str(year)} <= set(widgets)
                 and (f"{month:02d}" in widgets or str(month) in widgets)))
    return number, dated


def match_header(header: PackageHeader, attachments: tuple[Attachment, ...],
                 reports: tuple[FileReport, ...]) -> list[Message]:
    """Messages about the match between the header and the main document: the first attached PDF that
    carries an agency signature (the issued document; appendices follow it)."""
    for attachment, report in zip(attachments, reports):
        if not any(s.kind is SignatureKind.AGENCY for s in report.signatures):
            continue
        try:
            page_text, widgets = _page_one_text(attachment.data)
        except Exception:  # noqa: BLE001 - an unreadable PDF is already reported by the verifier
            return [Message("package.header-unread", "the number and date could not be read from the document",
                            "không đọc được số và ngày ban hành trên văn bản", Severity.WARNING)]
        number, dated = shows_header(header, page_text, widgets)
        date_text = header.promulgated_on.strftime("%d/%m/%Y")
        messages = []
        if not number:
            messages.append(Message(
                "package.header-number",
                f"the header's number {header.number_notation} is not the number shown on {attachment.name}",
                f"số, ký hiệu {header.number_notation} trong tiêu đề gói tin không khớp với số trên văn bản "
                f"{attachment.name}", Severity.ERROR))
        if not dated:
            messages.append(Message(
                "package.header-date",
                f"the header's promulgation date {date_text} is not the date shown on {attachment.name}",
                f"ngày ban hành {date_text} trong tiêu đề gói tin không khớp với ngày trên văn bản {attachment.name}",
                Severity.ERROR))
        if not messages:
            messages.append(Message(
                "package.header-match", f"the header's number {header.number_notation} and date {date_text} are "
                f"those of {attachment.name}", f"số, ký hiệu {header.number_notation} và ngày {date_text} trong tiêu "
                f"đề khớp với văn bản {attachment.name}", Severity.INFO))
        return messages
    return [Message("package.no-issued-document", "no attached PDF carries an agency signature, so the header "
                    "cannot be checked against the issued document", "không có tệp PDF đính kèm nào mang chữ ký số "
                    "của cơ quan nên không đối chiếu được tiêu đề với văn bản ban hành", Severity.WARNING)]
