"""ferrofetch: ``await ferrofetch.fetch(url)`` per request, under ``asyncio.gather`` + a semaphore."""

from typing import Any

from _common import BaseClient, Unavailable, main, timed_import

try:
    ferrofetch = timed_import("ferrofetch")
except ImportError as e:
    ferrofetch = None
    _err = str(e)


class Client(BaseClient):
    dist = "ferrofetch"
    style = "fetch(url) per request under gather + semaphore"

    def __init__(self) -> None:
        if ferrofetch is None:
            raise Unavailable(f"import ferrofetch failed: {_err}")
        self.fetch = ferrofetch.fetch

    async def __aenter__(self) -> "Client":
        # https workloads: the private CA, passed per call (the shared pool is keyed by it)
        self.options = {"ca_bundle": self.ca} if self.ca else {}
        return self

    async def get(self, url: str) -> Any:
        return await self.fetch(url, **self.options)

    def info(self) -> dict[str, Any]:
        return dict(ferrofetch.runtime_info())

    def check(self, r: Any) -> tuple[int, int]:
        return r.status, len(r.content)


if __name__ == "__main__":
    main(Client)
