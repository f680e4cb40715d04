"""pyqwest: one ``pyqwest.Client`` (default transport), ``await client.get(url)`` -> FullResponse."""

from typing import Any

from _common import BaseClient, main, timed_import

pyqwest = timed_import("pyqwest")


class Client(BaseClient):
    dist = "pyqwest"
    style = "Client.get (FullResponse, body read)"

    async def __aenter__(self) -> "Client":
        # https workloads: a transport trusting the private CA (the default one has no such option)
        transport = pyqwest.HTTPTransport(tls_ca_cert=self.ca_pem()) if self.ca else None
        self.client = pyqwest.Client(transport)
        return self

    async def get(self, url: str) -> Any:
        return await self.client.get(url)

    def check(self, r: Any) -> tuple[int, int]:
        return r.status, len(r.content)


if __name__ == "__main__":
    main(Client)
