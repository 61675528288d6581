"""`kyso demo`: the whole story on embedded defaults, in KYSO_HOME, printing what it does.

1. the demo government PKI (CA keys on a SoftHSM token), 2. the roster of three agencies, 3. two SoftHSM
tokens enrolled (a ward leader's personal RSA key, the ward's EC seal key), 4. the central service and the
token bridge on loopback, 5. a decision registered, approved by the leader and issued (numbered) by the
clerk through the service and the bridge (the document stays on the server; the bridge signs digests),
6. the result verified, 7. a tampered incoming document verified and marked for return, 8. the ledger chain
checked, 9. the month's report. Exit 0 when every step worked. Running it again reuses the PKI, the roster
and the tokens, and signs a new document.

The demo PINs below are UNSAFE by design (a demo on a throwaway SoftHSM directory) and are never printed.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import socket
import sys
import threading
import uuid
from dataclasses import dataclass

import click

DEMO_CA_PIN = "demo-ca-1234"  # UNSAFE: demo tokens only
DEMO_SO_PIN = "demo-so-5678"  # UNSAFE: demo tokens only
DEMO_USER_PIN = "demo-user-1234"  # UNSAFE: demo tokens only
DEFAULT_PORT = 8470  # the PKI URLs in the demo certificates point here (KYSO_DEMO_PORT for the first run)
LEADER_TOKEN = "demo-leader"
AGENCY_TOKEN = "demo-seal"
WARD = "H26.90.01"

ROSTER = """code,legacy_code,name,level,parent_code,valid_from,valid_until
H26,000.00.00.H26,Ủy ban nhân dân Thành phố Hà Nội,city,,2008-08-01,
H26.10,000.10.00.H26,Sở Nội vụ Thành phố Hà Nội,city,H26,2008-08-01,
H26.90.01,,UBND phường Hoàn Kiếm,commune,H26,2025-07-01,
"""
LEADER = [
    ("country_name", "VN"), ("locality_name", "Hà Nội"), ("organization_name", "UBND Phường Hoàn Kiếm"),
    ("organizational_unit_name", "Lãnh đạo UBND Phường"), ("title", "Chủ tịch"),
    ("common_name", "Nguyễn Văn An"), ("user_id", "CCCD:001085012345"),
]
SEAL = [
    ("country_name", "VN"), ("locality_name", "Hà Nội"), ("organization_name", "UBND Thành phố Hà Nội"),
    ("common_name", "UBND Phường Hoàn Kiếm"), ("user_id", "MST:0101234567"),
]


class DemoFailed(Exception):
    pass


@dataclass
class Story:
    """What the demo prints: one line per step, ✓ or ✗."""

    steps: int = 0

    def done(self, text: str) -> None:
        self.steps += 1
        click.echo(f"  ✓ {self.steps:2d}. {text}")

    def note(self, text: str) -> None:
        click.echo(f"        {text}")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- sample material (generated, nothing downloaded) -----------------------------------------------------


def decision_pdf(*, number_hint: str) -> bytes:
    """A Decree 30 style decision of the ward with its signature block ("CHỦ TỊCH" over the leader's name)."""
    from service.text_pdf import TextLine, build_text_pdf

    left, right = 150, 420
    lines = [
        # gap=0: the next line shares the baseline (the header's two columns).
        TextLine("ỦY BAN NHÂN DÂN", size=12, centre_x=left, gap=0),
        TextLine("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12, centre_x=right, gap=15),
        TextLine("PHƯỜNG HOÀN KIẾM", bold=True, size=12, centre_x=left, gap=0),
        TextLine("Độc lập - Tự do - Hạnh phúc", bold=True, size=13, centre_x=right, gap=30),
        TextLine("Số: ....../QĐ-UBND", size=13, centre_x=left, gap=0),
        TextLine("Hà Nội, ngày .... tháng .... năm ......", size=13, centre_x=right, gap=40),
        TextLine("QUYẾT ĐỊNH", bold=True, size=14, centre_x=297, gap=18),
        TextLine("Về việc ban hành quy chế ký số văn bản điện tử", bold=True, size=13, centre_x=297, gap=30),
        TextLine("Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư;", size=12),
        TextLine("Căn cứ Nghị định số 68/2024/NĐ-CP quy định về chữ ký số chuyên dùng công vụ;", size=12),
        TextLine(f"Điều 1. Ban hành quy chế ký số văn bản điện tử của UBND phường (bản demo {number_hint}).", size=12),
        TextLine("Điều 2. Quyết định có hiệu lực kể từ ngày ký.", size=12, gap=40),
        TextLine("CHỦ TỊCH", bold=True, size=13, centre_x=right, gap=80),
        TextLine("Nguyễn Văn An", bold=True, size=13, centre_x=right),
    ]
    return build_text_pdf(lines, top=841.89 - 90)  # Decree 30: a 20-25 mm top margin for the stamps


def signature_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 220), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 9, 120 + int(45 * ((-1) ** i) * (1 - i / 70))) for i in range(60)]
    draw.line(points, fill=(20, 50, 170, 255), width=7, joint="curve")
    draw.line([(80, 170), (520, 150)], fill=(20, 50, 170, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def seal_png() -> bytes:
    from PIL import Image, ImageDraw

    size = 413  # 35 mm at 300 dpi
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 20, 230)
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=14)
    draw.ellipse((70, 70, size - 70, size - 70), outline=red, width=6)
    draw.regular_polygon((size / 2, size / 2, 60), 5, fill=red)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


