"""The OpenAPI 3 description of the service, built from the routes themselves.

Each view declares its operation with `@operation(...)`; `build_document(app)` walks the URL map, so a route
without a description is visible (tests check that every /api route and /healthz is described).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from flask import Flask

_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_PATH_CONVERTER = re.compile(r"<path:([a-z_]+)>")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "message_vi"],
    "properties": {
        "error": {"type": "string", "description": "stable error code"},
        "message": {"type": "string", "description": "English message"},
        "message_vi": {"type": "string", "description": "Vietnamese message"},
        "detail": {"type": "object"},
    },
}


# The CA's PKI endpoints (service/pki.py, mounted at /pki) are described here: their views are the CA's.
_BINARY = {"type": "string", "format": "binary"}
PKI_OPERATIONS: dict[str, dict] = {
    "pki.ca_certificate": {"summary": "A CA certificate (DER)", "tag": "pki", "permission": None,
                           "request_body": None, "parameters": [],
                           "responses": {"200": {"description": "certificate", "content": {"application/pkix-cert": {"schema": _BINARY}}},
                                         "404": {"description": "unknown CA"}}},
    "pki.ca_crl": {"summary": "The current CRL of a CA (DER)", "tag": "pki", "permission": None,
                   "request_body": None, "parameters": [],
                   "responses": {"200": {"description": "CRL", "content": {"application/pkix-crl": {"schema": _BINARY}}},
                                 "404": {"description": "unknown CA"}}},
    "pki.ocsp_post": {"summary": "OCSP (RFC 6960), POST", "tag": "pki", "permission": None, "parameters": [],
                      "request_body": {"required": True, "content": {"application/ocsp-request": {"schema": _BINARY}}},
                      "responses": {"200": {"description": "OCSP response",
                                            "content": {"application/ocsp-response": {"schema": _BINARY}}}}},
    "pki.ocsp_get": {"summary": "OCSP (RFC 6960 A.1), GET with the base64 request in the path", "tag": "pki",
                     "permission": None, "request_body": None, "parameters": [],
                     "responses": {"200": {"description": "OCSP response",
                                           "content": {"application/ocsp-response": {"schema": _BINARY}}}}},
    "pki.tsa": {"summary": "Time-stamping (RFC 3161)", "tag": "pki", "permission": None, "parameters": [],
                "request_body": {"required": True, "content": {"application/timestamp-query": {"schema": _BINARY}}},
                "responses": {"200": {"description": "time-stamp response",
                                      "content": {"application/timestamp-reply": {"schema": _BINARY}}}}},
}


def operation(
    summary: str,
    *,
    tag: str,
    permission: str | None = None,
    request_body: dict | None = None,
    responses: dict[str, Any] | None = None,
    parameters: list[dict] | None = None,
) -> Callable:
    """Attach an OpenAPI operation to a view function (one per method of the route)."""

    def decorate(view: Callable) -> Callable:
        view.__openapi__ = {
            "summary": summary,
            "tag": tag,
            "permission": permission,
            "request_body": request_body,
            "responses": responses or {"200": {"description": "OK"}},
            "parameters": parameters or [],
        }
        return view

    return decorate


def json_body(schema: dict, *, description: str | None = None) -> dict:
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def json_response(description: str, schema: dict | None = None) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def build_document(app: Flask, *, server_url: str | None = None) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "__openapi__", None) or PKI_OPERATIONS.get(rule.endpoint)
        if spec is None:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _CONVERTER.findall(rule.rule)
            ] + list(spec["parameters"])
            responses = dict(spec["responses"])
            if spec["permission"]:
                for status, text in (("401", "no or wrong credentials"), ("403", "permission missing")):
                    responses.setdefault(status, json_response(text, {"$ref": "#/components/schemas/Error"}))
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}_{method.lower()}".replace(".", "_"),
                "summary": spec["summary"],
                "tags": [spec["tag"]],
                "responses": responses,
            }
            if parameters:
                op["parameters"] = parameters
            if spec["request_body"] and method in ("POST", "PUT", "PATCH"):
                op["requestBody"] = spec["request_body"]
            if spec["permission"]:
                op["security"] = [{"apiKey": []}, {"session": []}]
                op["x-kyso-permission"] = spec["permission"]
            else:
                op["security"] = []
            paths.setdefault(path, {})[method.lower()] = op
    document = {
        "openapi": "3.0.3",
        "info": {
            "title": "kyso central signature service",
            "version": "1",
            "description": "Ký số: validation, signing sessions, documents, ledger and monthly reports.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "kyso_<prefix>_<secret>"},
                "session": {"type": "apiKey", "in": "cookie", "name": "kyso_session"},
            },
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
