"""ferrofetch: the whole batch in one ``await ferrofetch.fetch_all(urls, concurrency=64)``."""

from typing import Any

from _common import BaseClient, Unavailable, main, timed_import

try:
    ferrofetch = timed_import("ferrofetch")
except ImportError as e:
    ferrofetch = None
    _err = str(e)


class Client(BaseClient):
    dist = "ferrofetch"
    style = "fetch_all(urls, concurrency=64): one call for the batch"

    def __init__(self) -> None:
        if ferrofetch is None:
            raise Unavailable(f"import ferrofetch failed: {_err}")

    async def __aenter__(self) -> "Client":
        # https workloads: the private CA, passed per call (the shared pool is keyed by it)
        self.options = {"ca_bundle": self.ca} if self.ca else {}
        return self

    async def get(self, url: str) -> Any:
        # sequential (latency) workload: still through fetch_all, a batch of one
        return (await ferrofetch.fetch_all([url], **self.options))[0]

    async def batch(self, urls: list[str], limit: int) -> list[Any]:
        return await ferrofetch.fetch_all(urls, concurrency=limit, **self.options)

    def info(self) -> dict[str, Any]:
        return dict(ferrofetch.runtime_info())

    def check(self, r: Any) -> tuple[int, int]:
        return r.status, len(r.content)


if __name__ == "__main__":
    main(Client)