# -- the story -------------------------------------------------------------------------------------------


def _pki(home, story: Story) -> tuple[str, object]:
    from kyso.enrolment import init_pki, manifest_path

    if manifest_path(home).exists():
        import json

        base_url = json.loads(manifest_path(home).read_text(encoding="utf-8"))["base_url"]
    else:
        import os

        wanted = int(os.environ.get("KYSO_DEMO_PORT") or DEFAULT_PORT)
        port = wanted if _port_is_free(wanted) else _free_port()
        base_url = f"http://127.0.0.1:{port}"
    summary = init_pki(home, user_pin=DEMO_CA_PIN, so_pin=DEMO_SO_PIN, base_url=base_url)
    story.done(("created" if summary.created else "reused") + f" the demo PKI in {summary.directory} "
               f"(CA keys on SoftHSM token '{summary.token_label}')")
    for name in ("root", "gov", "ocsp", "tsa"):
        story.note(f"{name}: {summary.certificates[name].subject.human_friendly}")
    return summary.base_url, summary


def _roster(settings, story: Story):
    from ledger import import_agencies_csv, open_store
    from ledger.errors import UnknownAgency
    from ledger.roster import get_agency

    store = open_store(settings.database_url, migrate_schema=False)
    try:
        try:
            get_agency(store, WARD)
            story.done("reused the roster (city, Sở Nội vụ, UBND phường Hoàn Kiếm)")
        except UnknownAgency:
            import_agencies_csv(store, ROSTER, source="demo-roster.csv")
            story.done("imported the roster: 3 agencies (city level and commune level)")
    finally:
        store.dispose()


def _enrol(home, authority, story: Story, settings) -> None:
    from kyso.enrolment import enroll_token, initialise_user_token, load_module
    from ledger import enrol_certificate, open_store
    from policies.identity import parse_identity
    from token_bridge.pin import RepeatingPinPrompt

    module = load_module(home)
    present = {token.label for token in module.tokens()}
    store = open_store(settings.database_url, migrate_schema=False)
    try:
        for label, profile, subject, key_kind, who in (
            (LEADER_TOKEN, "personal", LEADER, "rsa", "the ward leader Nguyễn Văn An (personal, RSA-2048)"),
            (AGENCY_TOKEN, "agency", SEAL, "ec", "UBND Phường Hoàn Kiếm's seal (agency, EC P-256)"),
        ):
            if label in present:
                story.done(f"reused token '{label}' of {who}")
                continue
            initialise_user_token(home, label=label, user_pin=DEMO_USER_PIN, so_pin=DEMO_SO_PIN)
            enrolment = enroll_token(authority, module, token_label=label, pin_prompt=RepeatingPinPrompt(DEMO_USER_PIN),
                                     profile=profile, attributes=subject, key_label=label, key_kind=key_kind)
            certificate = enrolment.issued.certificate
            identity = parse_identity(certificate)
            enrol_certificate(store, serial=certificate.serial_number, agency_code=WARD, kind=profile,
                              not_before=certificate.not_valid_before, not_after=certificate.not_valid_after,
                              full_name=identity.common_name, identifiers=[str(i) for i in identity.identifiers],
                              title=identity.title, subject=certificate.subject.human_friendly)
            story.done(f"enrolled token '{label}' for {who}: key generated on the token, "
                       f"certificate {certificate.serial_number:x} issued by 'gov'")
    finally:
        store.dispose()


