"""The plugin endpoint (kyso/vgca) for tests: a fake document system on loopback and a running endpoint.

- `FakeDocumentSystem`: a WSGI app playing the document system (QLVB). It serves PDFs at `/files/<name>`
  only to a caller that sends `Authorization: Bearer <jwt>` and the `SessionId` cookie, redirects at
  `/away/<name>` (to another host) and `/hop/<name>` (to its own /files), serves an endless body at
  `/huge.pdf`, and stores uploads POSTed to `/upload` (multipart field `uploadfile`, the other form fields
  kept) answering `{"Status": true, "FileName", "FileServer"}`; `/upload-refused` answers `Status: false`.
- `vgca_world` fixture -> `VgcaWorld`: the document system served at `dms.origin` (http://127.0.0.1:PORT),
  a bridge over the session SoftHSM tokens (scripted consent: yes unless a test pushes False), the plugin
  server at a free port with a fresh loopback CA, allowed origin = the document system's, and `call(endpoint,
  frame, origin=...)` -> the decoded answer (a Python WebSocket client written from the protocol).
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.wrappers import Request, Response

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2YW4tdGh1In0.test"
SESSION = "qlvb-session-42"


@dataclass
class FakeDocumentSystem:
    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[dict] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    other_origin: str = "http://localhost:1"  # where /away redirects (another host)
    origin: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    serve_stored: bool = False  # True: /stored-as/<FileName the upload answered> serves that upload
    open_paths: bool = False  # True: /files/ also serves callers without the JWT (VerifyPDF sends none)

    def _authorised(self, request: Request) -> bool:
        if self.open_paths and request.path.startswith("/files/"):
            return True
        return (request.headers.get("Authorization") == f"Bearer {JWT}"
                and request.cookies.get("SessionId") == SESSION)

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/page"):
            return Response(self.page_html, mimetype="text/html")(environ, start_response)
        if path.startswith("/plugin-client.js"):
            from tests.support.vgca_client import PLUGIN_CLIENT_JS

            return Response(PLUGIN_CLIENT_JS, mimetype="application/javascript")(environ, start_response)
        if not self._authorised(request):
            return Response(json.dumps({"Status": False, "Message": "JWTToken sai / bad JWTToken"}), status=401,
                            mimetype="application/json")(environ, start_response)
        if path.startswith("/stored-as/") and self.serve_stored:
            name = path.removeprefix("/stored-as/")
            stored = {f"signed-{i}-{u['filename']}": u["data"] for i, u in enumerate(self.uploads, 1)}
            if name not in stored:
                return Response("not found", status=404)(environ, start_response)
            return Response(stored[name], mimetype="application/pdf")(environ, start_response)
        if path.startswith("/files/"):
            name = path.removeprefix("/files/")
            with self.lock:
                self.downloads.append(name)
            if name not in self.files:
                return Response("not found", status=404)(environ, start_response)
            return Response(self.files[name], mimetype="application/pdf")(environ, start_response)
        if path.startswith("/away/"):
            return Response("", status=302, headers={"Location": f"{self.other_origin}/files/"
                                                                  f"{path.removeprefix('/away/')}"})(environ, start_response)
        if path.startswith("/hop/"):
            return Response("", status=302, headers={"Location": f"/files/{path.removeprefix('/hop/')}"})(
                environ, start_response)
        if path == "/huge.pdf":
            def endless():
                yield b"%PDF-1.7\n"
                while True:
                    yield b"0" * 65536
            return Response(endless(), mimetype="application/pdf")(environ, start_response)
        if path in ("/upload", "/upload-refused") and request.method == "POST":
            stored = request.files.get("uploadfile")
            if stored is None:
                return Response(json.dumps({"Status": False, "Message": "thiếu uploadfile"}),
                                mimetype="application/json")(environ, start_response)
            if path == "/upload-refused":
                return Response(json.dumps({"Status": False, "Message": "Văn bản đã bị thu hồi"}),
                                mimetype="application/json")(environ, start_response)
            data = stored.read()
            with self.lock:
                self.uploads.append({"filename": stored.filename, "data": data, "form": dict(request.form)})
                index = len(self.uploads)
            answer = {"Status": True, "Message": "", "FileName": f"signed-{index}-{stored.filename}",
                      "FileServer": f"{self.origin}/stored/"}
            return Response(json.dumps(answer), mimetype="application/json")(environ, start_response)
        return Response("not found", status=404)(environ, start_response)

    page_html: str = ""


@dataclass
class VgcaWorld:
    dms: FakeDocumentSystem
    server: object  # kyso.vgca.server.PluginServer
    identity: object  # kyso.vgca.loopback_tls.LoopbackIdentity
    consent: object  # ScriptedConsent inside the BatchConsent
    audit: object
    bridge: object
    pin_prompt: object

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, endpoint: str, frame: str | dict, *, origin: str | None = "", host: str | None = None) -> dict:
        """One plugin call as the client makes it: connect, send one text frame, read the first answer."""
        from websockets.sync.client import connect

        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        headers = {"Host": host} if host else None
        with connect(f"{self.url}/{endpoint}", ssl=self.identity.client_context(),
                     origin=self.dms.origin if origin == "" else origin, additional_headers=headers,
                     open_timeout=10) as socket:
            socket.send(text)
            return json.loads(socket.recv(timeout=120))

    def document_frame(self, name: str, **extra) -> dict:
        return {"FileUploadHandler": f"{self.dms.origin}/upload", "SessionId": SESSION, "JWTToken": JWT,
                "FileName": f"{self.dms.origin}/files/{name}", **extra}


def start_vgca_world(stack: contextlib.ExitStack, folder, pki, *, bridge, consent, audit, pin_prompt,
                     personal_certificate: str, agency_certificate: str | None = None,
                     max_download_bytes: int = 2 * 1024 * 1024) -> VgcaWorld:
    """A fake document system and a plugin server over `bridge`, stopped when `stack` closes."""
    from kyso.vgca.loopback_tls import ensure_loopback_identity
    from kyso.vgca.plugin import PluginEndpoint
    from kyso.vgca.server import PluginServer, ServerSettings
    from kyso.vgca.transfer import Limits
    from signer import PadesLevel, SigningEnvironment, StampImage
    from tests.support import documents
    from tests.support.servers import free_port, serve_wsgi
    from tests.support.verifier import VerifierKit

    dms = FakeDocumentSystem()
    dms.other_origin = f"http://localhost:{free_port()}"
    environment = SigningEnvironment(trust_roots=pki.trust_roots, tsa_url=pki.tsa_url)
    identity = ensure_loopback_identity(folder / "bridge")
    verifier = stack.enter_context(VerifierKit(pki).verifier())
    dms.origin = stack.enter_context(serve_wsgi(dms))
    endpoint = PluginEndpoint(
        bridge=bridge, environment=environment, level=PadesLevel.B_T,
        signature_image=StampImage.from_png(documents.signature_png(), role="signature"),
        seal_image=StampImage.from_png(documents.seal_png(), role="seal"),
        limits=Limits(max_download_bytes=max_download_bytes, timeout_seconds=30),
        # other tests of the run add tokens to the shared SoftHSM directory: name the certificates
        personal_certificate=personal_certificate, agency_certificate=agency_certificate,
        verify=lambda pdf, name: verifier.verify_pdf(pdf, path=name),
    )
    server = PluginServer(endpoint, ServerSettings(port=free_port(), allowed_origins=frozenset({dms.origin})),
                          ssl_context=identity.ssl_context(), audit=audit)
    server.start()
    stack.callback(server.stop)
    return VgcaWorld(dms=dms, server=server, identity=identity, consent=consent, audit=audit, bridge=bridge,
                     pin_prompt=pin_prompt)


@pytest.fixture
def vgca_world(tmp_path, pki, softhsm, personal_rsa_token, agency_ec_token):
    from kyso.vgca.plugin import BatchConsent
    from tests.support.softhsm import TEST_USER_PIN
    from token_bridge.audit import AuditLog
    from token_bridge.catalogue import certificate_id
    from token_bridge.consent import ScriptedConsent
    from token_bridge.pin import RepeatingPinPrompt
    from token_bridge.signing import Bridge

    consent = ScriptedConsent(default=True)
    audit = AuditLog()
    pins = RepeatingPinPrompt(TEST_USER_PIN)
    bridge = Bridge([softhsm.module], pin_prompt=pins, consent=BatchConsent(consent), audit=audit)
    with contextlib.ExitStack() as stack:
        yield start_vgca_world(stack, tmp_path, pki, bridge=bridge, consent=consent, audit=audit, pin_prompt=pins,
                               personal_certificate=certificate_id(personal_rsa_token.certificate),
                               agency_certificate=certificate_id(agency_ec_token.certificate))
