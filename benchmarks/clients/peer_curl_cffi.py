"""curl_cffi: ``AsyncSession(max_clients=64)`` (libcurl multi handle on the event loop)."""

from typing import Any

from _common import BaseClient, main, timed_import

curl_cffi = timed_import("curl_cffi")


class Client(BaseClient):
    dist = "curl_cffi"
    style = "AsyncSession.get (max_clients=64)"

    async def __aenter__(self) -> "Client":
        self.session = curl_cffi.AsyncSession(max_clients=64, **({"verify": self.ca} if self.ca else {}))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def get(self, url: str) -> Any:
        return await self.session.get(url)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status_code, len(r.content)


if __name__ == "__main__":
    main(Client)
