"""Who may watch the preview: a token (HTTP Basic, Bearer or `?token=`), in constant time."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

from edge.config.credentials import is_loopback

REALM = 'Basic realm="gesturepilot preview", charset="UTF-8"'
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s]*")


class PreviewAccess:
    """The rule for one server: open on loopback, else the token in any of the three forms."""

    def __init__(self, host: str, token: str | None) -> None:
        """Raises:
        ValueError: `host` reaches beyond loopback and there is no token to ask for."""
        if not is_loopback(host) and not token:
            raise ValueError(f"[preview] host = {host!r} needs a token (docs/security.md)")
        self._token = token.encode() if token and not is_loopback(host) else None

    @property
    def required(self) -> bool:
        return self._token is not None

    def allows(self, path: str, authorization: str) -> bool:
        """Whether a request for `path` (with its query) and that Authorization header may
        see the camera."""
        if self._token is None:
            return True
        offered = list(parse_qs(urlsplit(path).query).get("token", []))
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            offered.append(value.strip())
        elif scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                # any user name; the password is the token
                pair = base64.b64decode(value.strip(), validate=True).decode()
                offered.append(pair.partition(":")[2])
        # compare_digest on every candidate: no early exit that times the first match
        return any([hmac.compare_digest(o.encode(), self._token) for o in offered])


def redact(text: str) -> str:
    """`text` with any `token=...` value replaced, for log lines that echo a request."""
    return _TOKEN_IN_QUERY.sub(r"\1***", text)
