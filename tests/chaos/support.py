"""What the chaos tests share: the service's environment for the sandbox SMTP server."""

from __future__ import annotations

import pytest

from channels.sandbox.smtp import SmtpFake
from tests.conftest import ON_POSTGRESQL


def service_env(smtp: SmtpFake, *, rate: int) -> dict[str, str]:
    """A `tocsin serve` or `tocsin worker` sending its e-mail to ``smtp``, quietly."""
    return {
        "TOCSIN_SECRET_KEY": "chaos-test",
        "TOCSIN_JSON_LOGS": "false",
        "TOCSIN_LOG_LEVEL": "WARNING",
        "TOCSIN_CHANNELS__SMTP__HOST": "127.0.0.1",
        "TOCSIN_CHANNELS__SMTP__PORT": str(smtp.port),
        "TOCSIN_CHANNELS__SMTP__SECURITY": "none",
        "TOCSIN_CHANNELS__SMTP__RATE_PER_SECOND": str(rate),
    }


NEEDS_POSTGRES = pytest.mark.skipif(not ON_POSTGRESQL, reason="the PostgreSQL half of the suite")
