"""Stored stamp images over HTTP: an official's signature image and an agency's seal image (service.stamp_images).

`PUT /api/v1/officials/{id}/signature-image` and `PUT /api/v1/agencies/{code}/seal-image` take
`{"image": <PNG base64>}` (the seal also `"diameter_mm"`); `GET` of each returns the PNG. An official may
set and read only their own signature image, a clerk only their own agency's seal, an administrator any.
Every write, refused or not, is audited.
"""

from __future__ import annotations

from flask import Blueprint, Response

from service import stamp_images
from service.accounts import Permission, Role
from service.api import payload
from service.errors import BadRequest, Forbidden, NotFound
from service.guard import db, require, runtime
from service.openapi import json_body, json_response, operation

blueprint = Blueprint("stamp_images", __name__)

_PNG = {"200": {"description": "the stored PNG", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
        "404": json_response("unknown official/agency or no stored image")}
_WRITE_RESPONSES = {"200": json_response("stored", {"type": "object", "properties": {
    "sha256": {"type": "string"}, "diameter_mm": {"type": "number", "nullable": True}}}),
    "400": json_response("not a transparent PNG, or a bad field"), "404": json_response("not on the roster")}


def _administrator(principal) -> bool:
    return principal.kind == "user" and Role.ADMINISTRATOR in principal.roles


def _may_official(principal, official_id: int) -> bool:
    return _administrator(principal) or (principal.kind == "user" and principal.official_id == official_id)


def _may_agency(principal, code: str) -> bool:
    return _administrator(principal) or (
        principal.kind == "user" and Role.CLERK in principal.roles and principal.agency_code == code)


def _official_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise BadRequest("Mã cán bộ phải là số nguyên dương", "the official id must be a positive integer")
    return int(value)


def _code(value: str) -> str:
    return payload.code({"code": value}, "code")


def _write(principal, *, action: str, target: str, allowed: bool, refusal: Forbidden, store_image) -> dict:
    try:
        if not allowed:
            raise refusal
        row = store_image()
    except Exception as exc:
        runtime().audit(principal.label, action, "refused", target=target,
                        detail={"reason": getattr(exc, "message_en", type(exc).__name__)})
        raise
    runtime().audit(principal.label, action, "ok", target=target,
                    detail={"sha256": row.sha256, "diameter_mm": row.diameter_mm})
    return {"sha256": row.sha256, "diameter_mm": row.diameter_mm}


@blueprint.put("/officials/<official_id>/signature-image")
@operation("Store an official's handwritten signature image (blue, transparent PNG), used when a prepare "
           "(approve) sends none", tag="stamp-images", permission="sign",
           request_body=json_body({"type": "object", "required": ["image"], "properties": {
               "image": {"type": "string", "format": "byte", "description": "transparent PNG, base64"}}}),
           responses=_WRITE_RESPONSES)
def put_signature_image(official_id: str):
    principal = require(Permission.SIGN)
    number = _official_id(official_id)
    target = f"official:{number}"

    def store_image():
        data = payload.json_object()
        payload.reject_unknown(data, {"image"})
        png = payload.base64_bytes(data, "image", max_length=stamp_images.MAX_PNG_BYTES)
        stamp_images.require_official(runtime().components.ledger, number)
        stamp_images.check_png(png, role="signature")
        return stamp_images.save(runtime().engine, stamp_images.OFFICIAL, str(number), png, diameter_mm=None,
                                 actor=principal.label, now=runtime().clock())

    return _write(principal, action="stamp_image.signature", target=target,
                  allowed=_may_official(principal, number), store_image=store_image,
                  refusal=Forbidden(f"Chỉ chính cán bộ {number} hoặc quản trị viên được đặt ảnh chữ ký này",
                                    f"only official {number} or an administrator may set this signature image"))


@blueprint.put("/agencies/<code>/seal-image")
@operation("Store an agency's seal image (red, transparent PNG) with its real diameter in mm, used when a "
           "prepare (issue) sends none", tag="stamp-images", permission="sign",
           request_body=json_body({"type": "object", "required": ["image", "diameter_mm"], "properties": {
               "image": {"type": "string", "format": "byte", "description": "transparent PNG, base64"},
               "diameter_mm": {"type": "number", "minimum": 10, "maximum": 80}}}),
           responses=_WRITE_RESPONSES)
def put_seal_image(code: str):
    principal = require(Permission.SIGN)
    agency = _code(code)
    target = f"agency:{agency}"

    def store_image():
        data = payload.json_object()
        payload.reject_unknown(data, {"image", "diameter_mm"})
        png = payload.base64_bytes(data, "image", max_length=stamp_images.MAX_PNG_BYTES)
        if data.get("diameter_mm") is None:
            raise BadRequest("Thiếu trường 'diameter_mm'", "field 'diameter_mm' is required", detail={"field": "diameter_mm"})
        diameter = stamp_images.check_diameter(data["diameter_mm"])
        stamp_images.require_agency(runtime().components.ledger, agency)
        stamp_images.check_png(png, role="seal")
        return stamp_images.save(runtime().engine, stamp_images.AGENCY, agency, png, diameter_mm=diameter,
                                 actor=principal.label, now=runtime().clock())

    return _write(principal, action="stamp_image.seal", target=target, allowed=_may_agency(principal, agency),
                  store_image=store_image,
                  refusal=Forbidden(f"Chỉ văn thư của cơ quan {agency} hoặc quản trị viên được đặt ảnh con dấu này",
                                    f"only a clerk of agency {agency} or an administrator may set this seal image"))


def _png(row, missing: NotFound) -> Response:
    if row is None:
        raise missing
    response = Response(row.png, mimetype="image/png")
    response.headers["ETag"] = f'"{row.sha256}"'
    if row.diameter_mm is not None:
        response.headers["X-Diameter-Mm"] = f"{row.diameter_mm:g}"
    return response


@blueprint.get("/officials/<official_id>/signature-image")
@operation("An official's stored signature image (PNG)", tag="stamp-images", permission="sign", responses=_PNG)
def get_signature_image(official_id: str):
    principal = require(Permission.SIGN)
    number = _official_id(official_id)
    if not _may_official(principal, number):
        raise Forbidden(f"Chỉ chính cán bộ {number} hoặc quản trị viên được xem ảnh chữ ký này",
                        f"only official {number} or an administrator may read this signature image")
    return _png(stamp_images.load(db(), stamp_images.OFFICIAL, str(number)),
                NotFound(f"Cán bộ {number} chưa có ảnh chữ ký đã lưu", f"official {number} has no stored signature image"))


@blueprint.get("/agencies/<code>/seal-image")
@operation("An agency's stored seal image (PNG; its diameter in the X-Diameter-Mm header)", tag="stamp-images",
           permission="sign", responses=_PNG)
def get_seal_image(code: str):
    principal = require(Permission.SIGN)
    agency = _code(code)
    if not _may_agency(principal, agency):
        raise Forbidden(f"Chỉ văn thư của cơ quan {agency} hoặc quản trị viên được xem ảnh con dấu này",
                        f"only a clerk of agency {agency} or an administrator may read this seal image")
    return _png(stamp_images.load(db(), stamp_images.AGENCY, agency),
                NotFound(f"Cơ quan {agency} chưa có ảnh con dấu đã lưu", f"agency {agency} has no stored seal image"))
