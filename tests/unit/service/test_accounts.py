import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts import (
    Permission,
    Role,
    authenticate_api_key,
    authenticate_password,
    create_api_key,
    create_user,
    hash_password,
    is_password_correct,
    parse_scopes,
)
from service.database import migrate, open_engine
from service.errors import BadRequest, Conflict, Unauthenticated
from service.tables import ApiKey, User

NOW = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def db(sqlite_url):
    engine = open_engine(sqlite_url)
    migrate(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_password_hash_is_scrypt_salted_and_checks():
    first, second = hash_password("một mật khẩu dài"), hash_password("một mật khẩu dài")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert is_password_correct("một mật khẩu dài", first)
    assert not is_password_correct("một mật khẩu dàI", first)
    assert not is_password_correct("x", "md5$abc")


def test_user_login_and_wrong_password(db):
    create_user(db, "vanthu", password="0123456789ab", roles=frozenset({Role.CLERK}), now=NOW)
    principal = authenticate_password(db, "vanthu", "0123456789ab")
    assert principal.label == "user:vanthu"
    assert principal.permissions == {Permission.VALIDATE, Permission.SIGN, Permission.DOCUMENTS}
    with pytest.raises(Unauthenticated) as caught:
        authenticate_password(db, "vanthu", "0123456789ac")
    assert caught.value.message_en == "wrong username or password"
    with pytest.raises(Unauthenticated):
        authenticate_password(db, "nobody", "0123456789ab")
    stored = db.scalar(select(User.password_hash))
    assert "0123456789ab" not in stored


def test_duplicate_and_malformed_usernames(db):
    create_user(db, "lanhdao", password="0123456789ab", roles=frozenset({Role.OFFICIAL}), now=NOW)
    with pytest.raises(Conflict) as caught:
        create_user(db, "lanhdao", password="0123456789ab", roles=frozenset({Role.OFFICIAL}), now=NOW)
    assert caught.value.message_en == "user lanhdao already exists"
    with pytest.raises(BadRequest) as caught:
        create_user(db, "x'; DROP TABLE service_users;--", password="0123456789ab", roles=frozenset({Role.OFFICIAL}), now=NOW)
    assert caught.value.message_en == "username must be 2-64 characters of a-z, 0-9, '.', '_', '-'"
    with pytest.raises(BadRequest) as caught:
        create_user(db, "ngan", password="short", roles=frozenset({Role.OFFICIAL}), now=NOW)
    assert caught.value.message_en == "password must have at least 10 characters"


def test_api_key_stored_as_hash_and_revocable(db):
    row, token = create_api_key(db, "dms", scopes=frozenset({Permission.VALIDATE}), now=NOW)
    assert token.startswith(f"kyso_{row.prefix}_") and len(token) == 5 + 12 + 1 + 43
    assert token not in {row.key_sha256, row.prefix} and len(row.key_sha256) == 64
    principal = authenticate_api_key(db, token)
    assert (principal.kind, principal.name, principal.permissions) == ("api_key", "dms", {Permission.VALIDATE})
    with pytest.raises(Unauthenticated) as caught:
        authenticate_api_key(db, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert caught.value.message_en == "wrong API key"
    with pytest.raises(Unauthenticated) as caught:
        authenticate_api_key(db, "not-a-key")
    assert caught.value.message_en == "malformed API key"
    db.scalar(select(ApiKey)).revoked_at = NOW
    with pytest.raises(Unauthenticated) as caught:
        authenticate_api_key(db, token)
    assert caught.value.message_en == "API key revoked"


def test_certificate_administration_is_never_an_api_key_scope():
    with pytest.raises(BadRequest) as caught:
        parse_scopes(["validate", "certificates"])
    assert caught.value.message_en.startswith("unknown or forbidden API key scope 'certificates'")
