"""Every refusal of the plugin endpoint: its exact Status and Message, nothing signed or uploaded that
should not be, an audit record where a request is refused at the door, and the server still serving."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import time

import pytest
from websockets.exceptions import InvalidStatus

from tests.support import documents
from tests.support.softhsm import PERSONAL_SUBJECT, TEST_SO_PIN, TEST_USER_PIN, TestToken, provision_key
from tests.support.vgca import JWT, SESSION, start_vgca_world

pytestmark = pytest.mark.integration

SIGNER = dict(PERSONAL_SUBJECT)["common_name"]
TITLE = dict(PERSONAL_SUBJECT)["title"]
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def decision() -> bytes:
    return documents.decision_pdf(title=TITLE.upper(), name=SIGNER)


def _still_serving(world, decision) -> None:
    world.dms.files["after.pdf"] = decision
    before = len(world.dms.uploads)
    assert world.call("SignApproved", world.document_frame("after.pdf"))["Status"] == 0
    assert len(world.dms.uploads) == before + 1


def _handshake_refusal(world, endpoint: str, **kwargs) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as raised:
        world.call(endpoint, "{}", **kwargs)
    response = raised.value.response
    return response.status_code, json.loads(response.body)


def test_a_foreign_origin_is_refused_at_the_handshake_and_audited(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    status, body = _handshake_refusal(vgca_world, "SignApproved", origin="https://evil.example")
    assert status == 403
    assert body == {"Status": 3, "Message": "trang 'https://evil.example' không được phép dùng cầu nối ký số này / "
                                            "origin 'https://evil.example' is not allowed to use this bridge"}
    refused = [r for r in vgca_world.audit.records() if r.event == "request_refused"][-1]
    assert (refused.origin, refused.error_code, refused.description) == (
        "https://evil.example", "origin_refused", f"GET /SignApproved (Host: 127.0.0.1:{vgca_world.server.port})")
    assert vgca_world.dms.downloads == []
    _still_serving(vgca_world, decision)


def _raw_handshake(world, host: str) -> tuple[str, dict]:
    """A handshake with exactly one Host header of our choosing (what a DNS-rebinding page's browser sends)."""
    import base64
    import os
    import socket

    with socket.create_connection(("127.0.0.1", world.server.port), timeout=10) as raw:
        with world.identity.client_context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            key = base64.b64encode(os.urandom(16)).decode()
            tls.sendall((f"GET /GetVersion HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                         f"Origin: {world.dms.origin}\r\n\r\n").encode())
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


def test_a_host_header_other_than_loopback_is_refused(vgca_world):
    port = vgca_world.server.port
    status_line, body = _raw_handshake(vgca_world, f"rebind.example:{port}")
    assert status_line == "HTTP/1.1 421 Misdirected Request"
    assert body == {"Status": 3, "Message": f"Host 'rebind.example:{port}' không phải là cầu nối này / "
                                            f"Host 'rebind.example:{port}' does not name this bridge"}
    refused = [r for r in vgca_world.audit.records() if r.event == "request_refused"][-1]
    assert refused.error_code == "host_refused"


def test_an_unknown_endpoint_is_refused(vgca_world, decision):
    status, body = _handshake_refusal(vgca_world, "SignEverything")
    assert (status, body) == (404, {"Status": 2, "Message": "không có chức năng 'SignEverything' / "
                                                            "unknown endpoint 'SignEverything'"})
    _still_serving(vgca_world, decision)


@pytest.mark.parametrize("frame, message", [
    ("not json", "nội dung không phải JSON hợp lệ / the frame is not valid JSON"),
    ("[1, 2]", "nội dung phải là một đối tượng JSON / the frame must be a JSON object"),
    ('{"FileUploadHandler": "http://x/u"}', "thiếu trường FileName / missing field FileName"),
    ('{"FileName": 5, "FileUploadHandler": "http://x/u"}', "trường FileName phải là chuỗi / field FileName must be "
                                                           "a string"),
    ('{"FileName": "http://x/a\\nb", "FileUploadHandler": "http://x/u"}',
     "trường FileName chứa ký tự điều khiển / field FileName contains control characters"),
])
def test_a_malformed_frame_gets_status_1(vgca_world, frame, message):
    assert vgca_world.call("SignApproved", frame) == {"Status": 1, "Message": message}
    assert vgca_world.consent.requests == []


def test_a_filename_on_another_host_is_refused_before_any_download(vgca_world):
    frame = vgca_world.document_frame("x.pdf")
    frame["FileName"] = f"{vgca_world.dms.other_origin}/files/x.pdf"
    answer = vgca_world.call("SignApproved", frame)
    assert answer == {"Status": 4, "Message": (
        f"FileName: máy chủ {vgca_world.dms.other_origin} không phải của trang gọi ({vgca_world.dms.origin}) và không "
        f"nằm trong vgca_allowed_hosts / FileName: {vgca_world.dms.other_origin} is neither the calling page's origin "
        f"({vgca_world.dms.origin}) nor in vgca_allowed_hosts")}
    assert vgca_world.dms.downloads == []


@pytest.mark.parametrize("url, field", [("file:///etc/passwd", "FileName"), ("ftp://127.0.0.1/x.pdf", "FileName")])
def test_other_url_schemes_are_refused(vgca_world, url, field):
    frame = vgca_world.document_frame("x.pdf")
    frame[field] = url
    assert vgca_world.call("SignApproved", frame) == {
        "Status": 4, "Message": f"{field}: chỉ chấp nhận địa chỉ http hoặc https / {field}: only http and https URLs "
                                f"are allowed"}


def test_an_upload_handler_on_another_host_is_refused_before_any_download(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    frame = vgca_world.document_frame("x.pdf")
    frame["FileUploadHandler"] = f"{vgca_world.dms.other_origin}/upload"
    answer = vgca_world.call("SignApproved", frame)
    assert answer["Status"] == 4
    assert answer["Message"].startswith(f"FileUploadHandler: máy chủ {vgca_world.dms.other_origin} ")
    assert vgca_world.dms.downloads == [] and vgca_world.consent.requests == []


def test_a_redirect_to_another_host_is_refused_and_one_on_the_same_origin_followed(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    away = vgca_world.call("SignApproved", vgca_world.document_frame("../away/x.pdf"))
    assert away["Status"] == 4
    assert away["Message"].startswith(f"FileName (chuyển hướng / redirect): máy chủ {vgca_world.dms.other_origin} ")
    assert vgca_world.dms.uploads == [] and vgca_world.consent.requests == []
    hop = vgca_world.call("SignApproved", vgca_world.document_frame("../hop/x.pdf"))
    assert hop["Status"] == 0, hop
    assert vgca_world.dms.downloads == ["x.pdf"]


def test_an_oversized_download_stops_at_the_limit(vgca_world, decision):
    frame = vgca_world.document_frame("x.pdf")
    frame["FileName"] = f"{vgca_world.dms.origin}/huge.pdf"
    answer = vgca_world.call("SignApproved", frame)
    assert answer == {"Status": 5, "Message": (
        f"tải tệp {vgca_world.dms.origin}/huge.pdf thất bại: tệp lớn hơn giới hạn 2097152 byte / download of "
        f"{vgca_world.dms.origin}/huge.pdf failed: the file is larger than the 2097152-byte limit")}
    assert vgca_world.consent.requests == []
    _still_serving(vgca_world, decision)


def test_a_download_that_is_not_a_pdf_is_refused(vgca_world):
    vgca_world.dms.files["x.pdf"] = b"<html>login</html>"
    assert vgca_world.call("SignApproved", vgca_world.document_frame("x.pdf")) == {
        "Status": 5, "Message": "tệp tải về không phải PDF / the downloaded file is not a PDF"}
    assert vgca_world.consent.requests == []


def test_the_handlers_refusal_is_passed_on(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    frame = vgca_world.document_frame("x.pdf")
    frame["FileUploadHandler"] = f"{vgca_world.dms.origin}/upload-refused"
    assert vgca_world.call("SignApproved", frame) == {
        "Status": 6, "Message": "máy chủ nhận tệp từ chối: Văn bản đã bị thu hồi / the upload handler refused: "
                                "Văn bản đã bị thu hồi"}


def test_a_refused_consent_signs_and_uploads_nothing(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    vgca_world.consent.answers.append(False)
    assert vgca_world.call("SignApproved", vgca_world.document_frame("x.pdf")) == {
        "Status": 7, "Message": "Người dùng đã từ chối ký. / The user refused to sign."}
    assert vgca_world.dms.uploads == []
    record = vgca_world.audit.records()[-1]
    assert (record.outcome, record.error_code, record.origin) == ("refused", "consent_refused", vgca_world.dms.origin)
    _still_serving(vgca_world, decision)


def test_sign_issued_needs_a_number_and_todays_date(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    assert vgca_world.call("SignIssued", vgca_world.document_frame("x.pdf")) == {
        "Status": 1, "Message": "SignIssued cần DocNumber dạng số/ký hiệu, ví dụ 15/QĐ-UBND / SignIssued needs "
                                "DocNumber as number/notation, e.g. 15/QĐ-UBND"}
    answer = vgca_world.call("SignIssued", vgca_world.document_frame(
        "x.pdf", DocNumber="15/QĐ-UBND", IssuedDate="2019-03-12T12:00:00+07:00"))
    assert answer["Status"] == 1
    assert answer["Message"].startswith("IssuedDate 2019-03-12T12:00:00+07:00 không phải hôm nay")
    assert vgca_world.dms.downloads == []


def test_issuing_a_document_without_a_personal_signature_is_a_policy_refusal(vgca_world, decision):
    vgca_world.dms.files["x.pdf"] = decision
    answer = vgca_world.call("SignIssued", vgca_world.document_frame("x.pdf", DocNumber="16/QĐ-UBND"))
    assert answer["Status"] == 11, answer
    assert "cá nhân" in answer["Message"]
    assert vgca_world.dms.uploads == []


@pytest.mark.parametrize("endpoint", ["Comment", "SignXML", "SignMsg", "VerifyMsg"])
def test_unsupported_endpoints_answer_status_12_at_once(vgca_world, endpoint):
    answer = vgca_world.call(endpoint, "{}")
    assert answer["Status"] == 12
    assert " / " in answer["Message"]


def test_information_endpoints(vgca_world, personal_rsa_token):
    from token_bridge.catalogue import certificate_id

    assert vgca_world.call("GetVersion", "GetVersion") == {"Status": 0, "Message": "", "Version": "kyso-vgca-1.0"}
    assert vgca_world.call("GetVersion", "version") == {
        "Status": 1, "Message": "GetVersion cần nội dung 'GetVersion' / GetVersion expects the body 'GetVersion'"}
    config = vgca_world.call("Config", "config")
    assert config["Status"] == 0 and "SignIssued" in config["Endpoints"] and "Comment" not in config["Endpoints"]
    info = vgca_world.call("GetCertInfo", "get_cert_info")
    assert info["Status"] == 0
    assert info["CertInfo"]["Id"] == certificate_id(personal_rsa_token.certificate)
    assert info["CertInfo"]["CommonName"] == SIGNER
    assert info["CertInfo"]["Serial"] == format(personal_rsa_token.certificate.serial_number, "X")
    assert info["CertInfo"]["Base64"]


@pytest.fixture
def pin_world(tmp_path, pki, softhsm):
    """A fresh token nobody is logged in to, and a plugin world whose PIN prompt the test scripts."""
    from kyso.vgca.plugin import BatchConsent
    from token_bridge.audit import AuditLog
    from token_bridge.catalogue import certificate_id
    from token_bridge.consent import ScriptedConsent
    from token_bridge.pin import ScriptedPinPrompt
    from token_bridge.signing import Bridge
    from token_bridge.softhsm import initialise_token

    label = f"test-vgca-pin-{next(_counter)}"
    initialise_token(softhsm.module, label=label, so_pin=TEST_SO_PIN, user_pin=TEST_USER_PIN)
    session = softhsm.module.session(label, pin_prompt=ScriptedPinPrompt([TEST_USER_PIN]))
    token = TestToken(label=label, user_pin=TEST_USER_PIN, so_pin=TEST_SO_PIN, session=session)
    provisioned = provision_key(token, kind="rsa", key_label="pin", key_id=b"\x0a", subject=PERSONAL_SUBJECT,
                                pki=pki, profile="personal")
    session.close()  # logs the token out: the plugin's login is the one under test
    consent, audit, prompt = ScriptedConsent(default=True), AuditLog(), ScriptedPinPrompt([])
    bridge = Bridge([softhsm.module], pin_prompt=prompt, consent=BatchConsent(consent), audit=audit)
    with contextlib.ExitStack() as stack:
        # pulled out at the end: other tests of the run pick "the first personal certificate" of every token
        stack.callback(softhsm.directory.unplug_token, label, parking=tmp_path / "pulled-out-at-end")
        world = start_vgca_world(stack, tmp_path, pki, bridge=bridge, consent=consent, audit=audit, pin_prompt=prompt,
                                 personal_certificate=certificate_id(provisioned.certificate))
        yield world, label, prompt


def test_a_wrong_pin_says_so_and_uploads_nothing(pin_world, decision):
    from token_bridge.pin import Pin

    world, label, prompt = pin_world
    world.dms.files["x.pdf"] = decision
    prompt.pins.append(Pin("000000"))
    answer = world.call("SignApproved", world.document_frame("x.pdf"))
    assert answer == {"Status": 8, "Message": (
        f"Mã PIN của thiết bị '{label}' không đúng: thiết bị đã ghi nhận lần nhập sai mã PIN; thêm vài lần sai nữa sẽ "
        f"bị khóa. / Wrong PIN for token '{label}': the token has recorded wrong PIN attempts; it will lock after a "
        f"few more.")}
    assert world.dms.uploads == []
    # The bridge backs off after a failed login (1 s after the first): an immediate retry is told to wait,
    # asks no PIN and uploads nothing.
    prompt.pins.append(Pin(TEST_USER_PIN))
    assert world.call("SignApproved", world.document_frame("x.pdf")) == {"Status": 8, "Message": (
        f"Sau 1 lần đăng nhập thất bại trên thiết bị '{label}', hãy thử lại sau 1 giây. / After 1 failed login(s) on "
        f"token '{label}', the next attempt waits: try again in 1 seconds.")}
    assert world.dms.uploads == [] and len(prompt.pins) == 1
    time.sleep(1.2)  # past the back-off; not a timing assertion
    assert world.call("SignApproved", world.document_frame("x.pdf"))["Status"] == 0
    assert len(world.dms.uploads) == 1


def test_a_removed_token_says_insert_it(pin_world, decision, softhsm):
    from token_bridge.pin import Pin

    world, label, prompt = pin_world
    world.dms.files["x.pdf"] = decision
    prompt.pins.append(Pin(TEST_USER_PIN))
    assert world.call("SignApproved", world.document_frame("x.pdf"))["Status"] == 0
    unplugged = softhsm.directory.unplug_token(label, parking=world.identity.ca_certificate.parent / "pulled-out")
    try:
        answer = world.call("SignApproved", world.document_frame("x.pdf"))
    finally:
        unplugged.plug_back()
    chosen = world.server.endpoint.personal_certificate[:16]
    assert answer == {"Status": 10, "Message": (
        f"không thấy thiết bị chứa chứng thư số cá nhân đã chọn ({chosen}): hãy cắm thiết bị ký số / the token with "
        f"the chosen personal certificate ({chosen}) is not present: insert the token")}
    assert len(world.dms.uploads) == 1
    assert world.dms.downloads == ["x.pdf"]  # refused before downloading again
    assert world.call("SignApproved", world.document_frame("x.pdf")) == {  # back in: a new login, no PIN given
        "Status": 7, "Message": f"Người dùng đã hủy nhập mã PIN cho thiết bị '{label}'. / "
                                f"PIN entry for token '{label}' was cancelled."}
    prompt.pins.append(Pin(TEST_USER_PIN))
    assert world.call("SignApproved", world.document_frame("x.pdf"))["Status"] == 0
    assert len(world.dms.uploads) == 2


def test_an_expired_certificate_is_a_policy_refusal_before_any_consent(tmp_path, pki, softhsm, decision):
    # expired rather than revoked: revoking in the session PKI would change the CRL other tests judge
    import datetime as dt

    from kyso.vgca.plugin import BatchConsent
    from token_bridge.audit import AuditLog
    from token_bridge.catalogue import certificate_id
    from token_bridge.consent import ScriptedConsent
    from token_bridge.pin import RepeatingPinPrompt, ScriptedPinPrompt
    from token_bridge.signing import Bridge
    from token_bridge.softhsm import initialise_token

    label = f"test-vgca-expired-{next(_counter)}"
    initialise_token(softhsm.module, label=label, so_pin=TEST_SO_PIN, user_pin=TEST_USER_PIN)
    session = softhsm.module.session(label, pin_prompt=ScriptedPinPrompt([TEST_USER_PIN]))
    token = TestToken(label=label, user_pin=TEST_USER_PIN, so_pin=TEST_SO_PIN, session=session)
    key = token.generate_rsa("expired", b"\x0b")
    now = dt.datetime.now(dt.timezone.utc)
    entity = pki.issue(f"vgca-{label}", profile="personal", attributes=PERSONAL_SUBJECT, key=key,
                       not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=2))
    token.write_certificate(entity.certificate, label="expired", key_id=b"\x0b")
    session.close()
    # pulled out at the end: other tests of the run pick "the first personal certificate" of every token
    stack_outer = contextlib.ExitStack()
    stack_outer.callback(softhsm.directory.unplug_token, label, parking=tmp_path / "pulled-out")
    consent, audit = ScriptedConsent(default=True), AuditLog()
    bridge = Bridge([softhsm.module], pin_prompt=RepeatingPinPrompt(TEST_USER_PIN), consent=BatchConsent(consent),
                    audit=audit)
    with contextlib.ExitStack() as stack:
        world = start_vgca_world(stack, tmp_path, pki, bridge=bridge, consent=consent, audit=audit,
                                 pin_prompt=bridge.pin_prompt, personal_certificate=certificate_id(entity.certificate))
        stack.enter_context(stack_outer)
        world.dms.files["x.pdf"] = decision
        answer = world.call("SignApproved", world.document_frame("x.pdf"))
    assert answer["Status"] == 11, answer
    assert "hết hạn" in answer["Message"] and "expired" in answer["Message"]
    assert world.dms.uploads == [] and consent.requests == []
