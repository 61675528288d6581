"""The plugin protocol's pure parts: frames into requests, the URL rule, the [bridge] plugin keys, the
loopback TLS identity (judged by openssl)."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from kyso.vgca.protocol import BatchRequest, DocumentRequest, Endpoint, PluginError, PluginStatus, check_literal
from kyso.vgca.settings import PluginSettings, PluginSettingsError, split_bridge_table
from kyso.vgca.transfer import Credentials, UrlPolicy, origin_of


def test_a_document_frame_parses_every_field():
    frame = json.dumps({"FileUploadHandler": "https://qlvb.example/upload", "SessionId": "s", "JWTToken": "j",
                        "FileName": "https://qlvb.example/f.pdf", "DocNumber": "15/QĐ-UBND",
                        "IssuedDate": "2019-03-12T12:00:00+07:00",
                        "MetaData": [{"Key": "a", "Value": "1"}, {"Key": "n", "Value": 2}]})
    request = DocumentRequest.from_frame(frame)
    assert (request.file_url, request.upload_url, request.doc_number, request.issued_date) == (
        "https://qlvb.example/f.pdf", "https://qlvb.example/upload", "15/QĐ-UBND", "2019-03-12T12:00:00+07:00")
    assert [(m.key, m.value) for m in request.metadata] == [("a", "1"), ("n", "2")]


@pytest.mark.parametrize("frame, message", [
    ('{"FileName": "u", "FileUploadHandler": "v", "MetaData": {"Key": "a"}}',
     "MetaData phải là danh sách (tối đa 100) / MetaData must be a list (at most 100)"),
    ('{"FileName": "u", "FileUploadHandler": "v", "MetaData": [{"Value": "x"}]}',
     "thiếu trường Key / missing field Key"),
    ('{"FileName": "u", "FileUploadHandler": "v", "DocNumber": "' + "9" * 201 + '"}',
     "trường DocNumber dài quá 200 ký tự / field DocNumber is longer than 200 characters"),
    ('{"FileName": "u\\u202e", "FileUploadHandler": "v"}',
     "trường FileName chứa ký tự điều khiển / field FileName contains control characters"),
])
def test_bad_document_frames_are_malformed(frame, message):
    with pytest.raises(PluginError) as raised:
        DocumentRequest.from_frame(frame)
    assert (raised.value.status, raised.value.message) == (PluginStatus.MALFORMED_REQUEST, message)


def test_a_batch_refuses_duplicates_and_too_many_files():
    files = [{"FileID": 1, "FileName": "a.pdf", "URL": "https://x/a"}, {"FileID": "1", "URL": "https://x/b"}]
    with pytest.raises(PluginError) as raised:
        BatchRequest.from_frame(json.dumps({"FileUploadHandler": "https://x/u", "Files": files}))
    assert raised.value.message == "FileID bị trùng / duplicate FileID"
    many = [{"FileID": str(i), "URL": "https://x/a"} for i in range(21)]
    with pytest.raises(PluginError) as raised:
        BatchRequest.from_frame(json.dumps({"FileUploadHandler": "https://x/u", "Files": many}))
    assert raised.value.message == "tối đa 20 tệp một lần / at most 20 files at once"


def test_endpoints_and_literal_bodies():
    assert Endpoint.from_path("/SignIssued?x=1") is Endpoint.SIGN_ISSUED
    with pytest.raises(PluginError) as raised:
        Endpoint.from_path("/signissued")  # the client's names are case-sensitive
    assert raised.value.status is PluginStatus.UNKNOWN_ENDPOINT
    check_literal(Endpoint.CONFIG, '"config"')  # a JSON string of the word is the same body
    with pytest.raises(PluginError):
        check_literal(Endpoint.GET_CERT_INFO, "certinfo")


@pytest.mark.parametrize("url, origin", [
    ("https://QLVB.example:443/a", "https://qlvb.example"), ("http://qlvb.example:8080/a", "http://qlvb.example:8080"),
    ("http://[::1]:80/x", "http://[::1]"), ("javascript:alert(1)", None), ("https://", None),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


def test_url_policy_allows_the_callers_origin_and_listed_hosts_only():
    policy = UrlPolicy("https://qlvb.example", frozenset({"https://files.qlvb.example"}))
    assert policy.check("https://qlvb.example/f.pdf", field="FileName") == "https://qlvb.example/f.pdf"
    assert policy.check("https://files.qlvb.example/f.pdf", field="FileName")
    for url, status in (("http://qlvb.example/f.pdf", PluginStatus.URL_REFUSED),  # another scheme: another origin
                        ("https://qlvb.example:8443/f.pdf", PluginStatus.URL_REFUSED),
                        ("https://user:pw@qlvb.example/f.pdf", PluginStatus.URL_REFUSED),
                        ("https://169.254.169.254/latest", PluginStatus.URL_REFUSED)):
        with pytest.raises(PluginError) as raised:
            policy.check(url, field="FileName")
        assert raised.value.status is status
    with pytest.raises(PluginError) as raised:
        UrlPolicy(None).check("https://qlvb.example/f.pdf", field="URL")
    assert "(none)" in raised.value.message or "(không có)" in raised.value.message


def test_credentials_become_a_cookie_and_a_bearer_token():
    assert Credentials("abc", "jwt").headers() == {"User-Agent": "kyso-vgca-plugin", "Cookie": "SessionId=abc",
                                                   "Authorization": "Bearer jwt"}
    assert Credentials("ASP.NET_SessionId=xyz").headers()["Cookie"] == "ASP.NET_SessionId=xyz"


def test_plugin_settings_from_the_bridge_table():
    bridge, plugin = split_bridge_table({"port": 8988, "vgca": True, "vgca_port": 9987,
                                         "vgca_allowed_hosts": ["https://Files.example:443/"]})
    assert bridge == {"port": 8988}
    settings = PluginSettings.from_config(plugin)
    assert (settings.enabled, settings.port, settings.allowed_hosts) == (True, 9987, frozenset({"https://files.example"}))
    for table, message in (({"vgca_port": 0}, "[bridge] vgca_port: phải từ 1 đến 65535 / must be between 1 and 65535"),
                           ({"vgca_allowed_hosts": ["https://x.example/path"]},
                            "[bridge] vgca_allowed_hosts: 'https://x.example/path' không phải origin "
                            "(https://tên-máy[:cổng]) / 'https://x.example/path' is not an origin (https://host[:port])"),
                           ({"vgca_level": "B-X"}, "[bridge] vgca_level: phải là B-B, B-T, B-LT hoặc B-LTA / must be "
                                                   "B-B, B-T, B-LT or B-LTA")):
        with pytest.raises(PluginSettingsError) as raised:
            PluginSettings.from_config(table)
        assert str(raised.value) == message


def test_the_loopback_identity_is_made_once_with_private_keys_0600(tmp_path):
    from kyso.vgca.loopback_tls import ensure_loopback_identity

    identity = ensure_loopback_identity(tmp_path / "bridge")
    again = ensure_loopback_identity(tmp_path / "bridge")
    assert again.ca_certificate.read_bytes() == identity.ca_certificate.read_bytes()
    assert again.server_certificate.read_bytes() == identity.server_certificate.read_bytes()
    assert identity.ca_certificate == tmp_path / "bridge" / "loopback-ca.pem"
    for key in ("loopback-ca.key", "loopback-server.key"):
        assert stat.S_IMODE(os.stat(tmp_path / "bridge" / key).st_mode) == 0o600
    # openssl, an independent judge: the server certificate verifies for 127.0.0.1 under the CA
    done = subprocess.run(["openssl", "verify", "-CAfile", str(identity.ca_certificate), "-verify_ip", "127.0.0.1",
                           "-purpose", "sslserver", str(identity.server_certificate)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": OK")
    refused = subprocess.run(["openssl", "verify", "-CAfile", str(identity.ca_certificate), "-verify_hostname",
                              "vanban.hanoi.gov.vn", str(identity.server_certificate)], capture_output=True, text=True)
    assert refused.returncode != 0
    text = subprocess.run(["openssl", "x509", "-in", str(identity.ca_certificate), "-noout", "-ext",
                           "nameConstraints"], capture_output=True, text=True).stdout
    assert "Permitted:" in text and "DNS:localhost" in text and "IP:127.0.0.0/255.0.0.0" in text
