"""ferrofetch: aiohttp-style ``ClientSession``: ``async with session.get(url) as r: await r.read()``."""

from typing import Any

from _common import BaseClient, Unavailable, main, timed_import

try:
    ferrofetch = timed_import("ferrofetch")
except ImportError as e:
    ferrofetch = None
    _err = str(e)


class Client(BaseClient):
    dist = "ferrofetch"
    style = "ClientSession.get + read, aiohttp style, under gather + semaphore"

    def __init__(self) -> None:
        if ferrofetch is None:
            raise Unavailable(f"import ferrofetch failed: {_err}")
        if not hasattr(ferrofetch, "ClientSession"):
            raise Unavailable("ferrofetch.ClientSession is not available in this build")

    async def __aenter__(self) -> "Client":
        # https workloads: the private CA through an ssl.SSLContext, as aiohttp code passes it
        connector = ferrofetch.TCPConnector(ssl=self.ssl_context()) if self.ca else None
        self.session = ferrofetch.ClientSession(connector=connector)
        await self.session.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.__aexit__(None, None, None)

    async def get(self, url: str) -> Any:
        async with self.session.get(url) as r:
            body = await r.read()
        return r, body

    def info(self) -> dict[str, Any]:
        return dict(ferrofetch.runtime_info())

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return resp.status, len(body)


if __name__ == "__main__":
    main(Client)
