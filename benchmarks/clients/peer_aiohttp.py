"""aiohttp: one ClientSession, ``async with session.get(url) as r: await r.read()``."""

from typing import Any

from _common import BaseClient, main, timed_import

aiohttp = timed_import("aiohttp")


class Client(BaseClient):
    dist = "aiohttp"
    style = "ClientSession.get + read (default TCPConnector, limit=100)"

    async def __aenter__(self) -> "Client":
        connector = aiohttp.TCPConnector(ssl=self.ssl_context()) if self.ca else None
        self.session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def get(self, url: str) -> Any:
        async with self.session.get(url) as r:
            body = await r.read()
        return r, body

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return resp.status, len(body)


if __name__ == "__main__":
    main(Client)
