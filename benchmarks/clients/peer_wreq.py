"""wreq: one ``wreq.Client``, ``await client.get(url)`` then ``await r.bytes()`` (a memoryview, no copy)."""

from pathlib import Path
from typing import Any

from _common import BaseClient, main, timed_import

wreq = timed_import("wreq")


class Client(BaseClient):
    dist = "wreq"
    style = "Client.get + bytes()"

    async def __aenter__(self) -> "Client":
        self.client = wreq.Client(**({"tls_verify": Path(self.ca)} if self.ca else {}))
        return self

    async def get(self, url: str) -> Any:
        r = await self.client.get(url)
        return r, await r.bytes()

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return resp.status.as_int(), len(body)


if __name__ == "__main__":
    main(Client)
