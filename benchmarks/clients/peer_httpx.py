"""httpx: one AsyncClient (pool of 64 connections), ``await client.get(url)``."""

from typing import Any

from _common import BaseClient, main, timed_import

httpx = timed_import("httpx")


def _has_h2() -> bool:
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


class Client(BaseClient):
    dist = "httpx"
    style = "AsyncClient.get (max_connections=64)"

    async def __aenter__(self) -> "Client":
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        # https workloads: verify against the private CA; HTTP/2 where the h2 package is installed
        tls = {"verify": self.ssl_context(), "http2": _has_h2()} if self.ca else {}
        self.client = httpx.AsyncClient(limits=limits, timeout=300.0, **tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, url: str) -> Any:
        return await self.client.get(url)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status_code, len(r.content)


if __name__ == "__main__":
    main(Client)
