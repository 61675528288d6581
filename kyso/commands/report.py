"""`kyso report monthly --month YYYY-MM [--format table|csv|xlsx|json] [-o FILE] [--lang vi|en]`.

Reads the ledger of the KYSO_HOME database (`[database] url`, SQLite in the home by default). Exit 0 with the
report; 64 for a bad month or option; 69 when the database cannot be opened; 78 for a wrong `[report]` table
(`expiry_window_days`, `lang`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_UNAVAILABLE = 69
EXIT_CONFIG = 78


class _ConfigError(click.ClickException):
    exit_code = EXIT_CONFIG


class _Unavailable(click.ClickException):
    exit_code = EXIT_UNAVAILABLE


def open_ledger(home):
    """The ledger store of a kyso home (migrated on first use)."""
    from ledger import StoreUnavailable, open_store

    try:
        home.ensure()
        return open_store(home.database_url())
    except StoreUnavailable as exc:
        raise _Unavailable(str(exc)) from exc


@click.group("report")
def report():
    """Monthly signing-rate reports (months in Asia/Ho_Chi_Minh time)."""


@report.command("monthly")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month, in Hanoi time, e.g. 2025-08.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "xlsx", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None, help="vi (default, or [report] lang) or en.")
@click.pass_obj
def monthly(home, month, output_format, output, lang):
    """Each agency's signing rate, online rate, certificate coverage and incoming checks against its level's
    targets; units below target first. JSON and XLSX carry the drill-down to documents and ledger records."""
    from ledger import InvalidValue, LedgerError
    from kyso.config import ConfigError
    from ledger.report import Month, ReportSettings, monthly_report, render_csv, render_json, render_table, render_xlsx

    try:
        period = Month.parse(month)
    except InvalidValue as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    try:
        settings = ReportSettings.from_config(home.section("report"))
    except (ConfigError, InvalidValue) as exc:
        raise _ConfigError(str(exc)) from exc
    lang = lang or settings.lang
    if output_format == "xlsx" and output is None and sys.stdout.isatty():
        raise click.UsageError("XLSX is binary: give -o FILE / XLSX là tệp nhị phân: hãy dùng -o FILE")
    store = open_ledger(home)
    try:
        result = monthly_report(store, period, expiry_window_days=settings.expiry_window_days)
    except LedgerError as exc:
        raise _Unavailable(str(exc)) from exc
    finally:
        store.dispose()
    if output_format == "xlsx":
        data = render_xlsx(result, lang=lang)
    elif output_format == "csv":
        data = render_csv(result, lang=lang).encode("utf-8")
    elif output_format == "json":
        data = (render_json(result) + "\n").encode("utf-8")
    else:
        data = render_table(result, lang=lang).encode("utf-8")
    if output:
        Path(output).write_bytes(data)
        click.echo(f"{output}: {period} ({output_format})", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
