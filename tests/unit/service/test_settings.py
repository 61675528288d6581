import pytest

from service.errors import ServiceConfigError
from service.settings import ServiceSettings


def test_unknown_key_is_named():
    with pytest.raises(ServiceConfigError) as caught:
        ServiceSettings.from_config({"max_upload": 5}, database_url="sqlite://")
    assert str(caught.value).startswith("[service]: unknown key(s) max_upload; known: bridge_url, cookie_secure")


def test_values_from_environment_strings_are_typed():
    settings = ServiceSettings.from_config(
        {"max_upload_bytes": "1024", "mount_pki": "false", "default_language": "en", "secret_key": "k" * 32},
        database_url="sqlite:///x.db",
    )
    assert (settings.max_upload_bytes, settings.mount_pki, settings.default_language) == (1024, False, "en")
    assert settings.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"max_upload_bytes": "lots"}, "[service] max_upload_bytes: expected an integer, got 'lots'"),
        ({"max_upload_bytes": 0}, "[service] max_upload_bytes: must be positive, got 0"),
        ({"mount_pki": "maybe"}, "[service] mount_pki: expected true or false, got 'maybe'"),
        ({"secret_key": "short"}, "[service] secret_key: at least 32 characters"),
        ({"default_language": "fr"}, "[service] default_language: vi or en, got 'fr'"),
    ],
)
def test_bad_values_are_refused_with_the_key(mapping, message):
    with pytest.raises(ServiceConfigError) as caught:
        ServiceSettings.from_config(mapping, database_url="sqlite://")
    assert str(caught.value) == message


def test_secret_key_never_in_repr():
    settings = ServiceSettings(database_url="sqlite://", secret_key="topsecret" * 5)
    assert "topsecret" not in repr(settings)
    assert "max_upload_bytes=20971520" in repr(settings)
