"""`kyso token init|enroll|list`: prepare officials' and agencies' tokens (SoftHSM in this home by default).

`init` creates a token; `enroll` generates a key pair on it (RSA-2048 by default, EC P-256 with
`--key ec`), has the token sign a CSR, issues the certificate under the chosen profile with this home's CA
and writes the certificate and its chain back to the token (same CKA_ID and label as the key).
PINs: the token's from KYSO_TOKEN_PIN (and KYSO_TOKEN_SO_PIN for init), the CA's from KYSO_CA_PIN,
otherwise asked on the terminal. Never an argument.
"""

from __future__ import annotations

import json

import click

from kyso.commands.ca import cli_errors
from kyso.commands.pki import pin_from


@click.group()
def token() -> None:
    """List, initialise and enrol PKCS#11 tokens."""


@token.command("init")
@click.option("--label", required=True, help="Token label (1 to 32 bytes), e.g. the holder's short name.")
@click.pass_obj
def init(home, label: str) -> None:
    """Initialise a new SoftHSM token in KYSO_HOME/tokens with a user PIN and an SO PIN."""
    from kyso.enrolment import initialise_user_token

    user_pin = pin_from("KYSO_TOKEN_PIN", f"PIN for token {label} / Mã PIN thiết bị {label}")
    so_pin = pin_from("KYSO_TOKEN_SO_PIN", f"SO PIN for token {label} / Mã PIN quản trị thiết bị {label}")
    with cli_errors():
        initialise_user_token(home, label=label, user_pin=user_pin, so_pin=so_pin)
    click.echo(f"Đã khởi tạo thiết bị / token initialised: {label}")


def _attributes(*, country, state, locality, organization, units, title, common_name, uids, email):
    # DER order as in VGCA subjects: C, ST, L, O, OU (lowest level first, as given), T, CN, UID, E.
    pairs = [("country_name", country)]
    if state:
        pairs.append(("state_or_province_name", state))
    if locality:
        pairs.append(("locality_name", locality))
    pairs.append(("organization_name", organization))
    pairs += [("organizational_unit_name", unit) for unit in units]
    if title:
        pairs.append(("title", title))
    pairs.append(("common_name", common_name))
    pairs += [("user_id", uid) for uid in uids]
    if email:
        pairs.append(("email_address", email))
    return pairs


@token.command("enroll")
@click.option("--label", "token_label", required=True, help="Label of the token to enrol.")
@click.option("--profile", type=click.Choice(["personal", "agency"]), required=True)
@click.option("--cn", "common_name", required=True, help="Holder's name (CN), UTF-8.")
@click.option("--uid", "uids", multiple=True, required=True,
              help="Identifier with prefix: CCCD:/CMND:/HC: for persons, MST:/MNS: for agencies (repeatable).")
@click.option("--o", "organization", required=True, help="Organisation (O).")
@click.option("--ou", "units", multiple=True, help="Organisational unit (OU), lowest level first (repeatable).")
@click.option("--title", help="Title (T), personal certificates only.")
@click.option("--l", "locality", help="Locality (L), e.g. Hà Nội.")
@click.option("--st", "state", help="State or province (ST).")
@click.option("--c", "country", default="VN", show_default=True)
@click.option("--email", help="E-mail address (E).")
@click.option("--key", "key_kind", type=click.Choice(["rsa", "ec"]), default="rsa", show_default=True,
              help="RSA-2048 or EC P-256, generated on the token.")
@click.option("--key-label", help="Label of the key and certificate on the token (default: the CN).")
@click.option("--days", type=click.IntRange(1, None), help="Validity in days (default: the profile's maximum).")
@click.option("--agency", "agency_code", help="Record the holder on the roster under this agency code.")
@click.pass_obj
def enroll(home, token_label, profile, common_name, uids, organization, units, title, locality, state, country,
           email, key_kind, key_label, days, agency_code) -> None:
    """Generate a key on the token, certify it with this home's CA, write certificate and chain back."""
    import os

    from kyso.enrolment import check_roster_agency, enroll_token, load_module, open_authority, record_on_roster
    from token_bridge.pin import EnvironmentPinPrompt, choose_pin_prompt

    attributes = _attributes(country=country, state=state, locality=locality, organization=organization,
                             units=units, title=title, common_name=common_name, uids=uids, email=email)
    prompt = EnvironmentPinPrompt("KYSO_TOKEN_PIN") if os.environ.get("KYSO_TOKEN_PIN") else None
    with cli_errors():
        if agency_code:
            check_roster_agency(home, agency_code)
        authority = open_authority(home)
        module = load_module(home)
        enrolment = enroll_token(
            authority, module, token_label=token_label, pin_prompt=prompt or choose_pin_prompt(),
            profile=profile, attributes=attributes, key_label=key_label or common_name[:32], key_kind=key_kind,
            validity_days=days,
        )
        if agency_code:
            record_on_roster(home, enrolment.issued, agency_code=agency_code, profile=profile)
    certificate = enrolment.issued.certificate
    click.echo(f"Đã cấp và ghi vào thiết bị / issued and written to token '{enrolment.token_label}': "
               f"{certificate.serial_number:X} {certificate.subject.human_friendly} "
               f"(key id {enrolment.key_id.hex()}, label '{enrolment.key_label}')")


@token.command("list")
@click.option("--label", "objects_of", help="Also list the keys and certificates of this token "
              "(logs in: PIN from KYSO_TOKEN_PIN or asked).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def list_tokens(home, objects_of: str | None, output: str) -> None:
    """List the tokens of this home's SoftHSM (and the objects of one with --label)."""
    import os

    from kyso.enrolment import load_module
    from token_bridge.keys import list_objects
    from token_bridge.pin import EnvironmentPinPrompt, choose_pin_prompt

    listing = []
    with cli_errors():
        module = load_module(home)
        for info in module.tokens():
            entry = {"label": info.label, "serial": info.serial, "manufacturer": info.manufacturer,
                     "model": info.model, "flags": info.flags.to_json()}
            if info.label == objects_of:
                prompt = (EnvironmentPinPrompt("KYSO_TOKEN_PIN") if os.environ.get("KYSO_TOKEN_PIN")
                          else choose_pin_prompt())
                session = module.session(info.label, pin_prompt=prompt)
                entry["objects"] = [obj.to_json() for obj in list_objects(session)]
            listing.append(entry)
        if objects_of and not any(entry["label"] == objects_of for entry in listing):
            raise click.ClickException(f"Không có thiết bị '{objects_of}' / no token labelled '{objects_of}'")
    if output == "json":
        click.echo(json.dumps({"tokens": listing}, ensure_ascii=False, indent=2))
        return
    if not listing:
        click.echo("Không có thiết bị nào / no tokens")
    for entry in listing:
        click.echo(f"{entry['label']}  serial {entry['serial']}  ({entry['manufacturer']} {entry['model']})")
        for obj in entry.get("objects", []):
            click.echo(f"  {obj['kind']:12} id {obj['id']}  {obj['label']}"
                       + (f"  [{obj['key_algorithm']}]" if obj["key_algorithm"] else ""))
