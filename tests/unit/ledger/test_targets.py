"""Levels and targets files are checked before use; every error names the entry and the key."""

import pytest

from ledger import InvalidValue
from ledger.targets import default_targets_text, parse_targets

LEVEL = '[[level]]\ncode = "commune"\nrank = 3\nname_vi = "Cấp xã"\nname_en = "Commune"\nvalid_from = 2025-07-01\n'


def test_the_default_plan_is_the_domain_defaults():
    data = parse_targets(default_targets_text())
    online = {(t["level"], t["percent"]) for t in data["target"] if t["metric"] == "online_rate"}
    assert online == {("city", 100), ("district", 95), ("commune", 80)}
    district = next(level for level in data["level"] if level["code"] == "district")
    assert district["valid_until"].isoformat() == "2025-06-30"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[target]]\nlevel = "ward"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2025-07-01\nsource = "x"\n',
         "targets.toml: [[target]] #1: unknown level 'ward'"),
        ('[[target]]\nlevel = "commune"\nmetric = "speed"\npercent = 80\nvalid_from = 2025-07-01\nsource = "x"\n',
         "targets.toml: [[target]] #1: unknown metric 'speed' (known: signing_rate, online_rate, certificate_coverage)"),
        ('[[target]]\nlevel = "commune"\nmetric = "online_rate"\npercent = 180\nvalid_from = 2025-07-01\nsource = "x"\n',
         "targets.toml: [[target]] #1: percent must be a number from 0 to 100"),
        ('[[target]]\nlevel = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2025-07-01\n',
         "targets.toml: [[target]] #1: missing source"),
        ('[[target]]\nlevel = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = "July"\nsource = "x"\n',
         "targets.toml: [[target]] #1: valid_from must be a date (YYYY-MM-DD)"),
        ('[[target]]\nlevel = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2025-07-01\nvalid_until = 2025-01-01\nsource = "x"\n',
         "targets.toml: [[target]] #1: valid_until is before valid_from"),
        ('[[target]]\nlevel = "commune"\nmetric = "online_rate"\npercent = 80\nvalid_from = 2025-07-01\nsource = "x"\ncolour = 1\n',
         "targets.toml: [[target]] #1: unknown key(s) colour"),
        ("[plan]\nname = 1\n", "targets.toml: unknown key(s) plan"),
        ("[[target]\n", None),
    ],
)
def test_bad_targets_files_are_refused_with_the_reason(extra, message):
    with pytest.raises(InvalidValue) as caught:
        parse_targets(LEVEL + extra)
    if message is None:
        assert caught.value.en.startswith("targets.toml: malformed TOML: ")
    else:
        assert caught.value.en == message
