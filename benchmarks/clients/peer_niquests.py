"""niquests: ``AsyncSession(pool_maxsize=64)``, ``await session.get(url)``."""

from typing import Any

from _common import BaseClient, main, timed_import

niquests = timed_import("niquests")


class Client(BaseClient):
    dist = "niquests"
    style = "AsyncSession.get (pool_maxsize=64)"

    async def __aenter__(self) -> "Client":
        self.session = niquests.AsyncSession(pool_connections=4, pool_maxsize=64)
        # https workloads: per request, because a session's own verify=<path> did not take effect
        # (niquests 3.21.2: certificate verify failed, while the same path per request verifies)
        self.options = {"verify": self.ca} if self.ca else {}
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def get(self, url: str) -> Any:
        return await self.session.get(url, **self.options)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status_code, len(r.content)


if __name__ == "__main__":
    main(Client)
