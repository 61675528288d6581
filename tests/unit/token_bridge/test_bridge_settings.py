"""The [bridge] configuration: loopback only, exact origins, unknown keys named."""

from __future__ import annotations

import pytest

from token_bridge.errors import ConfigurationError
from token_bridge.settings import BridgeSettings


def test_defaults_listen_on_both_loopbacks():
    settings = BridgeSettings.from_config({})
    assert settings.hosts == ("127.0.0.1", "::1") and settings.port == 8988
    assert settings.host_headers == frozenset({"127.0.0.1:8988", "localhost:8988", "[::1]:8988"})
    assert settings.allowed_origins == frozenset()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_non_loopback_hosts_are_refused(host):
    with pytest.raises(ConfigurationError) as caught:
        BridgeSettings.from_config({"hosts": [host]})
    assert str(caught.value) == (
        f"[bridge] hosts: {host} is not a loopback address: the bridge listens on 127.0.0.1 and ::1 only."
    )


def test_origins_are_normalised_and_checked():
    settings = BridgeSettings.from_config(
        {"allowed_origins": ["HTTPS://VanBan.HaNoi.gov.vn:443", "http://127.0.0.1:8080/"]}
    )
    assert settings.allowed_origins == frozenset({"https://vanban.hanoi.gov.vn", "http://127.0.0.1:8080"})
    with pytest.raises(ConfigurationError, match=r"^\[bridge\] allowed_origins: 'https://x\.gov\.vn/app' is not an origin"):
        BridgeSettings.from_config({"allowed_origins": ["https://x.gov.vn/app"]})


def test_unknown_keys_and_bad_values_are_named():
    with pytest.raises(ConfigurationError) as caught:
        BridgeSettings.from_config({"port": 8988, "pin": "1234"})
    assert str(caught.value).startswith("[bridge]: unknown key(s) pin; known: allowed_origins, audit_log,")
    with pytest.raises(ConfigurationError, match=r"^\[bridge\] port: 70000 is outside 1-65535\.$"):
        BridgeSettings.from_config({"port": "70000"})
    with pytest.raises(ConfigurationError, match=r"^\[bridge\] consent: must be one of auto, desktop, console\.$"):
        BridgeSettings.from_config({"consent": "always"})


def test_environment_strings_become_lists_and_overrides_keep_checks():
    settings = BridgeSettings.from_config({"allowed_origins": "https://a.gov.vn,https://b.gov.vn", "port": "9000"})
    assert settings.allowed_origins == frozenset({"https://a.gov.vn", "https://b.gov.vn"}) and settings.port == 9000
    assert settings.with_overrides(port=9100, hosts=["127.0.0.1"]).host_headers == frozenset(
        {"127.0.0.1:9100", "localhost:9100"})
    with pytest.raises(ConfigurationError):
        settings.with_overrides(hosts=["10.0.0.1"])