@contextlib.contextmanager
def _running(home, settings, authority, summary, base_url: str):
    """The central service (with /pki mounted) and the token bridge, both on loopback, in this process."""
    from werkzeug.serving import make_server

    from service.app import create_app
    from service.wiring import Components
    from token_bridge.audit import AuditLog
    from token_bridge.consent import UnsafeAutoConsent
    from token_bridge.http import serving
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.settings import BridgeSettings
    from token_bridge.signing import Bridge
    from kyso.enrolment import load_module

    from kyso.commands.serve import token_receipt_signer

    certificates = summary.certificates
    module = load_module(home)
    components = Components.build(
        database_url=settings.database_url,
        trust_roots=(certificates["root"],),
        intermediates=(certificates["gov"],),
        tsa_url=f"{base_url}/pki/tsa",
        authority=authority,
        # The ward's seal signs the receipts of the checks it makes (the same token the clerk issues with).
        receipt_signer=token_receipt_signer(module, AGENCY_TOKEN, pin_prompt=RepeatingPinPrompt(DEMO_USER_PIN)),
    )
    app = create_app(settings.with_changes(mount_pki=True), components=components)
    port = int(base_url.rsplit(":", 1)[1])
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except OSError as exc:
        raise DemoFailed(f"port {port} of the demo PKI is busy ({exc.strerror}); stop what uses it") from exc
    thread = threading.Thread(target=server.serve_forever, name="kyso-demo-service", daemon=True)
    thread.start()
    bridge_settings = BridgeSettings.from_config(
        {"port": _free_port(), "hosts": ["127.0.0.1"], "allowed_origins": [base_url]})
    audit = AuditLog()
    bridge = Bridge([module], pin_prompt=RepeatingPinPrompt(DEMO_USER_PIN), consent=UnsafeAutoConsent(),
                    audit=audit)
    try:
        with serving(bridge, bridge_settings):
            yield base_url, bridge_settings.base_url, app, audit
    finally:
        server.shutdown()
        thread.join(timeout=10)
        components.dispose()


def _call(method, url, *, expect: int = 200, **kwargs):
    import requests

    answer = requests.request(method, url, timeout=120, **kwargs)
    if answer.status_code != expect:
        try:
            detail = answer.json()
            detail = detail.get("message") or detail.get("error") or detail
        except ValueError:
            detail = answer.text[:300]
        raise DemoFailed(f"{method} {url.split('/', 3)[-1]} answered {answer.status_code}: {detail}")
    return answer


def _sign(service: str, bridge_url: str, key: str, certificate: dict, story: Story, **body) -> dict:
    """prepare on the service -> the bridge signs the digest (consent, PIN on the token) -> complete."""
    headers = {"Authorization": f"Bearer {key}"}
    session = _call("POST", f"{service}/api/v1/signing-sessions", expect=201, headers=headers, json={
        "certificate": certificate["certificate"], "chain": certificate["chain"], **body}).json()
    signed = _call("POST", f"{bridge_url}/v1/signatures", json={
        "certificate_id": certificate["id"], **session["bridge_request"]}).json()
    completed = _call("POST", f"{service}/api/v1/signing-sessions/{session['id']}/signature", headers=headers,
                      json={"signature": signed["signature"]}).json()
    return completed


def _bridge_signed(service: str, bridge_url: str, headers: dict, certificate: dict, path: str, body: dict) -> dict:
    """An edXML prepare on the service -> the bridge signs the digest -> complete (hash-only)."""
    prepared = _call("POST", f"{service}{path}", expect=201, headers=headers, json={
        "certificate": certificate["certificate"], "chain": certificate["chain"], **body}).json()
    signed = _call("POST", f"{bridge_url}/v1/signatures", json={
        "certificate_id": certificate["id"], **prepared["bridge_request"]}).json()
    completed = _call("POST", f"{service}/api/v1/edxml/sessions/{prepared['id']}/signature", headers=headers,
                      json={"signature": signed["signature"]}).json()
    return {**prepared, **completed}


