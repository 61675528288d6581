"""The words of the web pages in Vietnamese (first) and English. Keys are used by templates and scripts."""

from __future__ import annotations

LANGUAGES = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"vi": "Ký số — Dịch vụ chữ ký số", "en": "Kyso — digital signature service"},
    "nav.dashboard": {"vi": "Bảng điều khiển", "en": "Dashboard"},
    "nav.sign": {"vi": "Ký văn bản", "en": "Sign"},
    "nav.verify": {"vi": "Kiểm tra chữ ký", "en": "Verify"},
    "nav.logout": {"vi": "Đăng xuất", "en": "Log out"},
    "nav.language": {"vi": "English", "en": "Tiếng Việt"},
    "login.title": {"vi": "Đăng nhập", "en": "Log in"},
    "login.username": {"vi": "Tên đăng nhập", "en": "Username"},
    "login.password": {"vi": "Mật khẩu", "en": "Password"},
    "login.submit": {"vi": "Đăng nhập", "en": "Log in"},
    "login.failed": {"vi": "Sai tên đăng nhập hoặc mật khẩu", "en": "Wrong username or password"},
    "error.title": {"vi": "Có lỗi", "en": "Error"},
    "dashboard.title": {"vi": "Tỷ lệ ký số theo tháng", "en": "Monthly signing rates"},
    "dashboard.month": {"vi": "Tháng", "en": "Month"},
    "dashboard.show": {"vi": "Xem", "en": "Show"},
    "dashboard.level": {"vi": "Cấp", "en": "Level"},
    "dashboard.agency": {"vi": "Cơ quan", "en": "Agency"},
    "dashboard.rate": {"vi": "Tỷ lệ ký số", "en": "Signing rate"},
    "dashboard.target": {"vi": "Chỉ tiêu", "en": "Target"},
    "dashboard.below": {"vi": "Chưa đạt", "en": "Below target"},
    "dashboard.met": {"vi": "Đạt", "en": "Met"},
    "dashboard.documents": {"vi": "Văn bản", "en": "Documents"},
    "dashboard.drilldown": {"vi": "Chi tiết", "en": "Details"},
    "dashboard.coverage": {"vi": "Tỷ lệ có chứng thư số", "en": "Certificate coverage"},
    "dashboard.empty": {"vi": "Không có dữ liệu cho tháng này", "en": "No data for this month"},
    "dashboard.download": {"vi": "Tải về", "en": "Download"},
    "dashboard.behind": {"vi": "Bản ghi sổ cái / số hiệu chứng thư", "en": "Ledger records / certificate serials"},
    "dashboard.metric": {"vi": "Chỉ số", "en": "Measure"},
    "dashboard.total": {"vi": "Tổng", "en": "Total"},
    "metric.signing_rate": {"vi": "tỷ lệ ký số", "en": "signing rate"},
    "metric.online_rate": {"vi": "xử lý trực tuyến", "en": "handled online"},
    "metric.certificate_coverage": {"vi": "có chứng thư số", "en": "certificate coverage"},
    "figure.outgoing": {"vi": "Văn bản đi (không mật)", "en": "Outgoing (not secret)"},
    "figure.signed_valid_both": {"vi": "Ký đủ cá nhân và cơ quan, gửi điện tử", "en": "Personal + agency, sent online"},
    "figure.personal_only": {"vi": "Chỉ ký cá nhân", "en": "Personal only"},
    "figure.agency_only": {"vi": "Chỉ ký cơ quan", "en": "Agency only"},
    "figure.unsigned": {"vi": "Chưa ký", "en": "Unsigned"},
    "figure.secret_excluded": {"vi": "Văn bản mật (không tính)", "en": "Secret (excluded)"},
    "figure.officials": {"vi": "Cán bộ trong danh bạ", "en": "Officials on the roster"},
    "figure.officials_covered": {"vi": "Cán bộ có chứng thư còn hạn", "en": "Officials with a valid certificate"},
    "figure.expiring_soon": {"vi": "Chứng thư hết hạn trong 60 ngày", "en": "Certificates expiring within 60 days"},
    "figure.incoming": {"vi": "Văn bản đến", "en": "Incoming"},
    "figure.incoming_valid": {"vi": "Văn bản đến hợp lệ", "en": "Incoming valid"},
    "figure.incoming_invalid": {"vi": "Văn bản đến không hợp lệ", "en": "Incoming invalid"},
    "figure.incoming_returned": {"vi": "Văn bản đến bị trả lại", "en": "Incoming returned"},
    "sign.title": {"vi": "Ký văn bản bằng thiết bị ký số", "en": "Sign a document with your token"},
    "sign.document": {"vi": "Văn bản", "en": "Document"},
    "sign.choose_document": {"vi": "Chọn văn bản đã đăng ký", "en": "Choose a registered document"},
    "sign.kind": {"vi": "Loại chữ ký", "en": "Signature kind"},
    "sign.certificate": {"vi": "Chứng thư số", "en": "Certificate"},
    "sign.load_certificates": {"vi": "Đọc chứng thư từ thiết bị", "en": "Read certificates from the token"},
    "sign.submit": {"vi": "Ký số", "en": "Sign"},
    "sign.preview": {"vi": "Xem văn bản", "en": "View the document"},
    "sign.download": {"vi": "Tải văn bản đã ký", "en": "Download the signed document"},
    "sign.success": {"vi": "Ký số thành công", "en": "Signed successfully"},
    "sign.failed": {"vi": "Ký số không thành công", "en": "Signing failed"},
    "sign.preparing": {"vi": "Đang chuẩn bị…", "en": "Preparing…"},
    "sign.waiting_token": {"vi": "Đang chờ xác nhận trên thiết bị ký số…", "en": "Waiting for the token…"},
    "sign.completing": {"vi": "Đang hoàn tất chữ ký…", "en": "Completing the signature…"},
    "sign.no_bridge": {"vi": "Không kết nối được phần mềm ký số trên máy", "en": "Cannot reach the token bridge on this computer"},
    "sign.number": {"vi": "Số, ký hiệu", "en": "Number"},
    "sign.image": {"vi": "Ảnh chữ ký hoặc con dấu (PNG trong suốt; để trống để dùng ảnh đã lưu)",
                   "en": "Signature or seal image (transparent PNG; leave empty to use the stored one)"},
    "sign.title_line": {"vi": "Dòng chức danh trên văn bản", "en": "Title line in the document"},
    "sign.series": {"vi": "Ký hiệu văn bản", "en": "Notation"},
    "sign.no_documents": {"vi": "Chưa có văn bản nào để ký", "en": "No document to sign"},
    "sign.choose_certificate": {"vi": "Hãy đọc chứng thư từ thiết bị", "en": "Read the certificates from the token first"},
    "kind.approve": {"vi": "Ký duyệt (cá nhân)", "en": "Approve (personal)"},
    "kind.issue": {"vi": "Ký phát hành (cơ quan)", "en": "Issue (agency)"},
    "kind.appendix": {"vi": "Ký phụ lục", "en": "Appendix"},
    "kind.copy": {"vi": "Ký sao y", "en": "Copy"},
    "kind.incoming": {"vi": "Ký văn bản đến", "en": "Incoming"},
    "verify.title": {"vi": "Kiểm tra văn bản ký số", "en": "Verify a signed document"},
    "verify.drop": {"vi": "Kéo thả tệp PDF hoặc .p7s vào đây, hoặc chọn tệp", "en": "Drop a PDF or .p7s file here, or choose one"},
    "verify.content": {"vi": "Tệp được ký (chữ ký .p7s tách rời cần tệp gốc)", "en": "The signed file (a detached .p7s needs it)"},
    "verify.result": {"vi": "Kết quả", "en": "Result"},
    "verify.signer": {"vi": "Người ký", "en": "Signer"},
    "verify.time": {"vi": "Thời gian ký", "en": "Signing time"},
    "verify.kind": {"vi": "Loại", "en": "Kind"},
    "verify.integrity": {"vi": "Toàn vẹn", "en": "Integrity"},
    "verify.receipt": {"vi": "Tải biên nhận kiểm tra (PDF)", "en": "Download the verification receipt (PDF)"},
    "indication.TOTAL_PASSED": {"vi": "Hợp lệ", "en": "Valid"},
    "indication.TOTAL_FAILED": {"vi": "Không hợp lệ", "en": "Invalid"},
    "indication.INDETERMINATE": {"vi": "Chưa xác định được", "en": "Indeterminate"},
    "indication.NO_SIGNATURE_FOUND": {"vi": "Không có chữ ký số", "en": "No signature found"},
}

from service.web.console_messages import CONSOLE_MESSAGES  # noqa: E402 - the console's words, kept apart

MESSAGES.update(CONSOLE_MESSAGES)


def translate(key: str, language: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(language) or entry["vi"]


def catalogue(language: str) -> dict[str, str]:
    return {key: translate(key, language) for key in MESSAGES}
