"""Who may scrape /metrics when no token is set."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from trt.core.services import Services
from trt.server.scrape import MetricsEndpoint


class PeerTransport:
    """The one thing aiohttp asks a transport here: who is on the other end."""

    def __init__(self, host: str) -> None:
        self.host = host

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.host, 40000) if name == "peername" else default


class TestWithoutAToken:
    @pytest.mark.parametrize("host", ["203.0.113.5", "10.0.0.7", "2001:db8::1"])
    async def test_a_scraper_on_another_machine_is_refused(self, host: str) -> None:
        """No METRICS_TOKEN: a client that is not loopback gets 403 and no figures."""
        endpoint = MetricsEndpoint(cast(Services, None), token=None)  # refused before use
        request = make_mocked_request("GET", "/metrics", transport=PeerTransport(host))
        with pytest.raises(web.HTTPForbidden):
            await endpoint.handle(request)
