"""`kyso ledger verify|seal-head|import-agencies|import-officials|import-targets|generate`: the tamper-evident ledger of KYSO_HOME.

`kyso ledger verify` exits 0 when the chain is intact and 1 when it is broken, naming each changed, deleted,
inserted or reordered record by sequence number and record id; 69 when the database cannot be opened.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kyso.commands.report import EXIT_UNAVAILABLE, _Unavailable, open_ledger

EXIT_DATAERR = 65


class _DataError(click.ClickException):
    exit_code = EXIT_DATAERR


@click.group("ledger")
def ledger():
    """The hash-chained ledger of signatures, the roster and the documents."""


@ledger.command("verify")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="A chain head published earlier (printed by this command); may be repeated.")
@click.option("--head-certificate", "head_certificates", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="The service's seal certificate (PEM or DER) whose key signs the chain heads: check them too.")
@click.pass_obj
def verify(home, output_format, lang, anchors, head_certificates):
    """Re-hash every record and follow the chain; exit 0 intact, 1 broken (with where). With
    --head-certificate, the signed heads are checked too (truncation, head moved back, rewrite)."""
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    from ledger import LedgerError, verify_chain

    head_keys = []
    for path in head_certificates:
        data = open(path, "rb").read()
        try:
            certificate = asn1_x509.Certificate.load(asn1_pem.unarmor(data)[2] if asn1_pem.detect(data) else data)
            head_keys.append(certificate.public_key)
        except ValueError as exc:
            raise click.BadParameter(f"{path}: không đọc được chứng thư / not a certificate",
                                     param_hint="--head-certificate") from exc

    parsed = []
    for anchor in anchors:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise click.BadParameter(f"{anchor!r}: cần SEQ:HASH (hex 64 ký tự) / expected SEQ:HASH (64 hex digits)",
                                     param_hint="--anchor")
        parsed.append((int(seq), digest.lower()))
    store = open_ledger(home)
    try:
        result = verify_chain(store, anchors=parsed, head_keys=head_keys or None)
    except LedgerError as exc:
        raise _Unavailable(str(exc)) from exc
    finally:
        store.dispose()
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        if result.intact:
            click.echo(
                f"Sổ cái nguyên vẹn: {result.records} bản ghi, đầu chuỗi #{result.head_seq} {result.head_hash}"
                if lang == "vi"
                else f"Ledger intact: {result.records} records, head #{result.head_seq} {result.head_hash}"
            )
        else:
            click.echo(
                f"SỔ CÁI BỊ THAY ĐỔI: {len(result.problems)} vấn đề trong {result.records} bản ghi"
                if lang == "vi"
                else f"LEDGER BROKEN: {len(result.problems)} problem(s) in {result.records} records"
            )
            for problem in result.problems:
                click.echo(f"  #{problem.seq} {problem.kind.value}: {problem.vi if lang == 'vi' else problem.en}")
    raise SystemExit(0 if result.intact else 1)


@ledger.command("seal-head")
@click.option("--cover-existing", is_flag=True,
              help="First cover the documents, final numbers and signed files no record covers yet (a ledger "
                   "from before covering): do it only after checking those rows.")
@click.pass_obj
def seal_head(home, cover_existing):
    """Sign the current chain head with the service's seal ([service] receipt_token, PIN from
    KYSO_RECEIPT_PIN) when no signed head names it: once, when sealing starts on a ledger that already has
    records. Refuses a ledger whose records are not intact. Exit 0 sealed (or already sealed), 1 broken."""
    from kyso.commands.serve import _settings, token_receipt_signer
    from ledger import LedgerError, ProblemKind, seal_current_head, verify_chain
    from ledger.chain import chain_head
    from ledger.covered import cover_existing as cover_rows
    from ledger.models import SignedHeadRow
    from ledger.seal import HeadSeal

    settings = _settings(home)
    if not settings.receipt_token:
        from kyso.commands.serve import ConfigurationProblem

        raise ConfigurationProblem("[service] receipt_token chưa cấu hình: không có khóa dấu để ký đầu chuỗi / "
                                   "[service] receipt_token is not configured: no seal key to sign the head")
    from kyso.enrolment import load_module
    from token_bridge.pin import EnvironmentPinPrompt

    key = token_receipt_signer(load_module(home), settings.receipt_token,
                               pin_prompt=EnvironmentPinPrompt("KYSO_RECEIPT_PIN"))[0]
    store = open_ledger(home)
    try:
        store.head_seal = HeadSeal(key)
        report = verify_chain(store, head_keys=())  # the records and covered rows, not yet the signed heads
        uncovered = [p for p in report.problems if p.kind is ProblemKind.INSERTED and p.seq == 0]
        broken = [p for p in report.problems if p not in uncovered]
        if broken or (uncovered and not cover_existing):
            click.echo("Không ký: sổ cái không nguyên vẹn / not sealed: the ledger is not intact", err=True)
            for problem in broken or uncovered:
                click.echo(f"  #{problem.seq} {problem.kind.value}: {problem.vi} / {problem.en}", err=True)
            if not broken:
                click.echo("  (--cover-existing ghi nhận các dòng này / covers these rows)", err=True)
            raise SystemExit(1)
        if uncovered:
            counts = cover_rows(store)
            click.echo(f"Đã ghi nhận / covered: {counts['document']} document(s), {counts['number']} number(s), "
                       f"{counts['signed_file']} signed file(s)")
        seq, digest = chain_head(store)
        with store.transaction() as session:
            signed = session.get(SignedHeadRow, seq) is not None
        if signed and not uncovered:
            click.echo(f"Đầu chuỗi #{seq} đã được ký / head #{seq} is already sealed")
        else:
            if not signed:  # (covering, when it appended records, signed their head already)
                head = seal_current_head(store)
                seq, digest = head.seq, head.hash
            click.echo(f"Đã ký đầu chuỗi / sealed head #{seq} {digest}")
    except LedgerError as exc:
        raise _Unavailable(str(exc)) from exc
    finally:
        store.dispose()


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _DataError(f"không đọc được {path} / cannot read {path}: {exc}") from exc


def _import_roster_csv(home, csv_file: str, import_csv):
    """Run one roster CSV import; every problem goes to stderr with its line and column, nothing is stored."""
    from ledger import LedgerError, RosterImportError

    text = _read(csv_file)
    store = open_ledger(home)
    try:
        return import_csv(store, text, source=Path(csv_file).name)
    except RosterImportError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise _DataError(str(exc.vi + " / " + exc.en.split(":")[0])) from exc
    except LedgerError as exc:
        raise _DataError(str(exc)) from exc
    finally:
        store.dispose()


@ledger.command("import-agencies")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.pass_obj
def import_agencies(home, csv_file):
    """Add agencies from CSV: code, legacy_code, name, level, parent_code, valid_from, valid_until."""
    from ledger import import_agencies_csv

    added = _import_roster_csv(home, csv_file, import_agencies_csv)
    click.echo(f"Đã thêm {len(added)} cơ quan / added {len(added)} agencies")


@ledger.command("import-officials")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@click.pass_obj
def import_officials(home, csv_file):
    """Add officials and their certificates from CSV: agency_code, full_name, title, identifiers,
    certificate_serial, certificate_not_before, certificate_not_after."""
    from ledger import import_officials_csv

    added = _import_roster_csv(home, csv_file, import_officials_csv)
    click.echo(f"Đã thêm {added} cán bộ / added {added} officials")


@ledger.command("import-targets")
@click.argument("toml_file", type=click.Path(dir_okay=False))
@click.pass_obj
def import_targets(home, toml_file):
    """Replace the levels and targets per period with a TOML file shaped like ledger/data/targets.toml."""
    from ledger import LedgerError
    from ledger.targets import replace_targets

    text = _read(toml_file)
    store = open_ledger(home)
    try:
        levels, targets = replace_targets(store, text, source=Path(toml_file).name)
    except LedgerError as exc:
        raise _DataError(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"{levels} cấp, {targets} chỉ tiêu / {levels} levels, {targets} targets")


@ledger.command("generate")
@click.option("--year", type=click.IntRange(2000, 2100), default=2025, show_default=True)
@click.option("--agencies", type=click.IntRange(1, 10_000), default=150, show_default=True)
@click.option("--outgoing-per-month", type=click.IntRange(0, 100_000), default=200, show_default=True)
@click.option("--incoming-per-month", type=click.IntRange(0, 100_000), default=80, show_default=True)
@click.option("--seed", type=int, default=2025, show_default=True)
@click.pass_obj
def generate(home, year, agencies, outgoing_per_month, incoming_per_month, seed):
    """Fill the ledger with a generated year of activity (load tests and demos; about a million signatures
    at the defaults). Use an empty database."""
    from ledger import LedgerError
    from ledger.activity import generate_year

    store = open_ledger(home)
    try:
        summary = generate_year(store, year=year, agencies=agencies, outgoing_per_month=outgoing_per_month,
                                incoming_per_month=incoming_per_month, seed=seed)
    except LedgerError as exc:
        raise _DataError(str(exc)) from exc
    finally:
        store.dispose()
    click.echo(f"{summary.agencies} cơ quan, {summary.documents} văn bản, {summary.records} bản ghi / "
               f"{summary.agencies} agencies, {summary.documents} documents, {summary.records} records")


__all__ = ["ledger", "EXIT_UNAVAILABLE"]
