"""A two-process ``LocalCluster`` for the Dask tests, shared by the package and closed after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("distributed", reason="needs the dask extra: pip install -e '.[dask]'")

from distributed import Client, LocalCluster


@pytest.fixture(scope="package")
def dask_client() -> Iterator[Client]:
    """2 worker processes of 1 thread each: the smallest cluster where work moves between processes."""
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
        silence_logs=40,
    )
    with cluster, Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        yield client
