"""Building the plugin endpoint of `kyso bridge serve --vgca` from a kyso home: the signer's trust and
TSA (as `kyso sign`), the stamp images, the verifier (as `kyso verify`), the loopback TLS identity."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kyso.vgca.loopback_tls import ensure_loopback_identity
from kyso.vgca.plugin import BatchConsent, PluginEndpoint
from kyso.vgca.server import PluginServer, ServerSettings
from kyso.vgca.settings import PluginSettings
from kyso.vgca.transfer import Limits


def bridge_folder(home) -> Path:
    return Path(home.path) / "bridge"


def build_plugin_server(home, core, plugin: PluginSettings, *, allowed_origins, port: int | None = None,
                        reporter=None) -> PluginServer:
    """The plugin server over the bridge `core` (whose consent must be a `BatchConsent`)."""
    from kyso.commands.sign import _demo_pki, _load_certificates, _read_image
    from signer import PadesLevel, SigningEnvironment

    if not isinstance(core.consent, BatchConsent):
        raise TypeError("the bridge's consent must be a BatchConsent for SignFiles")
    signer_settings = home.section("signer")
    roots, intermediates, demo_tsa = _demo_pki(home)
    trust_files = list(signer_settings.get("trust", []))
    if trust_files:
        roots = [c for path in trust_files for c in _load_certificates(Path(path))]
    tsa_url = signer_settings.get("tsa_url") or demo_tsa
    revocation = signer_settings.get("revocation", "soft-fail")
    environment = SigningEnvironment(trust_roots=roots, other_certs=intermediates, tsa_url=tsa_url,
                                     revocation_mode=revocation)

    signature = _read_image(plugin.signature_image or signer_settings.get("signature_image"), "signature")
    seal = _read_image(plugin.seal_image or signer_settings.get("seal_image"), "seal")
    diameter = plugin.seal_diameter_mm or (float(signer_settings["seal_diameter_mm"])
                                           if signer_settings.get("seal_diameter_mm") else None)
    endpoint = PluginEndpoint(
        bridge=core, environment=environment, level=PadesLevel(plugin.level),
        signature_image=signature, seal_image=seal, seal_diameter_mm=diameter,
        allowed_hosts=plugin.allowed_hosts,
        limits=Limits(max_download_bytes=plugin.max_download_bytes, timeout_seconds=plugin.timeout_seconds),
        personal_certificate=plugin.personal_certificate, agency_certificate=plugin.agency_certificate,
        verify=_verifier(home), report=reporter,
    )
    identity = ensure_loopback_identity(bridge_folder(home))
    settings = ServerSettings(port=plugin.port if port is None else port, allowed_origins=frozenset(allowed_origins))
    return PluginServer(endpoint, settings, ssl_context=identity.ssl_context(), audit=core.audit)


def _verifier(home):
    """`(pdf, name) -> FileReport` with the trust of `kyso verify` (its settings, the demo PKI's roots)."""
    from kyso.commands.verify import _demo_roots
    from verifier import ValidationSettings, Verifier

    settings = ValidationSettings.from_config(home.section("verifier"), base=home.path)
    roots, intermediates = _demo_roots(home.pki_dir)
    settings = replace(settings.with_trust(*roots),
                       intermediates=settings.intermediates + tuple(c for _, c in intermediates))
    verifier = Verifier(settings)

    def verify(pdf: bytes, name: str):
        return verifier.verify_pdf(pdf, path=name)

    return verify
