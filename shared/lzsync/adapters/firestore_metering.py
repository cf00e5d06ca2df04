"""Firestore operations counted at the wire, as Firestore bills them.

One gRPC interceptor on the client's channel sees every request any layer makes, so no call
site can forget to count: a ``Commit``/``BatchWrite`` bills one write per document written and
one delete per document deleted; ``BatchGetDocuments`` one read per document asked for (found
or not); ``RunQuery`` one read per document returned and at least one per query;
``RunAggregationQuery`` one read per 1,000 index entries counted, at least one ("Firestore
pricing": reads, writes and deletes; index entry reads). Bytes written follow "Storage size
calculations": strings are UTF-8 bytes + 1, numbers and timestamps 8, a document is its name +
fields + 32. Listeners (the Portal's, not lzsync's) are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any, Final

import grpc  # type: ignore[import-untyped]
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore.transports import grpc as firestore_grpc

from lzsync import metrics

_SERVICE: Final = "/google.firestore.v1.Firestore/"
_AGGREGATION_ENTRIES_PER_READ: Final = 1000
_DOCUMENT_OVERHEAD_BYTES: Final = 32
_NAME_OVERHEAD_BYTES: Final = 16


def string_size(text: str) -> int:
    return len(text.encode()) + 1


def name_size(document_path: str) -> int:
    """Size of a document name: each collection and document id of the path + 16."""
    relative = document_path.split("/documents/", 1)[-1]
    return sum(string_size(part) for part in relative.split("/")) + _NAME_OVERHEAD_BYTES


def value_size(value: Any) -> int:
    """Size of one ``google.firestore.v1.Value`` (raw protobuf) by Firestore's rules."""
    kind = value.WhichOneof("value_type")
    if kind == "string_value":
        return string_size(value.string_value)
    if kind == "bytes_value":
        return len(value.bytes_value)
    if kind in ("boolean_value", "null_value"):
        return 1
    if kind == "map_value":
        return fields_size(value.map_value.fields)
    if kind == "array_value":
        return sum(value_size(item) for item in value.array_value.values)
    if kind == "reference_value":
        return name_size(value.reference_value)
    if kind == "geo_point_value":
        return 16
    return 8  # integer, double, timestamp


def fields_size(fields: Any) -> int:
    return sum(string_size(key) + value_size(item) for key, item in fields.items())


def document_size(name: str, fields: Any) -> int:
    """Stored size of a document: name + fields + 32 ("Storage size calculations")."""
    return name_size(name) + fields_size(fields) + _DOCUMENT_OVERHEAD_BYTES


def _count_writes(request: Any) -> None:
    writes = deletes = written_bytes = 0
    for write in type(request).pb(request).writes:
        if write.WhichOneof("operation") == "delete":
            deletes += 1
            continue
        writes += 1
        if write.HasField("update"):
            written_bytes += document_size(write.update.name, write.update.fields)
    if writes:
        metrics.count(metrics.FIRESTORE_WRITES, writes)
        metrics.count(metrics.FIRESTORE_BYTES_WRITTEN, written_bytes)
    if deletes:
        metrics.count(metrics.FIRESTORE_DELETES, deletes)


class _CountedStream:
    """A server stream that counts what it yields and otherwise behaves as the gRPC call."""

    def __init__(self, call: Any, on_item: Callable[[Any], int], minimum: int) -> None:
        self._call = call
        self._on_item = on_item
        self._minimum = minimum
        self._reads = 0
        self._done = False

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._call)
        except StopIteration:
            self._finish()
            raise
        reads = self._on_item(item)
        if reads:
            self._reads += reads
            metrics.count(metrics.FIRESTORE_READS, reads)
        return item

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            if self._reads < self._minimum:
                metrics.count(metrics.FIRESTORE_READS, self._minimum - self._reads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


def _query_reads(response: Any) -> int:
    return 1 if "document" in response else 0


def _aggregation_reads(response: Any) -> int:
    if "result" not in response:
        return 0
    entries = 0
    for value in type(response).pb(response).result.aggregate_fields.values():
        if value.WhichOneof("value_type") == "integer_value":
            entries += value.integer_value
    return max(1, math.ceil(entries / _AGGREGATION_ENTRIES_PER_READ))


class _Meter(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        method = str(details.method).removeprefix(_SERVICE)
        if method in ("Commit", "BatchWrite"):
            _count_writes(request)
        elif method == "GetDocument":
            metrics.count(metrics.FIRESTORE_READS)
        return continuation(details, request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        method = str(details.method).removeprefix(_SERVICE)
        if method == "BatchGetDocuments":
            metrics.count(metrics.FIRESTORE_READS, len(request.documents))
            return continuation(details, request)
        if method == "RunQuery":
            return _CountedStream(continuation(details, request), _query_reads, 1)
        if method == "RunAggregationQuery":
            return _CountedStream(continuation(details, request), _aggregation_reads, 0)
        return continuation(details, request)


class _MeteredTransport(firestore_grpc.FirestoreGrpcTransport):
    def __init__(self, *, host: str, channel: grpc.Channel, **kwargs: Any) -> None:
        super().__init__(host=host, channel=grpc.intercept_channel(channel, _Meter()), **kwargs)


class MeteredClient(firestore.Client):
    """A Firestore client whose every request is counted in :mod:`lzsync.metrics`."""

    @property
    def _firestore_api(self) -> Any:
        from google.cloud.firestore_v1.services.firestore import client as gapic

        return self._firestore_api_helper(_MeteredTransport, gapic.FirestoreClient, gapic)


def python_value_size(value: Any) -> int:
    """Size of a value as the Python client returns it, by the same rules as :func:`value_size`."""
    if isinstance(value, str):
        return string_size(value)
    if isinstance(value, bytes):
        return len(value)
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, dict):
        return sum(string_size(str(key)) + python_value_size(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return sum(python_value_size(item) for item in value)
    if isinstance(value, firestore.GeoPoint):
        return 16
    if isinstance(value, firestore.DocumentReference):
        return name_size(value.path)
    return 8  # int, float, datetime


def stored_document_size(path: str, data: dict[str, Any]) -> int:
    """Stored size of a fetched document (to measure what a run left behind)."""
    return name_size(path) + python_value_size(data) + _DOCUMENT_OVERHEAD_BYTES
