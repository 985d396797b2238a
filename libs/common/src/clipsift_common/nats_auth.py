"""How a service presents itself to NATS: its user, its own reply subjects, TLS.

Everything is optional: without credentials a service connects as before, to a server without
authentication (the test server, or a cluster that relies on network policy alone).
"""

from __future__ import annotations

import ssl
from typing import Any

from .settings import NatsSettings


def connect_options(settings: NatsSettings) -> dict[str, Any]:
    """Keyword arguments for ``nats.connect`` from the service's NATS settings."""
    options: dict[str, Any] = {"inbox_prefix": settings.nats_inbox_prefix}
    if settings.nats_user is not None and settings.nats_password is not None:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password.get_secret_value()
    tls = tls_context(settings)
    if tls is not None:
        options["tls"] = tls
    return options


def tls_context(settings: NatsSettings) -> ssl.SSLContext | None:
    """A context verifying the server against the configured CA, presenting the client certificate
    when one is configured; None when neither is, leaving TLS to the URL scheme."""
    if settings.nats_tls_ca_file is None and settings.nats_tls_cert_file is None:
        return None
    cafile = str(settings.nats_tls_ca_file) if settings.nats_tls_ca_file else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    if settings.nats_tls_cert_file is not None and settings.nats_tls_key_file is not None:
        context.load_cert_chain(str(settings.nats_tls_cert_file), str(settings.nats_tls_key_file))
    return context
