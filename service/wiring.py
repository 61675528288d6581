"""The libraries wired together for the service: verifier, signer, ledger and ca.

Only this module and the views know the other packages' public APIs. `Components` holds one of each, built
once per application (a Verifier and a SigningEnvironment are expensive and meant to be reused, DESIGN.md
pitfalls). `kyso serve` builds them from the kyso home; tests build them from the test PKI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509


@dataclass
class Components:
    """The service's libraries. `authority` is None where this service does not run the CA."""

    verifier: Any  # verifier.Verifier
    signing: Any  # signer.SigningEnvironment (its `numbers` is the ledger's allocator)
    ledger: Any  # ledger.Store
    ca_certificates: tuple[x509.Certificate, ...] = ()  # roots and intermediates, to complete chains
    authority: Any = None  # ca.authority.Authority
    receipt_signer: Any = None  # (DigestSigner, certificate, chain) that signs verification receipts
    # Serialises the receipt key (a PKCS#11 token: one lock per process, DESIGN.md) over the service's own
    # receipt PDF. Never held across work on an untrusted document (issue 9).
    signer_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        *,
        database_url: str,
        trust_roots: tuple[x509.Certificate, ...],
        intermediates: tuple[x509.Certificate, ...] = (),
        tsa_url: str | None = None,
        verifier_settings=None,
        authority=None,
        receipt_signer=None,
        revocation_mode: str = "soft-fail",
        clock=None,
    ) -> "Components":
        from ledger import SqlNumberAllocator, open_store
        from signer import SigningEnvironment
        from verifier import ValidationSettings, Verifier

        store = open_store(database_url, migrate_schema=False)
        if receipt_signer is not None:
            from ledger.seal import HeadSeal

            # The service's seal signs the chain head on every append (issue 9, item 10), through the
            # DigestSigner protocol: the key stays on its token.
            store.head_seal = HeadSeal(receipt_signer[0])
        settings = verifier_settings or ValidationSettings()
        settings = settings.with_trust(*((f"trust-{index}", root) for index, root in enumerate(trust_roots)))
        if intermediates:
            from dataclasses import replace

            settings = replace(settings, intermediates=tuple(settings.intermediates) + tuple(intermediates))
        verifier = Verifier(settings, **({"clock": clock} if clock else {}))
        environment = SigningEnvironment(
            trust_roots=trust_roots,
            tsa_url=tsa_url,
            other_certs=intermediates,
            revocation_mode=revocation_mode,
            numbers=SqlNumberAllocator(store, clock=clock),
            pdf_limits=settings.pdf_limits,  # one set of PDF bounds for signing and verifying (issue 9)
            **({"clock": clock} if clock else {}),
        )
        return cls(
            verifier=verifier,
            signing=environment,
            ledger=store,
            ca_certificates=tuple(trust_roots) + tuple(intermediates),
            authority=authority,
            receipt_signer=receipt_signer,
        )

    def chain_for(self, certificate: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The issuers of `certificate` up to a root, from the CA certificates the service knows."""
        by_subject = {ca.subject.dump(): ca for ca in self.ca_certificates}
        chain: list[x509.Certificate] = []
        current = certificate
        while current.issuer.dump() != current.subject.dump() and len(chain) < 8:
            issuer = by_subject.get(current.issuer.dump())
            if issuer is None or issuer in chain:
                break
            chain.append(issuer)
            current = issuer
        return tuple(chain)

    def dispose(self) -> None:
        self.ledger.dispose()


def bridge_javascript() -> bytes:
    """The token bridge's browser client (token_bridge's kyso-bridge.js), served by the service's pages."""
    from token_bridge.http import bridge_javascript as read_script

    return read_script()


def migrate_all(settings) -> None:
    """Create or upgrade every part's tables in the service's database: the service's, the ledger's, the CA's
    (safe to run again; `kyso serve` runs it once before the workers start)."""
    from service.database import migrate, open_engine

    engine = open_engine(settings.database_url)
    try:
        migrate(engine)
        for migrate_part in _part_migrations():
            migrate_part(engine)
    finally:
        engine.dispose()


def _part_migrations():
    """The other parts' own migrations (each with its own Alembic version table)."""
    from ca.store import migrate as migrate_ca
    from ledger.store import migrate as migrate_ledger

    return (migrate_ledger, migrate_ca)


def add_user_account(settings, username: str, *, password: str, roles, display_name=None, agency_code=None,
                     official_id: int | None = None) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from service.accounts import create_user
    from service.audit import record_event
    from service.database import open_engine
    from service.errors import NotFound

    engine = open_engine(settings.database_url)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with Session(engine) as db, db.begin():
            if official_id is not None:
                from ledger.models import Official

                if db.get(Official, official_id) is None:
                    raise NotFound(f"Không có cán bộ {official_id} trong danh sách", f"no official {official_id} on the roster")
            create_user(db, username, password=password, roles=roles, display_name=display_name,
                        agency_code=agency_code, official_id=official_id, now=now)
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


def read_certificates(path: str) -> list[x509.Certificate]:
    """Every certificate of a PEM or DER file."""
    from pathlib import Path

    from asn1crypto import pem

    from service.errors import ServiceConfigError

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ServiceConfigError(f"cannot read certificate file {path}: {exc.strerror}") from exc
    try:
        if pem.detect(data):
            return [x509.Certificate.load(der) for kind, _h, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        return [x509.Certificate.load(data)]
    except ValueError as exc:
        raise ServiceConfigError(f"{path} holds no readable certificate: {exc}") from exc


def components_from_settings(settings) -> Components:
    """Components from the service's settings alone (trust roots and intermediates from files, the TSA URL)."""
    roots = tuple(cert for path in settings.trust_roots for cert in read_certificates(path))
    intermediates = tuple(cert for path in settings.intermediates for cert in read_certificates(path))
    return Components.build(
        database_url=settings.database_url, trust_roots=roots, intermediates=intermediates, tsa_url=settings.tsa_url
    )


def lift_login_lockout_of(settings, *, username: str | None = None, address: str | None = None) -> int:
    """`kyso serve lift-lockout`: clear the login failures and lockout of an account and/or an address."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from service.audit import record_event
    from service.database import open_engine
    from service.throttling import lift_login_lockout

    engine = open_engine(settings.database_url)
    try:
        with Session(engine) as db, db.begin():
            cleared = lift_login_lockout(db, username=username, address=address)
        record_event(engine, actor="cli", action="login.lift", outcome="ok", target=username or address,
                     detail={"cleared": cleared}, now=dt.datetime.now(dt.timezone.utc))
        return cleared
    finally:
        engine.dispose()
