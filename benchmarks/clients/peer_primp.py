"""primp: its native async client, ``primp.AsyncClient().get(url)`` (body read with the response)."""

from typing import Any

from _common import BaseClient, main, timed_import

primp = timed_import("primp")


class Client(BaseClient):
    dist = "primp"
    style = "AsyncClient.get (.content)"

    async def __aenter__(self) -> "Client":
        self.client = primp.AsyncClient(**({"ca_cert_file": self.ca} if self.ca else {}))
        return self

    async def get(self, url: str) -> Any:
        r = await self.client.get(url)
        return r, r.content

    def check(self, r: Any) -> tuple[int, int]:
        resp, body = r
        return resp.status_code, len(body)


if __name__ == "__main__":
    main(Client)
