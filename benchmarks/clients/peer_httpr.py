"""httpr: ``httpr.AsyncClient`` (its async API runs the blocking client on its own 64-thread pool)."""

from typing import Any

from _common import BaseClient, main, timed_import

httpr = timed_import("httpr")


class Client(BaseClient):
    dist = "httpr"
    style = "AsyncClient.get (library's own thread pool, max_concurrency=64)"

    async def __aenter__(self) -> "Client":
        self.client = httpr.AsyncClient(max_concurrency=64, **({"ca_cert_file": self.ca} if self.ca else {}))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(self, url: str) -> Any:
        return await self.client.get(url)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status_code, len(r.content)


if __name__ == "__main__":
    main(Client)
