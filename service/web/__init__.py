"""The web pages (Vietnamese first, English available): login, dashboard, signing, verification."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from service.web import console_pages, pages

    app.register_blueprint(pages.blueprint)
    app.register_blueprint(console_pages.blueprint)
    app.context_processor(pages.template_globals)
    app.context_processor(console_pages.console_globals)
