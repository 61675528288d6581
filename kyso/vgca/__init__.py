"""kyso as a drop-in for the signing plugin Vietnamese document systems call at wss://127.0.0.1:8987.

- `protocol`: endpoints, request bodies, answers and statuses (pure);
- `transfer`: downloads and uploads fenced against SSRF (origin rule, redirects, size, timeouts);
- `plugin`: the work of each endpoint, through the token bridge (consent, PIN, audit) and the signer;
- `server`: the WebSocket server (websockets, TLS) with the Host/Origin checks at the handshake;
- `loopback_tls`: the local CA and loopback server certificate in KYSO_HOME/bridge/;
- `settings`: the plugin's keys of `[bridge]`; `compose`: building all of it from a kyso home.
"""
