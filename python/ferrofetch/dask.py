"""``fetch_all`` on a Dask cluster: the same batch, split into partitions, one per task.

Needs the ``dask`` extra (``pip install 'ferrofetch[dask]'``); ``import ferrofetch`` alone never
imports Dask.

>>> import ferrofetch.dask as ffd  # doctest: +SKIP
>>> bag = ffd.fetch_bag(urls, partition_size=1000, concurrency=64, timeout=30)  # doctest: +SKIP
>>> bag.filter(lambda record: record["status"] == 200).count().compute()  # doctest: +SKIP

How it runs, and why it is safe on a cluster:

- Each partition is one task: ``fetch_all(..., return_exceptions=True)`` over that partition's
  URLs, run on the worker process's own ferrofetch runtime and connection pool. Both are created
  on the first task a process runs (after ``fork`` or in a ``spawn``-ed process alike) and
  reused by the next; the task graph carries only URLs and plain option values, never a pool.
- A task is a pure function of its partition: the same URLs and options give the same requests.
  When a worker dies mid-job, Dask reruns the tasks whose results died with it (Dask's
  ``distributed.scheduler.allowed-failures``, default 3, bounds the reruns per task), and the
  output still has each URL exactly once. A rerun partition sends its requests again: use it for
  requests that are safe to repeat (GET, HEAD, or idempotent by design).
- ``concurrency`` (default 100) bounds the requests in flight in one task; ``limit`` and
  ``limit_per_host`` bound them in one worker process's pool (shared by its threads).
  Neither spans the cluster: :func:`partition_by_host` (``by_host=True``) puts all of a host's URLs
  in one partition, so at any moment one task, on one worker, talks to that host.

Each result is a record (a ``dict``; a row of :func:`fetch_dataframe`), see :data:`SCHEMA`:
``index`` (the URL's position in ``urls``), ``url`` (as given), ``status`` (``None`` on error),
``headers`` (``[(name, value), ...]`` as received), ``body`` (``bytes``; ``None`` with
``keep_body=False`` or on error), ``body_length`` (bytes, after decoding), ``elapsed`` (seconds,
``None`` on error), ``error`` (the exception class name, e.g. ``"ClientConnectorError"``) and
``error_message``.
"""

from __future__ import annotations

import asyncio
import heapq
import pickle
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Optional, TypedDict, Union
from urllib.parse import urlsplit

try:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"ferrofetch.dask needs Dask, pandas and pyarrow ({error}): pip install 'ferrofetch[dask]'"
    ) from error

from ._core import Client, Response

__all__ = [
    "CLIENT_OPTIONS",
    "SCHEMA",
    "FetchRecord",
    "endpoint",
    "fetch_bag",
    "fetch_dataframe",
    "partition_by_host",
    "to_parquet",
]

#: Options that configure a worker's connection pool (``ferrofetch.Client``); the others are
#: per-request options of ``fetch_all``.
CLIENT_OPTIONS = frozenset(
    {
        "verify",
        "ca_bundle",
        "client_cert",
        "client_key",
        "http2",
        "connect_timeout",
        "read_timeout",
        "pool_idle_timeout",
        "limit",
        "limit_per_host",
        "force_close",
        "proxy",
        "trust_env",
        "user_agent",
    }
)

