"""The application skeleton: health, OpenAPI, authentication, CSRF, roles, audit, error answers."""

import json

from service.openapi import build_document


def test_healthz_reports_database(service_world):
    answer = service_world.client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json["status"] == "ok" and answer.json["database"] == "ok"
    assert answer.headers["Cache-Control"] == "no-store"


def test_openapi_describes_every_api_route(service_world):
    app = service_world.app
    document = service_world.client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":  # every route but the static files: API, health, pages
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                path = rule.rule.replace("<", "{").replace(">", "}")
                path = __import__("re").sub(r"\{[a-z_]+:", "{", path)
                assert (path, method.lower()) in described, (path, method)
    assert document["paths"]["/api/v1/users"]["post"]["x-kyso-permission"] == "users"
    assert build_document(app)["paths"]["/healthz"]["get"]["security"] == []


def test_missing_and_wrong_api_keys_are_401(service_world):
    client = service_world.client()
    assert client.get("/api/v1/users").json["error"] == "unauthenticated"
    wrong = client.get("/api/v1/users", headers={"Authorization": "Bearer kyso_000000000000_" + "A" * 43})
    assert (wrong.status_code, wrong.json["message"]) == (401, "wrong API key")
    assert wrong.json["message_vi"] == "Khóa API không đúng"


def test_scope_missing_is_403_and_audited(service_world):
    answer = service_world.api("validator").post("/api/v1/api-keys", json={"name": "x", "scopes": ["validate"]})
    assert answer.status_code == 403
    assert answer.json["message"] == "permission 'users' is required for this action"
    audit = service_world.logged_in("admin").get("/api/v1/audit?action=denied:users").json["events"]
    assert [(e["actor"], e["outcome"], e["target"]) for e in audit] == [("api_key:validator", "forbidden", "/api/v1/api-keys")]


def test_session_write_needs_csrf_token(service_world):
    admin = service_world.logged_in("admin")
    body = {"username": "newclerk", "password": "0123456789ab", "roles": ["clerk"]}
    refused = admin.post("/api/v1/users", json=body, csrf=False)
    assert (refused.status_code, refused.json["error"]) == (403, "csrf_failed")
    assert "newclerk" not in json.dumps(admin.get("/api/v1/users").json)
    created = admin.post("/api/v1/users", json=body)
    assert created.status_code == 201 and created.json["roles"] == ["clerk"]
    assert "password" not in created.json


def test_wrong_password_login_is_refused_and_audited(service_world):
    client = service_world.client()
    page = client.get("/login")
    token = __import__("re").search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    answer = client.post("/login", data={"username": "admin", "password": "wrong-password", "csrf_token": token})
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu".encode() in answer.data
    assert client.get("/dashboard").status_code == 302
    events = service_world.logged_in("admin").get("/api/v1/audit?action=login").json["events"]
    assert [(e["actor"], e["outcome"]) for e in events][-1] == ("user:admin", "failed")


def test_role_limits_pages_and_api(service_world):
    official = service_world.logged_in("official")
    assert official.get("/dashboard").status_code == 403
    assert official.get("/api/v1/users").json["message"] == "permission 'users' is required for this action"
    assert service_world.logged_in("auditor").get("/dashboard").status_code == 200


def test_api_key_created_once_and_revoked(service_world):
    admin = service_world.logged_in("admin")
    created = admin.post("/api/v1/api-keys", json={"name": "axis", "scopes": ["validate"]})
    assert created.status_code == 201
    key = created.json["key"]
    client = service_world.client()
    assert client.get("/api/v1/users", headers={"X-API-Key": key}).status_code == 403
    assert admin.post("/api/v1/api-keys/axis/revocation").status_code == 200
    after = client.get("/api/v1/users", headers={"X-API-Key": key})
    assert (after.status_code, after.json["message"]) == (401, "API key revoked")


def test_unknown_route_and_method_are_json(service_world):
    client = service_world.client()
    assert client.get("/api/v1/nothing").json["error"] == "not_found"
    assert client.delete("/healthz").status_code == 405


def test_english_pages_on_request(service_world):
    client = service_world.client()
    assert "Đăng nhập".encode() in client.get("/login").data
    english = client.get("/login?lang=en")
    assert b"Log in" in english.data and "kyso_lang=en" in english.headers["Set-Cookie"]
    assert b"Log in" in client.get("/login").data


def test_login_never_redirects_off_site_and_logout_needs_csrf(service_world):
    import re

    client = service_world.client()
    page = client.get("/login?next=//evil.example/phish")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    answer = client.post("/login", data={"username": "auditor", "password": "mật-khẩu-thử-nghiệm-1",
                                         "csrf_token": token, "next": "//evil.example/phish"})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    assert client.post("/logout").status_code == 403  # no CSRF token: a foreign page cannot log us out
    dashboard = client.get("/dashboard")
    csrf = re.search(rb'name="csrf-token" content="([^"]+)"', dashboard.data).group(1).decode()
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_pages_carry_a_strict_content_security_policy(service_world):
    page = service_world.logged_in("official").get("/sign")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "connect-src 'self' http://127.0.0.1:8988" in policy
    assert b"<script>" not in page.data  # no inline script: everything from /static or the bridge client


def test_each_request_is_one_json_log_line_without_secrets(sqlite_url):
    import io
    import json
    import logging

    from service.app import create_app
    from service.request_log import JsonLineFormatter
    from service.settings import ServiceSettings
    from service.wiring import migrate_all

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("kyso.service.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    settings = ServiceSettings(database_url=sqlite_url, secret_key="z" * 40, mount_pki=False)
    migrate_all(settings)
    app = create_app(settings, logger=logger)
    key = "kyso_000000000000_" + "B" * 43
    app.test_client().get("/api/v1/users", headers={"Authorization": f"Bearer {key}", "X-Request-Id": "req-42"})
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert (line["message"], line["method"], line["path"], line["status"], line["request_id"]) == (
        "request", "GET", "/api/v1/users", 401, "req-42")
    assert line["level"] == "info" and line["time"].endswith("+00:00")
    assert key not in stream.getvalue()
    app.extensions["kyso"].engine.dispose()


def test_openapi_document_is_valid_openapi_3(service_world):
    from openapi_spec_validator import validate

    document = service_world.client().get("/api/v1/openapi.json").json
    validate(document)  # raises OpenAPIValidationError naming the wrong part
    assert document["openapi"] == "3.0.3"
