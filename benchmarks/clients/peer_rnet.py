"""rnet: one ``rnet.Client``, ``await client.get(url)`` then ``await r.bytes()``."""

from pathlib import Path
from typing import Any

from _common import BaseClient, main, timed_import

rnet = timed_import("rnet")


class Client(BaseClient):
    dist = "rnet"
    style = "Client.get + bytes()"

    async def __aenter__(self) -> "Client":
        self.client = rnet.Client(**({"verify": Path(self.ca)} if self.ca else {}))
        return self

    async def get(self, url: str) -> Any:
        r = await self.client.get(url)
        return r, await r.bytes()

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return int(resp.status), len(body)


if __name__ == "__main__":
    main(Client)
