"""The libraries wired together for the service: verifier, signer, ledger and ca, built on first use.

Only this module knows the other packages' public APIs; views call it. Each library error is translated
into a `service.errors` error here or in the view that called it.
"""

from __future__ import annotations


class Components:
    def __init__(self, settings, *, engine, clock):
        self.settings = settings
        self.engine = engine
        self.clock = clock


def bridge_javascript() -> bytes:
    """The token bridge's browser client (token_bridge's kyso-bridge.js), served by the service's pages."""
    from importlib import resources

    from service.errors import NotAvailable

    for candidate in ("kyso-bridge.js", "static/kyso-bridge.js", "web/kyso-bridge.js"):
        resource = resources.files("token_bridge").joinpath(candidate)
        if resource.is_file():
            return resource.read_bytes()
    raise NotAvailable("Chưa có kyso-bridge.js của token_bridge", "token_bridge's kyso-bridge.js is not installed")


def migrate_all(settings) -> None:
    """Create or upgrade every part's tables in the service's database: the service's, the ledger's, the CA's."""
    from service.database import migrate, open_engine

    engine = open_engine(settings.database_url)
    try:
        migrate(engine)
        for migrate_part in _part_migrations():
            migrate_part(engine)
    finally:
        engine.dispose()


def _part_migrations():
    try:
        from ledger.store import migrate as migrate_ledger
    except ImportError:
        migrate_ledger = None
    if migrate_ledger is not None:
        yield migrate_ledger


def add_user_account(settings, username: str, *, password: str, roles, display_name=None, agency_code=None) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from service.accounts import create_user
    from service.audit import record_event
    from service.database import open_engine

    engine = open_engine(settings.database_url)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with Session(engine) as db, db.begin():
            create_user(db, username, password=password, roles=roles, display_name=display_name,
                        agency_code=agency_code, now=now)
        record_event(engine, actor="cli", action="user.create", outcome="ok", target=username,
                     detail={"roles": sorted(role.value for role in roles)}, now=now)
    finally:
        engine.dispose()


def add_system_key(settings, name: str, *, scopes, agency_code=None) -> str:
    import datetime as dt

    from sqlalchemy.orm import Session

    from service.accounts import create_api_key
    from service.audit import record_event
    from service.database import open_engine

    engine = open_engine(settings.database_url)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with Session(engine) as db, db.begin():
            _row, token = create_api_key(db, name, scopes=scopes, agency_code=agency_code, now=now)
        record_event(engine, actor="cli", action="api_key.create", outcome="ok", target=name,
                     detail={"scopes": sorted(scope.value for scope in scopes)}, now=now)
        return token
    finally:
        engine.dispose()
