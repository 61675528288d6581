"""Levels and targets per period, as data (DOMAIN.md: "levels, units and targets are data, per period, never
code"). The defaults are ledger/data/targets.toml; an administrator replaces them with `replace_targets`
(`kyso ledger import-targets FILE`) when a plan changes."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources

from sqlalchemy.orm import Session

from ledger.errors import InvalidValue
from ledger.models import Level, Target

METRICS = ("signing_rate", "online_rate", "certificate_coverage")
_LEVEL_KEYS = {"code", "rank", "name_vi", "name_en", "valid_from", "valid_until"}
_TARGET_KEYS = {"level", "metric", "percent", "valid_from", "valid_until", "source"}


def default_targets_text() -> str:
    return resources.files("ledger").joinpath("data/targets.toml").read_text(encoding="utf-8")


def parse_targets(text: str, *, source: str = "targets.toml") -> dict:
    """Read and check a targets file; every error names the entry (`[[target]] #3`) and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue(f"{source}: TOML hỏng: {exc}", f"{source}: malformed TOML: {exc}") from exc
    unknown = sorted(set(data) - {"level", "target"})
    if unknown:
        raise InvalidValue(f"{source}: khóa không biết {', '.join(unknown)}", f"{source}: unknown key(s) {', '.join(unknown)}")
    levels = data.get("level", [])
    targets = data.get("target", [])
    if not levels:
        raise InvalidValue(f"{source}: cần ít nhất một [[level]]", f"{source}: at least one [[level]] is required")
    codes = set()
    for number, item in enumerate(levels, start=1):
        where = f"{source}: [[level]] #{number}"
        _keys(where, item, _LEVEL_KEYS, required={"code", "rank", "name_vi", "name_en", "valid_from"})
        _period(where, item)
        if not isinstance(item["rank"], int):
            raise InvalidValue(f"{where}: rank phải là số nguyên", f"{where}: rank must be an integer")
        codes.add(item["code"])
    for number, item in enumerate(targets, start=1):
        where = f"{source}: [[target]] #{number}"
        _keys(where, item, _TARGET_KEYS, required={"level", "metric", "percent", "valid_from", "source"})
        _period(where, item)
        if item["level"] not in codes:
            raise InvalidValue(f"{where}: cấp không biết {item['level']!r}", f"{where}: unknown level {item['level']!r}")
        if item["metric"] not in METRICS:
            raise InvalidValue(f"{where}: chỉ số không biết {item['metric']!r}",
                               f"{where}: unknown metric {item['metric']!r} (known: {', '.join(METRICS)})")
        percent = item["percent"]
        if isinstance(percent, bool) or not isinstance(percent, (int, float)) or not 0 <= percent <= 100:
            raise InvalidValue(f"{where}: percent phải từ 0 đến 100", f"{where}: percent must be a number from 0 to 100")
    return data


def _keys(where: str, item: dict, known: set[str], *, required: set[str]) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise InvalidValue(f"{where}: khóa không biết {', '.join(unknown)}", f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(item))
    if missing:
        raise InvalidValue(f"{where}: thiếu {', '.join(missing)}", f"{where}: missing {', '.join(missing)}")


def _period(where: str, item: dict) -> None:
    for key in ("valid_from", "valid_until"):
        value = item.get(key)
        if value is not None and not (isinstance(value, date) and not hasattr(value, "hour")):
            raise InvalidValue(f"{where}: {key} phải là ngày (YYYY-MM-DD)", f"{where}: {key} must be a date (YYYY-MM-DD)")
    if item.get("valid_until") is not None and item["valid_until"] < item["valid_from"]:
        raise InvalidValue(f"{where}: valid_until trước valid_from", f"{where}: valid_until is before valid_from")


def load_targets(session: Session, data: dict) -> None:
    """Replace the stored levels and targets with checked data (the shape of ledger/data/targets.toml)."""
    session.query(Target).delete()
    session.query(Level).delete()
    for item in data.get("level", []):
        session.add(Level(code=item["code"], rank=item["rank"], name_vi=item["name_vi"], name_en=item["name_en"],
                          valid_from=item["valid_from"], valid_until=item.get("valid_until")))
    for item in data.get("target", []):
        session.add(Target(level_code=item["level"], metric=item["metric"], percent=float(item["percent"]),
                           valid_from=item["valid_from"], valid_until=item.get("valid_until"), source=item["source"]))
    session.flush()


def replace_targets(store, text: str, *, source: str = "targets.toml") -> tuple[int, int]:
    """Check a targets file and make it the stored plan, in one transaction. Returns (levels, targets)."""
    data = parse_targets(text, source=source)
    with store.transaction() as session:
        load_targets(session, data)
    return len(data.get("level", [])), len(data.get("target", []))
