"""The HTTP server's own answers in problem+json too.

A request uvicorn cannot parse (a request line or headers past the parser's limits — a
query string of hundreds of kilobytes — or malformed bytes) never reaches the app; uvicorn
answers it with plain text. This protocol answers it like every other error.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.problems import MEDIA_TYPE


def problem_bytes(detail: str) -> bytes:
    body = {
        "type": "bad_request",
        "title": "Bad request",
        "status": 400,
        "detail": detail,
        "code": "bad_request",
        "errors": [{"field": "request", "reason": detail}],
    }
    return json.dumps(body).encode()


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        body = problem_bytes(
            f"{msg.rstrip('.')}: the request line or headers are too long or malformed"
        )
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head += [
            b"content-type: " + MEDIA_TYPE.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"connection: close\r\n",
            b"\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
