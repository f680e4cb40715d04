"""ry (reqwest): one ``ry.Client``, ``await client.get(url)`` then ``await r.bytes()``."""

from typing import Any

from _common import BaseClient, main, timed_import

ry = timed_import("ry")


class Client(BaseClient):
    dist = "ry"
    style = "Client.get + bytes()"

    async def __aenter__(self) -> "Client":
        # https workloads: the private CA added to the roots reqwest trusts
        roots = {"tls_certs_merge": ry.Certificate.from_pem_bundle(self.ca_pem())} if self.ca else {}
        self.client = ry.Client(**roots)
        return self

    async def get(self, url: str) -> Any:
        r = await self.client.get(url)
        return r, await r.bytes()

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return int(resp.status), len(body)


if __name__ == "__main__":
    main(Client)
