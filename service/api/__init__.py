"""The REST API under /api/v1 (and /healthz), one blueprint per area."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from service.api import (accounts_admin, administration, certificate_admin, certificates, documents, edxml,
                             enrolments, health, ledger_reports, roster_admin, signature_reports, signing,
                             stamp_images, validations)

    app.register_blueprint(health.blueprint)
    for module in (validations, signing, documents, ledger_reports, administration, certificates, stamp_images,
                   signature_reports, edxml, roster_admin, certificate_admin, accounts_admin, enrolments):
        app.register_blueprint(module.blueprint, url_prefix="/api/v1")
