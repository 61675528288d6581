"""`kyso pki init`: the demo government PKI of this home (CA keys on a SoftHSM token, never leaving it).

PINs: the CA token's user PIN from KYSO_CA_PIN and its SO PIN from KYSO_CA_SO_PIN, otherwise asked on the
terminal (hidden, typed twice). Never an argument, never in kyso.toml.
"""

from __future__ import annotations

import os

import click


def pin_from(variable: str, prompt: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True)


@click.group()
def pki() -> None:
    """Create the demo government PKI (root, issuing CA, TSA, OCSP)."""


@pki.command("init")
@click.option("--base-url", help="Public origin of the PKI endpoints written into certificates "
              "(default: [ca] base_url, else http://127.0.0.1:8470).")
@click.pass_obj
def init(home, base_url: str | None) -> None:
    """Generate the CA keys on the token, issue the CA, OCSP and TSA certificates, publish CRLs."""
    from ca.errors import CaError
    from kyso.config import ConfigError
    from kyso.enrolment import init_pki, manifest_path
    from token_bridge.errors import TokenBridgeError

    try:
        if manifest_path(home).exists():
            summary = init_pki(home, user_pin="", so_pin="", base_url=base_url)
        else:
            user_pin = pin_from("KYSO_CA_PIN", "PIN of the CA token / Mã PIN thiết bị CA")
            so_pin = pin_from("KYSO_CA_SO_PIN", "SO PIN of the CA token / Mã PIN quản trị thiết bị CA")
            summary = init_pki(home, user_pin=user_pin, so_pin=so_pin, base_url=base_url)
    except CaError as exc:
        raise click.ClickException(str(exc)) from exc
    except TokenBridgeError as exc:
        raise click.ClickException(f"{exc.message_vi} / {exc.message_en}") from exc
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if summary.created:
        click.echo(f"Đã tạo PKI / PKI created in {summary.directory} (CA token '{summary.token_label}', "
                   f"endpoints {summary.base_url}/pki/...)")
    else:
        click.echo(f"PKI đã có sẵn, không thay đổi gì / PKI already initialised in {summary.directory}; "
                   "nothing changed")
    for name, certificate in summary.certificates.items():
        click.echo(f"  {name:5} {certificate.serial_number:X}  {certificate.subject.human_friendly}  "
                   f"(to {certificate.not_valid_after:%Y-%m-%d})")
