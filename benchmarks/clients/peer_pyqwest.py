"""pyqwest: one ``pyqwest.Client`` (default transport), ``await client.get(url)`` -> FullResponse."""

from typing import Any

from _common import BaseClient, main, timed_import

pyqwest = timed_import("pyqwest")


class Client(BaseClient):
    dist = "pyqwest"
    style = "Client.get (FullResponse, body read)"

    async def __aenter__(self) -> "Client":
        self.client = pyqwest.Client()
        return self

    async def get(self, url: str) -> Any:
        return await self.client.get(url)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status, len(r.content)


if __name__ == "__main__":
    main(Client)