#: The Arrow schema of the records, as written by :func:`to_parquet`. ``headers`` is a map
#: that keeps order and repeated names, and reads back as ``[(name, value), ...]``.
SCHEMA = pa.schema(
    [
        pa.field("index", pa.int64(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("status", pa.int32()),
        pa.field("headers", pa.map_(pa.string(), pa.string())),
        pa.field("body", pa.binary()),
        pa.field("body_length", pa.int64()),
        pa.field("elapsed", pa.float64()),
        pa.field("error", pa.string()),
        pa.field("error_message", pa.string()),
    ]
)

_DEFAULT_PARTITION_SIZE = 1000
# URLs per fetch_all call inside a task (at least 32 times `concurrency`, so the tail of each call,
# when fewer than `concurrency` requests are left in flight, stays a small share of it).
_MIN_BATCH = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchRecord(TypedDict):
    """One URL's outcome (see the module docstring for each field)."""

    index: int
    url: str
    status: Optional[int]
    headers: list[tuple[str, str]]
    body: Optional[bytes]
    body_length: Optional[int]
    elapsed: Optional[float]
    error: Optional[str]
    error_message: Optional[str]


IndexedURL = tuple[int, str]

# One pool per worker process and set of pool options, made by the first task that needs it.
# A forked child may inherit these: each Client rebuilds its pool after a fork by itself.
_clients: dict[tuple[tuple[str, Any], ...], Client] = {}


def partition_by_host(
    urls: Iterable[str], npartitions: int, *, key: Optional[Callable[[str], Hashable]] = None
) -> list[list[IndexedURL]]:
    """Split ``urls`` into at most ``npartitions`` lists of ``(index, url)``, each host in one.

    A host is what ``key(url)`` returns; by default the URL's endpoint ``(host name in lower
    case, port)``: ``limit_per_host`` counts by scheme, host and port (as aiohttp's
    ``TCPConnector`` does), so each of its counters falls within one group. Pass e.g.
    ``key=lambda url: urlsplit(url).hostname`` to group every port of a host name together.
    A URL that does not parse groups under ``("", None)``.

    Hosts are placed largest first into the partition with the fewest URLs so far, so sizes
    stay even unless one host has more than a partition's share. Within a partition the URLs
    keep their input order. Raises ``ValueError`` if ``npartitions < 1``.

    >>> partition_by_host(["http://a/1", "http://b/1", "http://a/2"], 2)
    [[(0, 'http://a/1'), (2, 'http://a/2')], [(1, 'http://b/1')]]
    """
    if npartitions < 1:
        raise ValueError(f"npartitions must be at least 1, not {npartitions}")
    host_of = key or endpoint
    by_host: dict[Hashable, list[IndexedURL]] = {}
    for index, url in enumerate(urls):
        by_host.setdefault(host_of(url), []).append((index, url))
    groups = sorted(by_host.values(), key=len, reverse=True)
    heap = [(0, slot) for slot in range(min(npartitions, len(groups)))]
    partitions: list[list[IndexedURL]] = [[] for _ in heap]
    for group in groups:
        size, slot = heapq.heappop(heap)
        partitions[slot].extend(group)
        heapq.heappush(heap, (size + len(group), slot))
    for partition in partitions:
        partition.sort()
    return partitions


def endpoint(url: str) -> tuple[str, Optional[int]]:
    """``(host, port)`` of ``url``: the host name in lower case and the port, or the scheme's
    default (80, 443); ``("", None)`` if the URL does not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return ("", None)
    return (parts.hostname or "", port)


def fetch_bag(
    urls: Iterable[str],
    *,
    partition_size: Optional[int] = None,
    npartitions: Optional[int] = None,
    by_host: Union[bool, Callable[[str], Hashable]] = False,
    keep_body: bool = True,
    **options: Any,
) -> db.Bag:
    """A lazy ``dask.bag.Bag`` of one :class:`FetchRecord` per URL: in input order, or by host
    with ``by_host`` (``index`` is always the input position).

    ``partition_size`` (URLs per task, default 1000) or ``npartitions`` sets the split; with
    ``by_host=True`` the split is :func:`partition_by_host`'s, so a host's per-worker limits
    hold for the whole cluster (``by_host=key`` passes a ``key`` function on to it).
    ``keep_body=False`` records ``body_length`` only. Every other keyword is an option of
    ``ferrofetch.fetch_all`` (``concurrency``, ``timeout``, ``headers``, ...) or of
    ``ferrofetch.Client`` (the names in :data:`CLIENT_OPTIONS`, e.g.
    ``limit_per_host``), applied in each worker process. Failures are recorded, never raised
    (``return_exceptions`` is implied). Raises ``TypeError`` if an option does not pickle or is
    ``return_exceptions``; an unknown option raises ``TypeError`` when the bag is computed.
    """
    if "return_exceptions" in options:
        raise TypeError("fetch_bag records every failure; return_exceptions is not an option here")
    try:
        pickle.dumps(options)
    except Exception as error:
        raise TypeError(f"the options must pickle to reach the workers: {error}") from error
    indexed = list(enumerate(urls))
    if not indexed:
        empty: db.Bag = db.from_sequence([], npartitions=1)
        return empty
    if npartitions is None:
        size = partition_size or _DEFAULT_PARTITION_SIZE
        npartitions = -(-len(indexed) // size)
    npartitions = max(1, min(npartitions, len(indexed)))
    if by_host:
        key = None if by_host is True else by_host
        partitions = partition_by_host((url for _, url in indexed), npartitions, key=key)
    else:
        step = -(-len(indexed) // npartitions)
        partitions = [indexed[start : start + step] for start in range(0, len(indexed), step)]
    bag = db.from_sequence(partitions, npartitions=len(partitions))
    fetched: db.Bag = bag.map_partitions(_fetch_partitions, keep_body=keep_body, options=options)
    return fetched


def fetch_dataframe(urls: Iterable[str], **kwargs: Any) -> dd.DataFrame:
    """Like :func:`fetch_bag` (same keywords), as a ``dask.dataframe.DataFrame`` of the records.

    Columns and dtypes: ``index`` int64, ``url`` str, ``status`` Int64 (nullable),
    ``headers`` object, ``body`` object (``bytes`` or ``None``), ``body_length`` Int64,
    ``elapsed`` float64, ``error`` and ``error_message`` str (missing when there is none).
    """
    frame: dd.DataFrame = fetch_bag(urls, **kwargs).to_dataframe(meta=_meta())
    return frame


def to_parquet(records: Union[db.Bag, dd.DataFrame], path: str, **kwargs: Any) -> Any:
    """Write records from :func:`fetch_bag` or :func:`fetch_dataframe` as Parquet, with :data:`SCHEMA`.

    Dask's own ``DataFrame.to_parquet`` writes each partition as it is computed, so results
    larger than memory stream to disk. ``kwargs`` go to it (``compute=False`` returns the
    delayed write; ``compression``, ``storage_options``, ...). Read back with
    ``dask.dataframe.read_parquet(path)`` or ``pyarrow.parquet.read_table(path)``.
    """
    frame = records.to_dataframe(meta=_meta()) if isinstance(records, db.Bag) else records
    return frame.to_parquet(path, schema=SCHEMA, write_index=False, **kwargs)


def _meta() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "index": pd.Series(dtype="int64"),
            "url": pd.Series(dtype="str"),
            "status": pd.Series(dtype="Int64"),
            "headers": pd.Series(dtype="object"),
            "body": pd.Series(dtype="object"),
            "body_length": pd.Series(dtype="Int64"),
            "elapsed": pd.Series(dtype="float64"),
            "error": pd.Series(dtype="str"),
            "error_message": pd.Series(dtype="str"),
        }
    )


def _client(options: dict[str, Any]) -> Client:
    key = tuple(sorted(options.items()))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = Client(**options)
    return client


def _fetch_partitions(
    partitions: Sequence[Sequence[IndexedURL]], *, keep_body: bool, options: dict[str, Any]
) -> list[FetchRecord]:
    client_options = {name: value for name, value in options.items() if name in CLIENT_OPTIONS}
    request_options = {name: value for name, value in options.items() if name not in CLIENT_OPTIONS}
    client = _client(client_options)
    batch = max(_MIN_BATCH, 32 * int(request_options.get("concurrency") or 100))
    pairs = [pair for partition in partitions for pair in partition]
    batches = [pairs[start : start + batch] for start in range(0, len(pairs), batch)]
    # Dask runs tasks in worker threads without an event loop; a loop per task costs
    # microseconds against its thousands of requests.
    return asyncio.run(_fetch_batches(client, batches, keep_body, request_options))


async def _fetch_batches(
    client: Client, batches: list[list[IndexedURL]], keep_body: bool, options: dict[str, Any]
) -> list[FetchRecord]:
    # One fetch_all per batch, the next one started before this one's records are built: the
    # runtime fetches while Python builds (measured: records cost a quarter of a URL's CPU, and
    # built after the whole partition they left the network idle for that long).
    records: list[FetchRecord] = []
    ahead = None
    for number, batch in enumerate(batches):
        current = ahead or client.fetch_all([url for _, url in batch], return_exceptions=True, **options)
        outcomes = await current
        if number + 1 < len(batches):
            following = [url for _, url in batches[number + 1]]
            ahead = client.fetch_all(following, return_exceptions=True, **options)
        records.extend(
            _record(index, url, outcome, keep_body) for (index, url), outcome in zip(batch, outcomes)
        )
    return records


def _header_pairs(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[str, str]]:
    # What `Response.headers` holds (UTF-8 where it decodes, else Latin-1), built straight from
    # the raw pairs: half the cost of going through the multidict, per response.
    try:
        return [(name.decode(), value.decode()) for name, value in raw]
    except UnicodeDecodeError:
        return [(name.decode("latin-1"), _text(value)) for name, value in raw]


def _text(value: bytes) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _record(index: int, url: str, outcome: Any, keep_body: bool) -> FetchRecord:
    if isinstance(outcome, Response):
        content = outcome.content
        return {
            "index": index,
            "url": url,
            "status": outcome.status,
            "headers": _header_pairs(outcome.raw_headers),
            "body": content if keep_body else None,
            "body_length": len(content),
            "elapsed": outcome.elapsed,
            "error": None,
            "error_message": None,
        }
    return {
        "index": index,
        "url": url,
        "status": None,
        "headers": [],
        "body": None,
        "body_length": None,
        "elapsed": None,
        "error": type(outcome).__name__,
        "error_message": str(outcome),
    }
