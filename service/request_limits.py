"""The upload limit for chunked request bodies (issue 9, item 12).

Werkzeug enforces `MAX_CONTENT_LENGTH` against a Content-Length header; a chunked body has none, and when
the server terminates the stream (gunicorn) Werkzeug stops reading at the limit without saying so, so an
oversized upload was silently truncated and then judged. This WSGI middleware reads a chunked body up to
the limit plus one byte before the application sees it: within the limit the body is handed on with its
exact Content-Length; over it, the request is marked as larger than the limit, so the application answers
its usual 413 (`payload_too_large`) when the view reads the body.
"""

from __future__ import annotations

import io


class ChunkedBodyLimit:
    def __init__(self, app, *, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # RFC 9112, 6.3: with Transfer-Encoding, any Content-Length is ignored (a smuggling vector otherwise).
        if chunked:
            stream = environ["wsgi.input"]
            body = bytearray()
            while len(body) <= self.limit:
                piece = stream.read(min(64 * 1024, self.limit + 1 - len(body)))
                if not piece:
                    break
                body += piece
            if len(body) > self.limit:
                environ["CONTENT_LENGTH"] = str(self.limit + 1)  # Werkzeug refuses it: RequestEntityTooLarge
                environ["wsgi.input"] = io.BytesIO(b"")
            else:
                environ["CONTENT_LENGTH"] = str(len(body))
                environ["wsgi.input"] = io.BytesIO(bytes(body))
            # The body is now plain bytes of a known length (Werkzeug ignores Content-Length while the
            # request still says chunked).
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)
