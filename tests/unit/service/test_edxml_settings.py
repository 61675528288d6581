"""The service reads the home's `[edxml]` table; a wrong key stops it with the key named."""

from __future__ import annotations

import pytest

from kyso.config import Home
from service.settings import ServiceConfigError, ServiceSettings


def test_edxml_table_reaches_the_service(tmp_path, monkeypatch):
    monkeypatch.delenv("KYSO_EDXML_MAX_BYTES", raising=False)
    (tmp_path / "kyso.toml").write_text('[edxml]\nmax_bytes = 4096\nlegacy_sha1_until = "2027-06-30T23:59:59+07:00"\n',
                                        encoding="utf-8")
    settings = ServiceSettings.from_home(Home(tmp_path))
    assert settings.edxml.max_bytes == 4096
    assert settings.edxml.legacy_sha1_until.isoformat() == "2027-06-30T23:59:59+07:00"


def test_unknown_edxml_key_is_a_configuration_error(tmp_path):
    (tmp_path / "kyso.toml").write_text("[edxml]\nmax_size = 1\n", encoding="utf-8")
    with pytest.raises(ServiceConfigError) as caught:
        ServiceSettings.from_home(Home(tmp_path))
    assert str(caught.value) == "[edxml]: unknown key(s) max_size"
