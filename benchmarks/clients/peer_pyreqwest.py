"""pyreqwest: ``ClientBuilder().build()``; ``await client.get(url).build().send()``, ``await r.bytes()``."""

from typing import Any

from _common import BaseClient, main, timed_import

pyreqwest_client = timed_import("pyreqwest.client")


class Client(BaseClient):
    dist = "pyreqwest"
    style = "Client.get(url).build().send() + bytes()"

    async def __aenter__(self) -> "Client":
        builder = pyreqwest_client.ClientBuilder()
        if self.ca:
            builder = builder.add_root_certificate_pem(self.ca_pem())
        self.client = builder.build()
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)

    async def get(self, url: str) -> Any:
        r = await self.client.get(url).build().send()
        return r, await r.bytes()

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return int(resp.status), len(body)


if __name__ == "__main__":
    main(Client)
