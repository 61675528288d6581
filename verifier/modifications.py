"""What changed in a PDF after each signature, and whether the validation policy allows it.

pyHanko's difference analysis (StandardDiffPolicy) classifies the later revisions; the byte-range coverage
catches signature wrapping and partial coverage; our own check catches appearance swaps of signed form
fields (the "replace" shadow attack) that pyHanko counts as form filling. The policy (policies.validation,
narrowed by a certification signature's DocMDP level) decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from policies.validation import ChangeClass, ValidationPolicy
from verifier.diff_policy import DIFF_POLICY
from verifier.report import Indication, Message, Modifications, Severity, SubIndication


def describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:300]



_COVERAGE = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}
_LEVELS = {
    ModificationLevel.NONE: ChangeClass.NONE,
    ModificationLevel.LTA_UPDATES: ChangeClass.VALIDATION_DATA,
    ModificationLevel.FORM_FILLING: ChangeClass.FORM_FILLING,
    ModificationLevel.ANNOTATIONS: ChangeClass.ANNOTATIONS,
    ModificationLevel.OTHER: ChangeClass.OTHER,
}


@dataclass(frozen=True)
class Integrity:
    coverage: str
    modifications: Modifications
    change: str | None
    failure: tuple[Indication, SubIndication, Message] | None
    messages: tuple[Message, ...]


def judge_integrity(embedded: EmbeddedPdfSignature, policy: ValidationPolicy) -> Integrity:
    """Coverage of the byte range and the changes made after the signed revision."""
    try:
        embedded.compute_integrity_info(diff_policy=DIFF_POLICY)
    except (PdfError, KeyError, ValueError) as exc:
        # The later revisions cannot even be read for analysis (a dangling reference, field names that
        # ISO 32000-2 12.7.4.2 forbids): a change that cannot be analysed is not allowed.
        detail_en = f"the changes made after signing cannot be analysed ({_first_line(describe(exc))})"
        detail_vi = f"không phân tích được các thay đổi sau khi ký ({_first_line(describe(exc))})"
        message = Message("modifications.unanalysable", f"the document was changed after signing: {detail_en}",
                          f"văn bản đã bị thay đổi sau khi ký: {detail_vi}", Severity.ERROR)
        return Integrity("unclear", Modifications.DISALLOWED, f"{ChangeClass.OTHER.value}: {detail_en}",
                         (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE, message), (message,))
    coverage = embedded.coverage
    coverage_name = _COVERAGE[coverage]
    if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        detail_en = ("the signed byte range does not end at the end of its revision: the signature covers only "
                     "part of the file") if coverage is SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START else (
            "the signed byte range is not one block around the signature value (moved or forged /ByteRange: "
            "signature wrapping)")
        detail_vi = ("vùng dữ liệu được ký không kết thúc ở cuối phiên bản của nó: chữ ký chỉ bao phủ một phần tệp"
                     if coverage is SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START else
                     "vùng dữ liệu được ký không liền quanh giá trị chữ ký (/ByteRange bị dời hoặc giả mạo)")
        message = Message("modifications.coverage", detail_en, detail_vi, Severity.ERROR)
        return Integrity(coverage_name, Modifications.DISALLOWED, detail_en,
                          (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE, message), (message,))
    unexplained = unexplained_tail(embedded.reader)
    if unexplained:
        detail_en = (f"{unexplained} bytes after the last revision do not form a clean incremental update (damaged or "
                     f"missing cross-reference table): content added after signing that cannot be analysed")
        detail_vi = (f"{unexplained} byte sau phiên bản cuối không tạo thành một bản cập nhật gia tăng hợp lệ (bảng "
                     f"tham chiếu chéo bị hỏng hoặc thiếu): nội dung thêm sau khi ký không thể phân tích")
        message = Message("modifications.unanalysable", f"the document was changed after signing: {detail_en}",
                          f"văn bản đã bị thay đổi sau khi ký: {detail_vi}", Severity.ERROR)
        return Integrity(coverage_name, Modifications.DISALLOWED, f"{ChangeClass.OTHER.value}: {detail_en}",
                         (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE, message), (message,))
    diff = embedded.diff_result
    detail_vi = None
    if isinstance(diff, SuspiciousModification):
        found = ChangeClass.OTHER
        detail, detail_vi = _describe_pages(embedded) or (_first_line(describe(diff)), None)
    elif isinstance(diff, DiffResult):
        found = _LEVELS[diff.modification_level]
        fields = sorted(diff.changed_form_fields)
        detail = f"fields {', '.join(fields)}" if fields else ""
        detail_vi = f"trường {', '.join(fields)}" if fields else ""
        if found is ChangeClass.ANNOTATIONS:
            detail, detail_vi = _describe_pages(embedded) or ("annotations changed", "chú thích bị thay đổi")
        shadowed = _appearance_only_changes(embedded, fields) if found is ChangeClass.FORM_FILLING else []
        if shadowed:
            found = ChangeClass.OTHER
            detail = (f"the appearance of field(s) {', '.join(shadowed)} was replaced while the value stayed the "
                      f"same (shadow attack)")
            detail_vi = (f"hình hiển thị của trường {', '.join(shadowed)} bị thay trong khi giá trị không đổi "
                         f"(tấn công che giấu)")
    else:
        found, detail = ChangeClass.NONE, ""
    docmdp = embedded.docmdp_level
    decision = policy.check_changes(found, docmdp_level=docmdp.value if docmdp else None, detail=detail,
                                    detail_vi=detail_vi)
    if found is ChangeClass.NONE:
        return Integrity(coverage_name, Modifications.NONE, None, None, ())
    change = f"{found.value}: {detail}" if detail else found.value
    if decision.allowed and found is ChangeClass.ANNOTATIONS:
        # Allowed, and named: the page content is the signed one, but an annotation is drawn over it.
        message = Message(decision.rule,
                          f"{detail} after signing: allowed, does not alter the signed content (an annotation is "
                          f"drawn over the page: what it shows is not signed)",
                          f"{detail_vi} sau khi ký: được phép, không làm thay đổi nội dung đã ký (chú thích được vẽ "
                          f"đè lên trang: phần chú thích hiển thị không được ký)", Severity.WARNING)
        return Integrity(coverage_name, Modifications.ALLOWED, change, None, (message,))
    if decision.allowed:
        message = Message(decision.rule, decision.reason_en, decision.reason_vi, Severity.INFO)
        return Integrity(coverage_name, Modifications.ALLOWED, change, None, (message,))
    message = Message(decision.rule, decision.reason_en, decision.reason_vi, Severity.ERROR)
    return Integrity(coverage_name, Modifications.DISALLOWED, change,
                      (Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE, message), (message,))


_PADDING = b" \t\r\n\x00\x0c"


def unexplained_tail(reader) -> int:
    """The number of bytes after the end of the last revision the cross-reference data describes (the %%EOF
    that follows the last xref section in the file). ISO 32000-2, 7.5.6: an incremental update is a body, a
    cross-reference section and a trailer; bytes that are not (an update with a damaged xref, objects
    appended with the old startxref repeated) are ignored by this parser but picked up by viewers that
    rebuild the xref, so they are a change that cannot be analysed: never "unchanged"."""
    stream = reader.stream
    position = stream.tell()
    try:
        stream.seek(0, 2)
        size = stream.tell()
        ends = []
        for revision in range(reader.xrefs.total_revisions):
            meta = reader.xrefs.get_xref_container_info(revision)
            ends.append(max(meta.end_location or 0, meta.start_location or 0))
        last = max(ends)
        stream.seek(last)
        rest = stream.read(size - last)
    finally:
        stream.seek(position)
    marker = rest.find(b"%%EOF")
    if marker < 0:
        return len(rest.strip(_PADDING))
    return len(rest[marker + 5:].strip(_PADDING))


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else text


def _describe_pages(embedded: EmbeddedPdfSignature) -> tuple[str, str] | None:
    """Name, in words a clerk understands, what happened to the pages after the signed revision: pages
    added or removed, a page's content replaced, annotations put on a page. None when the pages are the same
    (the change is elsewhere; pyHanko's own explanation is used then)."""
    try:
        reader = embedded.reader
        before = _pages(reader.get_historical_resolver(embedded.signed_revision).root["/Pages"])
        after = _pages(reader.root["/Pages"])
    except Exception:  # noqa: BLE001 - a broken page tree is described by pyHanko's message
        return None
    en, vi = [], []
    if len(after) != len(before):
        delta = len(after) - len(before)
        en.append(f"{abs(delta)} page(s) {'added' if delta > 0 else 'removed'}")
        vi.append(f"{'thêm' if delta > 0 else 'bớt'} {abs(delta)} trang")
    for number, (old, new) in enumerate(zip(before, after), 1):
        if _content(old) != _content(new):
            en.append(f"content of page {number} replaced")
            vi.append(f"nội dung trang {number} bị thay")
        old_annots, new_annots = _annotations(old), _annotations(new)
        added = [a for key, a in new_annots.items() if key not in old_annots]
        removed = [a for key, a in old_annots.items() if key not in new_annots]
        if added:
            en.append(f"annotation{'s' if len(added) > 1 else ''} {_subtypes(added)} added on page {number}")
            vi.append(f"thêm chú thích {_subtypes(added)} trên trang {number}")
        if removed:
            en.append(f"annotation{'s' if len(removed) > 1 else ''} {_subtypes(removed)} removed from page {number}")
            vi.append(f"xóa chú thích {_subtypes(removed)} khỏi trang {number}")
    if not en:
        return None
    return "; ".join(en), "; ".join(vi)


def _pages(node) -> list:
    node = node.get_object()
    if node.get("/Type") == "/Pages" or "/Kids" in node:
        pages = []
        for kid in node["/Kids"]:
            pages.extend(_pages(kid))
        return pages
    return [node]


def _content(page) -> bytes:
    contents = page.get("/Contents")
    if contents is None:
        return b""
    contents = contents.get_object()
    if isinstance(contents, list):
        return b"".join(c.get_object().data for c in contents)
    return contents.data


def _annotations(page) -> dict:
    """The annotations of a page by object number (direct ones by position)."""
    annots = page.get("/Annots")
    if annots is None:
        return {}
    found = {}
    for position, item in enumerate(page.raw_get("/Annots").get_object()
                                    if hasattr(page.raw_get("/Annots"), "get_object") else annots):
        key = item.reference.idnum if hasattr(item, "reference") else f"direct-{position}"
        found[key] = item.get_object()
    return found


def _subtypes(annotations) -> str:
    names = sorted({str(a.get("/Subtype", "/Annot"))[1:] for a in annotations if hasattr(a, "get")})
    return "(" + ", ".join(names) + ")"


def _fields_by_name(root) -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(refs, prefix: str) -> None:
        for ref in refs:
            field = ref.get_object()
            name = field.get("/T")
            full = f"{prefix}.{name}" if prefix and name is not None else (str(name) if name is not None else prefix)
            if "/Kids" in field:
                walk(field["/Kids"], full)
            found[full] = field

    try:
        walk(root["/AcroForm"]["/Fields"], "")
    except (KeyError, TypeError, AttributeError):
        pass
    return found


def _appearance_bytes(field) -> bytes | None:
    try:
        normal = field["/AP"]["/N"]
        normal = normal.get_object()
        if hasattr(normal, "data"):
            return normal.data
        return b"|".join(v.get_object().data for v in normal.values())  # state dictionaries (check boxes)
    except (KeyError, TypeError, AttributeError):
        return None


def _appearance_only_changes(embedded: EmbeddedPdfSignature, names: list[str]) -> list[str]:
    """Form fields (not signature fields) whose appearance changed after signing while their value did not:
    what a page shows was swapped without any form filling (the "replace" shadow attack). pyHanko's form
    rule accepts appearance updates as form filling, so this check is ours."""
    reader = embedded.reader
    try:
        before = _fields_by_name(reader.get_historical_resolver(embedded.signed_revision).root)
        after = _fields_by_name(reader.root)
    except Exception:  # noqa: BLE001 - an unreadable form is judged by the diff policy alone
        return []
    shadowed = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old is None or new is None or new.get("/FT") == "/Sig":
            continue
        if str(old.get("/V")) == str(new.get("/V")) and _appearance_bytes(old) != _appearance_bytes(new):
            shadowed.append(name)
    return shadowed


NO_CHANGES = Integrity("entire_file", Modifications.NONE, None, None, ())
