"""What each Decree 30 kind draws and where (Appendix I), as a plan of widget drawings for `prepare`.

approve: the signature image between the title and name lines (found by text), in a named empty field, or
at coordinates. issue: the seal at its real size over the left third of the valid personal signature's
image, the number and date written into their places (the number taken from the allocator only once both
places are found). appendix / copy: text in the top margin, right; incoming: a framed receipt stamp in
the top margin, left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policies.identity import parse_identity
from signer import appearance as drawings
from signer import layout
from signer.eligibility import find_valid_personal_signature
from signer.environment import VIETNAM
from signer.errors import BrokenPdf, NumberingError, PlaceNotFound, SignerError
from signer.request import IssuedNumber, SignatureKind, SignatureRequest

MM = 72 / 25.4
_APPROVE_MAX_WIDTH = 70 * MM
_APPROVE_DEFAULT_HEIGHT = 20 * MM


@dataclass(frozen=True)
class Plan:
    main: drawings.Drawing
    extras: tuple[drawings.Drawing, ...] = ()
    existing_field: str | None = None
    number: IssuedNumber | None = None


def vietnam_time(moment: datetime) -> str:
    """DOMAIN.md: ISO 8601 with the Vietnam offset, never without it."""
    return moment.astimezone(VIETNAM).isoformat(timespec="seconds")


def _existing_field_box(writer, name: str) -> layout.Box:
    from pyhanko.sign.fields import enumerate_sig_fields

    for field_name, value, field_ref in enumerate_sig_fields(writer):
        if field_name != name:
            continue
        if value is not None:
            raise PlaceNotFound(f"trường chữ ký {name!r} đã được ký / signature field {name!r} is already signed")
        widget = field_ref.get_object()
        if "/Kids" in widget:
            widget = widget["/Kids"][0].get_object()
        x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
        page = 0
        target = widget.raw_get("/P") if "/P" in widget else None
        if target is not None:
            for index in range(int(writer.root["/Pages"]["/Count"])):
                ref, _ = writer.find_page_for_modification(index)
                if ref.reference == target.reference:
                    page = index
                    break
        return layout.Box(page, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    raise PlaceNotFound(f"không có trường chữ ký {name!r} / there is no signature field {name!r}")


def plan_approve(document, writer, page_count, request, certificate) -> Plan:
    placement = request.placement
    image = request.signature_image
    natural = image.size_mm()
    natural_height = natural[1] * MM if natural else _APPROVE_DEFAULT_HEIGHT
    if placement is not None and placement.field_name is not None:
        box = _existing_field_box(writer, placement.field_name)
        fitted = drawings.fit_image(image, within=box, max_width=box.width, natural_height=box.height)
        # the widget keeps the field's rectangle; the image is centred inside it
        content = (
            f"q {fitted.width:.3f} 0 0 {fitted.height:.3f} {fitted.x0 - box.x0:.3f} {fitted.y0 - box.y0:.3f} cm "
            "/Im1 Do Q\n"
        ).encode("ascii")
        return Plan(drawings.Drawing(box, content, images={"Im1": image}), existing_field=placement.field_name)
    if placement is not None and placement.box is not None:
        if placement.page >= page_count:
            raise PlaceNotFound(
                f"trang {placement.page + 1} không tồn tại (văn bản có {page_count} trang) / "
                f"page {placement.page + 1} does not exist (the document has {page_count})"
            )
        within = layout.Box(placement.page, *placement.box)
        box = drawings.fit_image(image, within=within, max_width=within.width, natural_height=within.height)
        return Plan(drawings.image_drawing(box, image))
    identity = parse_identity(certificate)
    name = request.signer_name or identity.common_name
    if not name:
        raise PlaceNotFound(
            "cần họ tên người ký để tìm khối chữ ký (chứng thư không có) / "
            "the name line to look for is needed (the certificate has no common name)"
        )
    if request.title or not identity.title:
        block = layout.find_signature_block(document, page_count=page_count, title=request.title, name=name)
    else:
        # the certificate's title is often worded unlike the document's title line: try it, then the
        # nearest line above the name
        try:
            block = layout.find_signature_block(document, page_count=page_count, title=identity.title,
                                                name=name)
        except PlaceNotFound:
            block = layout.find_signature_block(document, page_count=page_count, title=None, name=name)
    box = drawings.fit_image(image, within=block, max_width=_APPROVE_MAX_WIDTH, natural_height=natural_height)
    return Plan(drawings.image_drawing(box, image))


async def plan_issue(document, writer, request, environment, moment) -> Plan:
    signature_box = await find_valid_personal_signature(writer.prev, environment)
    diameter = request.seal_diameter_mm
    if diameter is None:
        declared = request.seal_image.size_mm()
        if declared is None:
            raise PlaceNotFound(
                "không biết kích thước thật của dấu: PNG không khai báo DPI, hãy cho đường kính (mm) / "
                "the seal's real size is unknown: the PNG declares no DPI, give its diameter in mm"
            )
        diameter = declared[0]
    seal = drawings.seal_box(signature_box, diameter_mm=diameter, image=request.seal_image)
    # Find both places before taking a number, so a document without them does not burn one.
    number_place, (day, month, year) = layout.find_issue_places(document)
    if environment.numbers is None:
        raise NumberingError("chưa có bộ cấp số văn bản / no number allocator is configured")
    issued_on = moment.astimezone(VIETNAM).date()
    try:
        value = environment.numbers.allocate(request.agency_code, issued_on.year, request.series)
    except SignerError:
        raise
    except Exception as exc:  # the allocator is the caller's code (the ledger): translate its failure
        raise NumberingError(f"không cấp được số văn bản / numbering failed: {exc}") from exc
    if not isinstance(value, int) or value < 1:
        raise NumberingError(f"số văn bản không hợp lệ {value!r} / invalid document number {value!r}")
    number = IssuedNumber(value, request.series, issued_on)
    extras = (
        drawings.placeholder_fill(number_place, f"{value:02d}"),
        # Decree 30 Appendix I: day below 10 and months 1 and 2 get a leading zero
        drawings.placeholder_fill(day, f"{issued_on.day:02d}"),
        drawings.placeholder_fill(month, f"{issued_on.month:02d}" if issued_on.month <= 2 else str(issued_on.month)),
        drawings.placeholder_fill(year, str(issued_on.year)),
    )
    return Plan(drawings.image_drawing(seal, request.seal_image), extras=extras, number=number)


def _visible_box(writer, index: int) -> tuple[float, float, float, float]:
    """The page's crop box (what a viewer shows), else its media box; inherited values included."""
    page_ref, _ = writer.find_page_for_modification(index)
    node = page_ref.get_object()
    for key in ("/CropBox", "/MediaBox"):
        current = node
        while current is not None:
            if key in current:
                x0, y0, x1, y1 = (float(v) for v in current[key])
                return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
            current = current["/Parent"] if "/Parent" in current else None  # [] resolves the reference
    raise BrokenPdf("trang không có kích thước (MediaBox) / the page has no MediaBox")


