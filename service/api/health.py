"""Liveness and the API description: `GET /healthz`, `GET /api/v1/openapi.json`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.guard import runtime
from service.openapi import build_document, json_response, operation

blueprint = Blueprint("health", __name__)


def _version() -> str:
    try:
        return version("kyso")
    except PackageNotFoundError:
        return "unknown"


@blueprint.get("/healthz")
@operation(
    "Liveness and database reachability",
    tag="system",
    responses={
        "200": json_response("the service and its database answer"),
        "503": json_response("the database does not answer"),
    },
)
def healthz():
    try:
        with runtime().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        runtime().logger.error("database unreachable", extra={"fields": {"error": type(exc).__name__}})
        return jsonify({"status": "unavailable", "database": "unreachable", "version": _version()}), 503
    return jsonify({"status": "ok", "database": "ok", "version": _version()})


@blueprint.get("/api/v1/openapi.json")
@operation("This OpenAPI 3 document", tag="system", responses={"200": json_response("OpenAPI 3.0 document")})
def openapi_document():
    return jsonify(build_document(current_app, server_url=request.host_url.rstrip("/")))
