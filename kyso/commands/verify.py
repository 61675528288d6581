"""`kyso verify FILE... [--format text|json] [--trust CERT]... [--at ISO-TIME] [--lang vi|en] [--offline]`.

DESIGN.md contract: one report per file (JSON `{"files": [...]}`), exit 0 when every file is TOTAL_PASSED,
1 when any is TOTAL_FAILED, 2 otherwise, 64 and up for usage errors (78 for a wrong configuration). Folders
are expanded to the PDFs and `.p7s` files inside (batch mode: one `Verifier`, one validation setup reused
for every file, a progress bar on stderr and a summary).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

EXIT_USAGE = 64
EXIT_CONFIG = 78


class _VerifyCommand(click.Command):
    """Usage errors exit with 64 (sysexits EX_USAGE), not click's 2, which means INDETERMINATE here."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE
            raise


class _UsageError(click.UsageError):
    exit_code = EXIT_USAGE


def _expand(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".pdf", ".p7s", ".edxml")))
        else:
            files.append(path)
    return files


def _demo_roots(pki_dir: Path):
    """Self-signed certificates directly in KYSO_HOME/pki are the demo PKI's roots; the others help build
    paths (intermediates)."""
    from policies.anchors import load_certificates
    from policies.decision import PolicyError

    roots, others = [], []
    if not pki_dir.is_dir():
        return roots, others
    for item in sorted(pki_dir.iterdir()):
        if item.suffix.lower() not in (".crt", ".pem", ".cer", ".der") or not item.is_file():
            continue
        try:
            certificates = load_certificates(item.read_bytes())
        except (PolicyError, OSError):
            continue  # keys, CRLs and other files of the PKI folder
        for certificate in certificates:
            (roots if certificate.self_signed == "maybe" or certificate.self_signed == "yes" else others).append(
                (str(item), certificate))
    return roots, others


def _anchors_of(certificates):
    """The trust anchors of one `--trust` file: its self-signed certificates. A bundle "signer, intermediate,
    root" trusts only the root (the others would let a document that omits its intermediate pass); a file
    holding only CA certificates that are not self-signed (an issuing CA given on purpose) trusts them all."""
    roots = [c for c in certificates if c.self_signed in ("maybe", "yes")]
    return roots or certificates


@click.command("verify", cls=_VerifyCommand)
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--trust", "trust", multiple=True, metavar="CERT",
              help="Trust this root certificate file (DER or PEM; in a bundle only the self-signed "
                   "certificates are trusted); may be repeated.")
@click.option("--at", "at", metavar="ISO-TIME", help="Validate as of this time, e.g. 2026-11-29T09:37:36+07:00.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--offline", is_flag=True, help="Use only the documents' own validation data; no network.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: batches only).")
@click.pass_obj
def verify(home, files, output_format, trust, at, lang, offline, progress):
    """Validate signed PDFs (PAdES), detached .p7s signatures (CAdES) and .edxml packages into reports.

    An .edxml package (QCVN 102:2016) reports its XML signature as an entry of kind `package` and each
    attached PDF as a nested file report ("attachments"). FILES may be folders: every .pdf, .p7s and
    .edxml inside is checked (X.p7s against X beside it), with one validation setup for the whole batch. Exit status: 0 all TOTAL_PASSED, 1 any TOTAL_FAILED,
    2 otherwise, 64 usage error, 78 configuration error.
    """
    import logging
    from dataclasses import replace

    from kyso.config import ConfigError

    # pyHanko and certvalidator log every suspicion they meet; the report already says what matters.
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    moment = None
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError as exc:
            raise _UsageError(f"--at {at!r}: not an ISO 8601 time ({exc})") from None
        if moment.tzinfo is None:
            raise _UsageError(f"--at {at!r}: give the UTC offset, e.g. {at}+07:00")
    paths = _expand(files)
    if not paths:
        raise _UsageError("no PDF or .p7s file found in the given folders")

    from policies.anchors import load_certificates
    from policies.decision import PolicyError
    from verifier import SettingsError, ValidationSettings, Verifier, render_summary

    try:
        settings = ValidationSettings.from_config(home.section("verifier"), base=home.path)
    except (ConfigError, SettingsError) as exc:
        click.echo(f"kyso verify: configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    explicit = []
    for name in trust:
        try:
            explicit.extend((name, c) for c in _anchors_of(load_certificates(Path(name).read_bytes())))
        except OSError as exc:
            raise _UsageError(f"--trust {name}: cannot read the file ({exc.strerror or exc})") from None
        except PolicyError as exc:
            raise _UsageError(f"--trust {name}: {exc}") from None
    roots, intermediates = _demo_roots(home.pki_dir)
    settings = replace(
        settings.with_trust(*explicit, *roots),
        intermediates=settings.intermediates + tuple(c for _, c in intermediates),
        offline=settings.offline or offline, at=moment,
    )

    from kyso.commands.edxml import package_verifier, render_report

    reports = []
    show_progress = progress if progress is not None else len(paths) > 1
    with Verifier(settings) as verifier:
        # .edxml packages (QCVN 102:2016) go to edxml, which verifies the PDFs inside with the same verifier.
        verifier = package_verifier(verifier, home)
        if show_progress:
            with click.progressbar(paths, label="kyso verify", file=sys.stderr,
                                   item_show_func=lambda p: p.name if p else "") as bar:
                for path in bar:
                    reports.append(verifier.verify_file(path))
        else:
            reports = [verifier.verify_file(path) for path in paths]

    if output_format == "json":
        summary = {i: sum(1 for r in reports if r.indication.value == i)
                   for i in ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE", "NO_SIGNATURE_FOUND")}
        click.echo(json.dumps({"files": [r.to_json(lang) for r in reports], "summary": summary},
                              ensure_ascii=False, indent=2))
    else:
        for report in reports:
            click.echo(render_report(report, lang=lang))
            click.echo("")
        click.echo(render_summary(reports, lang=lang))

    indications = {r.indication.value for r in reports}
    if indications == {"TOTAL_PASSED"}:
        sys.exit(0)
    if "TOTAL_FAILED" in indications:
        sys.exit(1)
    sys.exit(2)