def _edxml_story(service: str, bridge_url: str, headers: dict, seal: dict, document_id: int, story: Story) -> None:
    """The issued document to Sở Nội vụ over the national axis (QCVN 102:2016 edXML), and its status answer."""
    package = _bridge_signed(service, bridge_url, headers, seal, "/api/v1/edxml/packages",
                             {"document_id": document_id, "recipients": ["H26.10"]})
    xml = base64.b64decode(package["xml"])
    story.done(f"packed the issued document as an edXML package for Sở Nội vụ (H26.10), signed with the seal "
               f"through the bridge ({len(xml)} bytes)")
    received = _call("POST", f"{service}/api/v1/validations?lang=vi", headers={
        **headers, "Content-Type": "application/xml", "X-Filename": package["filename"]}, data=xml).json()
    checked = received["files"][0]
    if checked["indication"] != "TOTAL_PASSED":
        raise DemoFailed(f"the edXML package verified as {checked['indication']}: {checked['messages']}")
    inner = ", ".join(f"{s['kind']} {s['indication']}" for a in checked["attachments"] for s in a["signatures"])
    story.done(f"Sở Nội vụ verified the package: {checked['indication']} (package signature "
               f"{checked['signatures'][0]['indication']}; {inner}); registered as incoming document "
               f"#{received['document_id']}, {len(received['ledger_records'])} ledger record(s)")
    status = _bridge_signed(service, bridge_url, headers, seal, "/api/v1/edxml/status", {
        "package": package["xml"], "agency_code": "H26.10", "status": "03"})
    story.done(f"status message {status['status']} (đã tiếp nhận) signed and ready for the sender: "
               f"{status['status_description']}")
    story.note("the demo has one seal token, so the status message is signed with it")


def run_demo(home) -> None:
    from kyso.enrolment import open_authority
    from service.settings import ServiceSettings
    from service.wiring import add_system_key, migrate_all
    from service.accounts import Permission
    from token_bridge.pin import RepeatingPinPrompt

    import logging

    story = Story()
    # The story is the output: request logs of the loopback servers would drown it.
    from service.request_log import service_logger

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    service_logger().setLevel(logging.WARNING)
    click.echo(f"kyso demo in {home.path}")
    home.ensure()
    base_url, summary = _pki(home, story)
    settings = ServiceSettings.from_home(home)
    migrate_all(settings)
    story.done(f"database ready ({settings.database_url.split(':', 1)[0]}): service, ledger and CA tables migrated")
    _roster(settings, story)
    authority = open_authority(home, pin_prompt=RepeatingPinPrompt(DEMO_CA_PIN))
    try:
        _enrol(home, authority, story, settings)
        key = add_system_key(settings, f"demo-dms-{uuid.uuid4().hex[:8]}",
                             scopes=frozenset({Permission.DOCUMENTS, Permission.SIGN, Permission.VALIDATE,
                                               Permission.REPORTS, Permission.LEDGER}))
        story.done("created an API key for the document management system (shown once, stored hashed)")
        with _running(home, settings, authority, summary, base_url) as (service, bridge_url, app, audit):
            story.done(f"service on {service} (PKI at {service}/pki), token bridge on {bridge_url}")
            _story_over_http(service, bridge_url, key, story, audit, out_dir=home.path / "demo",
                             issue_level=settings.issue_level)
    finally:
        authority.store.close()
    click.echo(f"kyso demo: all {story.steps} steps worked / mọi bước đều thành công.")