def _top_right(writer, lines) -> drawings.Drawing:
    x0, y0, x1, y1 = _visible_box(writer, 0)
    # Decree 30 Appendix I: in the top margin, right side of page 1 (the margin is 20-25 mm)
    return drawings.text_block(lines, page=0, anchor_x=x1 - 10 * MM, top_y=y1 - 4 * MM, align="right",
                               padding=1.5)


def plan_text(writer, request: SignatureRequest, certificate, moment) -> Plan:
    identity = parse_identity(certificate)
    agency = identity.organization or identity.common_name or ""
    time_line = drawings.TextLine(vietnam_time(moment))
    kind = request.kind
    if kind is SignatureKind.APPENDIX:
        lines = [drawings.TextLine(agency), drawings.TextLine(f"Số: {request.notation}"), time_line]
        return Plan(_top_right(writer, lines))
    if kind is SignatureKind.COPY:
        lines = [drawings.TextLine(request.copy_form.value), drawings.TextLine(request.copying_agency), time_line]
        return Plan(_top_right(writer, lines))
    received = request.received_on or moment.astimezone(VIETNAM).date()
    lines = [
        drawings.TextLine("ĐẾN", size=11, bold=True),
        drawings.TextLine(f"Số: {request.incoming_number} - Ngày: {received.strftime('%d/%m/%Y')}"),
        time_line,
    ]
    x0, y0, x1, y1 = _visible_box(writer, 0)
    # DOMAIN.md (inferred layout): the receipt stamp, framed, in the top margin at the left of page 1.
    return Plan(drawings.text_block(lines, page=0, anchor_x=x0 + 20 * MM, top_y=y1 - 4 * MM,
                                     align="left", border=True, padding=1.5))
