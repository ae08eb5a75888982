"""Secrets the service reads at start: the broker password and the preview token."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

CREDENTIAL_NAME = "mqtt_password"  # systemd LoadCredential= name, read from $CREDENTIALS_DIRECTORY
PREVIEW_CREDENTIAL = "preview_token"  # LoadCredential=preview_token (make install writes one)
MIN_TOKEN_LENGTH = 16


def credential(env: str, name: str, section: str, errors: list[str]) -> str:
    """A secret: from the environment variable `env` names (`[section] <key>_env`), else the
    systemd credential `name` in $CREDENTIALS_DIRECTORY, else "" (an empty file means none)."""
    if env:
        if env not in os.environ:
            errors.append(f"[{section}] environment variable {env} is not set")
        return os.environ.get(env, "")
    if os.environ.get("CREDENTIALS_DIRECTORY"):
        cred = Path(os.environ["CREDENTIALS_DIRECTORY"]) / name
        if cred.is_file():
            return cred.read_text().rstrip("\r\n")
    return ""


def mqtt_password(password_env: str, errors: list[str]) -> str:
    """The broker password: from the environment variable the config names, else a systemd
    credential (`LoadCredential=mqtt_password`), else none. One rule for daemon and vehicle."""
    if password_env and password_env not in os.environ:
        errors.append(f"[mqtt] password_env: environment variable {password_env} is not set")
        return ""
    return credential(password_env, CREDENTIAL_NAME, "mqtt", errors)


def preview_token(token_env: str, errors: list[str]) -> str:
    """The preview's access token: `[preview] token_env`, else `LoadCredential=preview_token`;
    never echoed in an error (only its length is)."""
    if token_env and token_env not in os.environ:
        errors.append(f"[preview] token_env: environment variable {token_env} is not set")
        return ""
    token = credential(token_env, PREVIEW_CREDENTIAL, "preview", errors).strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        errors.append(
            f"[preview] token: {len(token)} characters, too short to guess-proof the camera "
            f"(at least {MIN_TOKEN_LENGTH}; make install writes a random one)"
        )
    return token


def is_loopback(host: str) -> bool:
    """Whether `host` only reaches this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False