def _story_over_http(service: str, bridge_url: str, key: str, story: Story, audit, *, out_dir,
                     issue_level: str = "B-LT") -> None:
    import hashlib

    headers = {"Authorization": f"Bearer {key}"}
    run = dt.datetime.now(dt.timezone.utc).strftime("%H%M%S")
    document = _call("POST", f"{service}/api/v1/documents", expect=201, headers=headers, json={
        "agency_code": WARD, "direction": "outgoing", "doc_type": "Quyết định",
        "title": "Về việc ban hành quy chế ký số văn bản điện tử",
        "file": base64.b64encode(decision_pdf(number_hint=run)).decode(), "filename": f"quyet-dinh-{run}.pdf"}).json()
    story.done(f"registered outgoing document #{document['id']} of {WARD} with its PDF ({document['file']['size']} bytes)")

    certificates = _call("GET", f"{bridge_url}/v1/certificates").json()["certificates"]
    leader = next(c for c in certificates if c["token"] == LEADER_TOKEN and c["kind"] == "personal")
    seal = next(c for c in certificates if c["token"] == AGENCY_TOKEN and c["kind"] == "agency")
    story.done(f"the bridge lists {len(certificates)} certificates; leader {leader['identity']['common_name']}, "
               f"seal {seal['identity']['common_name']}")

    approved = _sign(service, bridge_url, key, leader, story, kind="approve", document_id=document["id"],
                     signature_image=base64.b64encode(signature_png()).decode(), title="CHỦ TỊCH")
    report = approved["signature_report"]
    story.done(f"approved (ký duyệt) through service + bridge: {report['indication']}, PAdES B-T, "
               f"signing time {report['signing_time']} from the {report['signing_time_source']}")
    issued = _sign(service, bridge_url, key, seal, story, kind="issue", document_id=document["id"],
                   seal_image=base64.b64encode(seal_png()).decode(), series="QĐ-UBND")
    story.done(f"issued (ký phát hành) with the seal: number {issued['number']['notation']} on "
               f"{issued['number']['issued_on']}, PAdES {issue_level}, {issued['signature_report']['indication']}")
    story.note(f"the bridge saw only digests: {len(audit.records())} audited signature request(s)")

    signed = _call("GET", f"{service}/api/v1/documents/{document['id']}/file", headers=headers).content
    # Kept for receivers to check offline once the demo's PKI has stopped: kyso verify --offline FILE.
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "issued.pdf").write_bytes(signed)
    verified = _call("POST", f"{service}/api/v1/validations?lang=vi", headers={**headers, "Content-Type": "application/pdf"},
                     data=signed).json()["files"][0]
    if verified["indication"] != "TOTAL_PASSED":
        raise DemoFailed(f"the signed document verified as {verified['indication']}")
    kinds = ", ".join(f"{s['kind']} ({s['signer']['common_name']})" for s in verified["signatures"])
    story.done(f"verified the signed document: {verified['indication']} — {kinds}")
    story.note(f"saved as {out_dir / 'issued.pdf'} (check it offline: kyso verify --offline {out_dir / 'issued.pdf'})")

    _edxml_story(service, bridge_url, headers, seal, document["id"], story)

    incoming = _call("POST", f"{service}/api/v1/documents", expect=201, headers=headers, json={
        "agency_code": "H26.10", "direction": "incoming", "doc_type": "Quyết định",
        "title": "Văn bản đến từ UBND phường Hoàn Kiếm", "counterpart_code": WARD}).json()
    # One byte changed inside the first revision (covered by both signatures): the hashes no longer match.
    tampered = bytearray(signed)
    position = document["file"]["size"] // 2
    tampered[position] ^= 0x01
    checked = _call("POST", f"{service}/api/v1/validations?lang=vi&document_id={incoming['id']}",
                    headers={**headers, "Content-Type": "application/pdf"}, data=bytes(tampered)).json()
    if not checked["returned"] or checked["files"][0]["indication"] != "TOTAL_FAILED":
        raise DemoFailed("a tampered incoming document was not refused")
    story.done(f"a tampered copy received by Sở Nội vụ: {checked['files'][0]['indication']}, "
               f"marked for return to the sender; {len(checked['ledger_records'])} ledger record(s)")
    receipt = _call("GET", f"{service}{checked['receipt_url']}", headers=headers).content
    judged = _call("POST", f"{service}/api/v1/validations", headers={**headers, "Content-Type": "application/pdf"},
                   data=receipt).json()["files"][0]
    if judged["indication"] != "TOTAL_PASSED":
        raise DemoFailed(f"the receipt's own signature verified as {judged['indication']}")
    story.done(f"receipt (biên nhận) of the check in Vietnamese, signed by "
               f"{judged['signatures'][0]['signer']['common_name']}: {judged['indication']} "
               f"(sha256 {hashlib.sha256(receipt).hexdigest()[:16]}…)")

    chain = _call("GET", f"{service}/api/v1/ledger/verify", headers=headers).json()
    if not chain["intact"]:
        raise DemoFailed(f"the ledger chain is broken: {chain['problems'][:3]}")
    story.done(f"ledger chain intact: {chain['records']} records, head {chain['head']['hash'][:16]}…")

    month = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y-%m")
    report = _call("GET", f"{service}/api/v1/reports/monthly?month={month}", headers=headers).json()
    story.done(f"monthly report {month} (Asia/Ho_Chi_Minh):")
    for level in report["levels"]:
        if level["agencies"]:
            story.note(level["name_vi"])
        for agency in level["agencies"]:
            rate = agency["rates"]["signing_rate"]
            figures = agency["figures"]
            percent = "—" if rate["percent"] is None else f"{rate['percent']}%"
            story.note(f"  {agency['code']:<10} {agency['name']:<32} ký số {percent:>7} "
                       f"(chỉ tiêu {rate['target']}%), {figures['signed_valid_both']['count']}/"
                       f"{figures['outgoing']['count']} văn bản đi, {figures['incoming_returned']['count']} trả lại")


@click.command()
@click.pass_obj
def demo(home) -> None:
    """Run the whole story on embedded defaults (SoftHSM tokens, SQLite, services on loopback)."""
    try:
        run_demo(home)
    except DemoFailed as exc:
        click.echo(f"  ✗ {exc}", err=True)
        click.echo("kyso demo: a step failed / có bước không thành công.", err=True)
        sys.exit(1)
