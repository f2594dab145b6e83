"""What one DynamoDB request costs on the embedded AWS, and what the emulator patches save.

Method: template.yaml's CustomersTable holding 2,000 items (200 customers of 10 items: a
profile, five orders, two timers in ``DueIndex`` buckets of 10, a journey state, a contact
item). Each operation is timed with ``time.perf_counter`` over 40 requests after 10 warm-up
requests; the figure is the median of 7 such rounds, in ms per request, through a boto3
client with the engine's ``RETRY_CONFIG``. Four ways to answer it:

* moto in-process (``moto.mock_aws``) with ``retention_tools.local.moto_patches`` applied;
* the same, inside ``moto_patches.unpatched()`` (moto as shipped; 7 rounds of 10 requests,
  because unpatched Queries and transactions cost O(table));
* moto's ``ThreadedMotoServer`` on 127.0.0.1 with the patches, as ``EmbeddedAws`` starts it;
* botocore alone: a ``before-send`` hook returns the response moto gave, canned, so the figure
  is the client-side floor (serialise, sign, parse) that no emulator can go below.

The scaling rows time a main-table Query of one 10-item partition and a ``DueIndex`` Query
of one 10-timer bucket in tables of 200, 2,000 and 20,000 items, as shipped and patched
(in-process, 7 rounds of 5 requests).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from bench.common import Row
from retention.store.dynamo import RETRY_CONFIG
from retention_tools.local import moto_patches
from retention_tools.local import template as cfn

TABLE = "bench-emulator"
REGION = "eu-west-1"
ROUNDS, REQUESTS, WARM_UP = 7, 40, 10
SORT_KEYS = ["PROFILE", *(f"ORDER#2026-0{n}" for n in range(1, 6)), "TIMER#inactivity", "TIMER#step", "JOURNEY#winback"]
SORT_KEYS.append("CONTACT")
BUCKETS = 40  # 2 timers x 200 customers / 40 buckets = 10 timers a bucket, as in the sweep's Query
Request = Callable[[Any, int], Any]


def _customer_items(customer: int, buckets: int) -> list[dict[str, Any]]:
    pk = {"S": f"CUST#{customer:06d}"}
    items = []
    for n, sk in enumerate(SORT_KEYS):
        item = {"pk": pk, "sk": {"S": sk}, "version": {"N": "3"}, "email": {"S": f"c{customer}@example.com"}}
        item["summary"] = {"M": {"orders": {"N": "5"}, "spent": {"N": "123.45"}, "segment": {"S": "loyal"}}}
        if sk.startswith("TIMER#"):
            bucket = (customer * 2 + n) % buckets
            item["due_bucket"] = {"S": f"2026-06-01T{bucket // 8:02d}#{bucket % 8}"}
            item["due_at"] = {"S": f"2026-06-01T{bucket // 8:02d}:{customer % 60:02d}"}
        items.append(item)
    return items


def _fill(client: Any, customers: int) -> None:
    props = cfn.load_template()["Resources"]["CustomersTable"]["Properties"]
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
    )
    buckets = max(1, customers * 2 // 10)
    items = [item for customer in range(customers) for item in _customer_items(customer, buckets)]
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]})


def _key(customer: int, sk: str = "PROFILE") -> dict[str, Any]:
    return {"pk": {"S": f"CUST#{customer % 200:06d}"}, "sk": {"S": sk}}


def _bucket_query(n: int, buckets: int = BUCKETS) -> dict[str, Any]:
    """The sweep's Query: one bucket's timers due by now (every timer of the bucket is)."""
    bucket = n % buckets
    return {
        "TableName": TABLE,
        "IndexName": "DueIndex",
        "KeyConditionExpression": "due_bucket = :b AND due_at <= :now",
        "ExpressionAttributeValues": {
            ":b": {"S": f"2026-06-01T{bucket // 8:02d}#{bucket % 8}"},
            ":now": {"S": "2026-06-01T99"},
        },
    }


def _partition_query(n: int, customers: int = 200) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"CUST#{n % customers:06d}"}},
    }


def _counter_update(n: int) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Key": {"pk": {"S": f"COUNT#winback#{n % 8}"}, "sk": {"S": "2026-06-01#1#A"}},
        "UpdateExpression": "ADD sent :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }


OPERATIONS: dict[str, Request] = {
    "GetItem": lambda c, n: c.get_item(TableName=TABLE, Key=_key(n), ConsistentRead=True),
    "PutItem": lambda c, n: c.put_item(TableName=TABLE, Item=_customer_items(n % 200, BUCKETS)[0]),
    "Query (10-item partition)": lambda c, n: c.query(**_partition_query(n)),
    "Query DueIndex (10-timer bucket)": lambda c, n: c.query(**_bucket_query(n)),
    "TransactWriteItems (2 items)": lambda c, n: c.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _customer_items(n % 200, BUCKETS)[8]}},
            {"Update": _counter_update(n)},
        ]
    ),
    "UpdateItem": lambda c, n: c.update_item(**_counter_update(n)),
    "BatchGetItem (3 keys)": lambda c, n: c.batch_get_item(
        RequestItems={TABLE: {"Keys": [_key(n), _key(n + 1, "CONTACT"), _key(n + 2, "JOURNEY#winback")]}}
    ),
}


def _ms_per_request(client: Any, request: Request, requests: int = REQUESTS) -> float:
    for n in range(WARM_UP):
        request(client, n)
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for n in range(requests):
            request(client, n)
        rounds.append((time.perf_counter() - start) / requests * 1000)
    return statistics.median(rounds)


def _client(**kwargs: Any) -> Any:
    return boto3.client("dynamodb", region_name=REGION, config=RETRY_CONFIG, **kwargs)


@contextmanager
def _in_process() -> Iterator[Any]:
    from moto import mock_aws

    moto_patches.apply()
    with mock_aws():
        yield _client()


def _canned_responses(client: Any) -> dict[str, dict[str, Any]]:
    """The response moto gives each operation, kept for the botocore-only floor."""
    last: dict[str, dict[str, Any]] = {}

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        last["reply"] = response_dict

    client.meta.events.register("before-parse.dynamodb.*", keep)
    canned = {}
    for name, request in OPERATIONS.items():
        request(client, 0)
        canned[name] = last["reply"]
    client.meta.events.unregister("before-parse.dynamodb.*", keep)
    return canned


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _botocore_floor(canned: dict[str, dict[str, Any]]) -> dict[str, float]:
    """ms per request of botocore alone: ``before-send`` answers with the reply moto gave."""
    reply: dict[str, Any] = {}

    def send(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, reply["status_code"], reply["headers"], _Body(reply["body"]))

    never_sent = {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
    client = _client(endpoint_url="http://127.0.0.1:9", **never_sent)
    client.meta.events.register("before-send.dynamodb", send)
    figures = {}
    for name, request in OPERATIONS.items():
        reply.update(canned[name])
        figures[name] = _ms_per_request(client, request)
    return figures


def per_operation() -> list[Row]:
    patched, shipped = {}, {}
    with _in_process() as client:
        _fill(client, 200)
        canned = _canned_responses(client)
        for name, request in OPERATIONS.items():
            patched[name] = _ms_per_request(client, request)
            with moto_patches.unpatched():
                shipped[name] = _ms_per_request(client, request, requests=10)
    from retention_tools.local.embedded import EmbeddedAws

    server = {}
    with EmbeddedAws(stage="bench-emulator"):
        client = _client()
        _fill(client, 200)
        for name, request in OPERATIONS.items():
            server[name] = _ms_per_request(client, request)
    floor = _botocore_floor(canned)
    method = (
        f"median of {ROUNDS} rounds x {REQUESTS} requests, 2,000-item CustomersTable: moto in-process patched"
        " · moto as shipped (x 10 requests) · ThreadedMotoServer patched · botocore alone, canned reply"
    )
    return [
        Row(
            f"emulator ms/request, {name}: in-process · as shipped · server · botocore floor",
            f"{patched[name]:.2f} · {shipped[name]:.2f} · {server[name]:.2f} · {floor[name]:.2f}",
            method,
        )
        for name in OPERATIONS
    ]


def query_scaling(sizes: tuple[int, ...] = (200, 2_000, 20_000)) -> list[Row]:
    figures: dict[str, list[str]] = {"table": [], "index": []}
    for items in sizes:
        customers = items // len(SORT_KEYS)
        with _in_process() as client:
            _fill(client, customers)
            buckets = max(1, customers * 2 // 10)
            for label, request in (
                ("table", lambda c, n, k=customers: c.query(**_partition_query(n, k))),
                ("index", lambda c, n, b=buckets: c.query(**_bucket_query(n, b))),
            ):
                with moto_patches.unpatched():
                    before = _ms_per_request(client, request, requests=5)
                after = _ms_per_request(client, request, requests=5)
                figures[label].append(f"{before:.1f} → {after:.1f}")
    method = f"moto in-process, as shipped → patched, median of {ROUNDS} rounds x 5 requests"
    sizes_label = " / ".join(f"{s:,}" for s in sizes)
    return [
        Row(f"main-table Query (10 items) ms at {sizes_label} items", " · ".join(figures["table"]), method),
        Row(f"DueIndex Query (10 timers) ms at {sizes_label} items", " · ".join(figures["index"]), method),
    ]


def run() -> list[Row]:
    return per_operation() + query_scaling()
