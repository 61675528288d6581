"""The web pages (Vietnamese first, English available): login, dashboard, signing, verification."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from service.web import pages

    app.register_blueprint(pages.blueprint)
    app.context_processor(pages.template_globals)
