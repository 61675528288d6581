"""Run WSGI applications on loopback ports for integration tests, in a thread of the test process."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_wsgi(app, *, host: str = "127.0.0.1", port: int = 0, threaded: bool = True) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL (http://127.0.0.1:PORT)."""
    server = make_server(host, port, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, name=f"wsgi-{server.server_port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def wsgi_server():
    """Call `wsgi_server(app)` to get a base URL; every server stops after the test."""
    stack = contextlib.ExitStack()

    def start(app, **kwargs) -> str:
        return stack.enter_context(serve_wsgi(app, **kwargs))

    with stack:
        yield start
