"""The emulator patches change what moto costs, never what it answers.

Every example runs one random sequence of writes and Queries twice in the same in-process
moto (``mock_aws``, no sockets): patched, in one region, then inside
``moto_patches.unpatched()`` (moto as shipped) in another. Each request's status, raw
response body and parsed boto3 response must be identical, errors included
(ConditionalCheckFailedException, TransactionCanceledException with its CancellationReasons,
validation errors), and so must every page and ``LastEvaluatedKey`` of a paginated Query.
An index Query early in each script builds the index registry, so the writes after it test
that the registry follows every write path.

The table is template.yaml's CustomersTable (its sparse ``DueIndex``) plus two indexes the
template does not have, so other index shapes are covered too: a GSI without a range key on
a number (INCLUDE projection) and an LSI (KEYS_ONLY).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from retention_tools.local import moto_patches
from retention_tools.local import template as cfn

PATCHED, SHIPPED = "eu-west-1", "eu-central-1"
TABLE = "customers"
PARTITIONS = ["CUST#1", "CUST#2", "CUST#3", "MSG#1"]
SORT_KEYS = ["CONTACT", "JOURNEY#winback", "ORDER#1", "ORDER#2", "PROFILE", "TIMER#1", "TIMER#2"]
BUCKETS = ["2026-03-01T10#0", "2026-03-01T10#1", "2026-03-01T11#0"]
DUE_TIMES = ["2026-03-01T10:05", "2026-03-01T10:30", "2026-03-01T11:00"]  # few, so index keys tie


class _Long(str):
    """A long string that hypothesis and pytest print by its length, not its 350,000 characters."""

    def __repr__(self) -> str:
        return f"<{len(self)} characters>"


BIG_NOTE = 350_000  # characters: three such items exceed a Query's 1 MB page
ONE_REQUEST = Config(retries={"total_max_attempts": 1})
BOUNDED = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _table_definition() -> dict[str, Any]:
    props = cfn.load_template()["Resources"]["CustomersTable"]["Properties"]
    return {
        "TableName": TABLE,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": [*props["AttributeDefinitions"], {"AttributeName": "kind", "AttributeType": "N"}],
        "GlobalSecondaryIndexes": [
            *props["GlobalSecondaryIndexes"],
            {
                "IndexName": "ByKind",
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            },
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "ByDue",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "due_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    moto_patches.apply()
    with mock_aws():
        yield {region: _client(region) for region in (PATCHED, SHIPPED)}


_raw_responses: list[tuple[int, bytes]] = []


def _client(region: str) -> Any:
    client = boto3.client("dynamodb", region_name=region, config=ONE_REQUEST)
    client.meta.events.register("before-parse.dynamodb.*", _keep_raw_response)
    return client


def _keep_raw_response(response_dict: dict[str, Any], **_: Any) -> None:
    _raw_responses.append((response_dict["status_code"], response_dict["body"]))


# --------------------------------------------------------------------------- items


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": _s(pk), "sk": _s(sk)}


def _key_of(item_or_operation: dict[str, Any]) -> tuple[str, str]:
    key = item_or_operation.get("Key") or item_or_operation.get("Item") or item_or_operation
    return key["pk"]["S"], key["sk"]["S"]


# moto stores a list where DynamoDB would refuse it; the registry keeps such items in an overflow.
BUCKET_VALUES = [*(_s(bucket) for bucket in BUCKETS), {"L": [_s(BUCKETS[0])]}]
keys = st.builds(_key, st.sampled_from(PARTITIONS), st.sampled_from(SORT_KEYS))
values = st.recursive(
    st.one_of(
        st.text(max_size=3).map(_s),
        st.integers(-5, 5).map(_n),
        st.binary(max_size=3).map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.sets(st.text(min_size=1, max_size=2), min_size=1, max_size=2).map(lambda s: {"SS": sorted(s)}),
        st.sets(st.integers(0, 9), min_size=1, max_size=2).map(lambda s: {"NS": [str(n) for n in sorted(s)]}),
        st.sets(st.binary(min_size=1, max_size=2), min_size=1, max_size=2).map(lambda s: {"BS": sorted(s)}),
    ),
    lambda children: (
        st.lists(children, max_size=2).map(lambda items: {"L": items})
        | st.dictionaries(st.sampled_from("ab"), children, max_size=2).map(lambda m: {"M": m})
    ),
    max_leaves=4,
)
index_keys = st.sampled_from(["timer", "timer", "bucket only", "due only", "neither"]).flatmap(
    lambda shape: st.fixed_dictionaries(
        {
            **({"due_bucket": st.sampled_from(BUCKET_VALUES)} if shape in ("timer", "bucket only") else {}),
            **({"due_at": st.sampled_from(DUE_TIMES).map(_s)} if shape in ("timer", "due only") else {}),
        }
    )
)
other_attributes = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.integers(0, 2).map(_n),
        "v": st.integers(-3, 3).map(_n),
        "note": st.sampled_from([0, 5, 2_000, BIG_NOTE]).map(lambda size: _s(_Long("x" * size))),
        "meta": values,
    },
)
items = st.builds(lambda key, index, other: {**index, **other, **key}, keys, index_keys, other_attributes)


# --------------------------------------------------------------------------- writes


def _with(request: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {**request, **{name: value for name, value in optional.items() if value is not None}}


put_conditions = st.sampled_from([None, "attribute_not_exists(pk)", "attribute_exists(due_bucket)"])


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """An update that may add, change or remove each index attribute, and may count."""
    sets, removes, names_values = [], [], {}
    for name, choices in (("due_bucket", BUCKETS), ("due_at", DUE_TIMES)):
        action = draw(st.sampled_from(["keep", "set", "remove"]))
        if action == "set":
            sets.append(f"{name} = :{name}")
            names_values[f":{name}"] = _s(draw(st.sampled_from(choices)))
        elif action == "remove":
            removes.append(name)
    if draw(st.booleans()) or not (sets or removes):
        sets.append("v = if_not_exists(v, :zero) + :one")
        names_values.update({":zero": _n(0), ":one": _n(1)})
    clauses = [f"SET {', '.join(sets)}" if sets else "", f"REMOVE {', '.join(removes)}" if removes else ""]
    return _with(
        {"UpdateExpression": " ".join(clause for clause in clauses if clause)},
        ExpressionAttributeValues=names_values or None,
        ConditionExpression=draw(st.sampled_from([None, "attribute_exists(pk)", "attribute_not_exists(due_at)"])),
    )


transaction_operations = st.one_of(
    st.builds(
        lambda item, c: {"Put": _with({"TableName": TABLE, "Item": item}, ConditionExpression=c)}, items, put_conditions
    ),
    st.builds(lambda key, update: {"Update": {"TableName": TABLE, "Key": key, **update}}, keys, updates()),
    st.builds(lambda key: {"Delete": {"TableName": TABLE, "Key": key}}, keys),
    st.builds(
        lambda key, old: {
            "ConditionCheck": _with(
                {"TableName": TABLE, "Key": key, "ConditionExpression": "attribute_exists(pk)"},
                ReturnValuesOnConditionCheckFailure=old,
            )
        },
        keys,
        st.sampled_from([None, "ALL_OLD"]),
    ),
)
writes = st.one_of(
    st.builds(
        lambda item, c, r: ("put_item", _with({"Item": item}, ConditionExpression=c, ReturnValues=r)),
        items,
        put_conditions,
        st.sampled_from([None, "ALL_OLD"]),
    ),
    st.builds(
        lambda key, update, r: ("update_item", _with({"Key": key, **update}, ReturnValues=r)),
        keys,
        updates(),
        st.sampled_from([None, "ALL_NEW", "UPDATED_OLD"]),
    ),
    st.builds(
        lambda key, c: ("delete_item", _with({"Key": key}, ConditionExpression=c)),
        keys,
        st.sampled_from([None, "attribute_exists(due_bucket)"]),
    ),
    st.builds(
        lambda requests: ("batch_write_item", {"RequestItems": {TABLE: requests}}),
        st.lists(
            items.map(lambda item: {"PutRequest": {"Item": item}})
            | keys.map(lambda key: {"DeleteRequest": {"Key": key}}),
            min_size=1,
            max_size=4,
        ),
    ),
    st.builds(
        lambda operations: ("transact_write_items", {"TransactItems": operations}),
        st.lists(
            transaction_operations,
            min_size=1,
            max_size=3,
            unique_by=lambda operation: _key_of(next(iter(operation.values()))),
        ),
    ),
)


# --------------------------------------------------------------------------- queries


@st.composite
def range_conditions(draw: st.DrawFn, name: str, choices: list[str], prefixes: list[str]) -> tuple[str, dict]:
    """A key condition on a range key, of any kind DynamoDB allows (or none)."""
    kind = draw(st.sampled_from(["none", "=", "<", "<=", ">", ">=", "between", "begins_with"]))
    if kind == "none":
        return "", {}
    if kind == "between":
        low, high = sorted(draw(st.lists(st.sampled_from(choices), min_size=2, max_size=2)))
        return f" AND {name} BETWEEN :low AND :high", {":low": _s(low), ":high": _s(high)}
    if kind == "begins_with":
        return f" AND begins_with({name}, :prefix)", {":prefix": _s(draw(st.sampled_from(prefixes)))}
    return f" AND {name} {kind} :r", {":r": _s(draw(st.sampled_from(choices)))}


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A Query on the table or an index, with every knob a caller may turn."""
    target = draw(st.sampled_from(["table", "table", "DueIndex", "DueIndex", "ByKind", "ByDue"]))
    request: dict[str, Any] = {} if target == "table" else {"IndexName": target}
    if target == "ByKind":
        condition, expression_values = "kind = :h", {":h": _n(draw(st.integers(0, 3)))}
    else:
        hash_name, hash_choices = (
            ("due_bucket", BUCKET_VALUES)
            if target == "DueIndex"
            else ("pk", [_s(pk) for pk in [*PARTITIONS, "CUST#9"]])
        )
        range_name, range_choices, prefixes = (
            ("sk", SORT_KEYS, ["ORDER#", "T", "P", "Z"])
            if target == "table"
            else ("due_at", DUE_TIMES, ["2026-03-01T10"])
        )
        range_part, expression_values = draw(range_conditions(range_name, range_choices, prefixes))
        condition = f"{hash_name} = :h{range_part}"
        expression_values[":h"] = draw(st.sampled_from(hash_choices))
    request["KeyConditionExpression"] = condition
    request["ScanIndexForward"] = draw(st.booleans())
    filter_expression = draw(st.sampled_from([None, "v > :f", "attribute_exists(note)", "attribute_not_exists(meta)"]))
    if filter_expression:
        request["FilterExpression"] = filter_expression
        if ":f" in filter_expression:
            expression_values[":f"] = _n(0)
    shape = draw(st.sampled_from(["items", "items", "projection", "count"]))
    if shape == "projection":
        request["ProjectionExpression"] = "pk, #sk, v, meta.a"
        request["ExpressionAttributeNames"] = {"#sk": "sk"}
    elif shape == "count":
        request["Select"] = "COUNT"
    request["ExpressionAttributeValues"] = expression_values
    return "query", _with(
        request,
        Limit=draw(st.sampled_from([None, None, 1, 2, 3])),
        ConsistentRead=draw(st.sampled_from([None, None, None, True])),  # refused on a GSI
    )


# --------------------------------------------------------------------------- running both


def _call(client: Any, operation: str, request: dict[str, Any]) -> tuple[Any, ...]:
    """What a caller sees of one request: status, raw body and parsed response (or error).

    moto has bugs of its own (a projection of ``meta.a`` where ``meta`` is not a map raises
    TypeError inside moto); those must come out the same too, so they are recorded as well.
    """
    _raw_responses.clear()
    try:
        parsed = getattr(client, operation)(**request)
    except ClientError as error:
        parsed = {"error": error.response}
    except Exception as crash:  # moto's own crash, compared like any other answer
        return ("moto raised", type(crash).__name__, str(crash))
    parsed.get("error", parsed).pop("ResponseMetadata", None)
    [(status, body)] = _raw_responses  # one request each: retries are off
    return status, body, parsed


def _run(client: Any, operations: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Every answer of one region; a Query follows its own ``LastEvaluatedKey`` to the end."""
    answers: list[Any] = []
    for operation, request in operations:
        if operation in ("batch_write_item", "transact_write_items"):
            answers.append(_call(client, operation, request))  # these name their tables inside
        elif operation != "query":
            answers.append(_call(client, operation, {"TableName": TABLE, **request}))
        else:
            pages, start = [], None
            for _ in range(60):  # more pages than any script's table has items
                resume = {"ExclusiveStartKey": start} if start else {}
                pages.append(_call(client, operation, {"TableName": TABLE, **request, **resume}))
                start = pages[-1][2].get("LastEvaluatedKey") if isinstance(pages[-1][2], dict) else None
                if not start:
                    break
            answers.append(pages)
    return answers


def _answers_of_both(clients: dict[str, Any], operations: list[tuple[str, dict[str, Any]]]) -> tuple[list, list]:
    """The answers of patched moto and of moto as shipped, each on a fresh table."""
    for region in (PATCHED, SHIPPED):
        clients[region].create_table(**_table_definition())
    try:
        patched = _run(clients[PATCHED], operations)
        _assert_registries_match_a_rebuild()
        with moto_patches.unpatched():
            shipped = _run(clients[SHIPPED], operations)
    finally:
        for region in (PATCHED, SHIPPED):
            clients[region].delete_table(TableName=TABLE)
    return patched, shipped


def _assert_registries_match_a_rebuild() -> None:
    """Stale keys in a registry cannot change an answer (moto re-checks every candidate), only
    its cost; so the registries the patched run kept up to date must equal ones built afresh."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][PATCHED].tables[TABLE]
    registries = moto_patches._registries(table)
    assert registries, "the script's first index Query built no registry"
    for signature, kept in registries.items():
        fresh = moto_patches._IndexRegistry(*signature)
        fresh.rebuild(table)
        assert kept.bucket_of == fresh.bucket_of, signature
        assert {b: set(keys) for b, keys in kept.buckets.items()} == {b: set(k) for b, k in fresh.buckets.items()}


def _first_difference(patched: list, shipped: list, operations: list) -> str:
    for number, (mine, theirs, (operation, request)) in enumerate(zip(patched, shipped, operations, strict=True)):
        if mine != theirs:
            return f"request {number}, {operation} {request}:\npatched {mine}\nshipped {theirs}"
    return ""


FIRST_BUCKET = {
    "IndexName": "DueIndex",
    "KeyConditionExpression": "due_bucket = :h",
    "ExpressionAttributeValues": {":h": _s(BUCKETS[0])},
}


def _seeded(seed: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Batches filling the table, then an index Query, which builds the index registry."""
    batches = [
        ("batch_write_item", {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}} for item in seed[at : at + 25]]}})
        for at in range(0, len(seed), 25)
    ]
    return [*batches, ("query", FIRST_BUCKET)]


def _timer(pk: str, sk: str, bucket: str, due: str, **other: Any) -> dict[str, Any]:
    return {**_key(pk, sk), "due_bucket": _s(bucket), "due_at": _s(due), **other}


BIG = {"note": _s(_Long("x" * BIG_NOTE))}
MEGABYTE_PAGES = [_timer("CUST#1", sk, BUCKETS[0], DUE_TIMES[0], **BIG) for sk in SORT_KEYS[:4]]
EVERY_ERROR = [
    ("put_item", {"Item": _key("CUST#1", "PROFILE"), "ConditionExpression": "attribute_not_exists(pk)"}),
    (  # cancelled: the timer must stay in its bucket
        "transact_write_items",
        {
            "TransactItems": [
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("CUST#1", "TIMER#1"),
                        "UpdateExpression": "SET due_bucket = :b",
                        "ExpressionAttributeValues": {":b": _s(BUCKETS[1])},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("CUST#3", "PROFILE"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        },
    ),
    ("query", FIRST_BUCKET),
    (
        "transact_write_items",
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": _timer("CUST#2", "TIMER#1", BUCKETS[0], DUE_TIMES[1])}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("CUST#1", "PROFILE"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        },
    ),
    (
        "transact_write_items",
        {"TransactItems": [{"Delete": {"TableName": TABLE, "Key": _key("CUST#1", "PROFILE")}}] * 2},
    ),
    ("update_item", {"Key": _key("CUST#1", "TIMER#1"), "UpdateExpression": "REMOVE due_bucket"}),
    ("query", {**FIRST_BUCKET, "ConsistentRead": True}),
    ("query", {"KeyConditionExpression": "sk = :h", "ExpressionAttributeValues": {":h": _s("PROFILE")}}),
]


@BOUNDED
@given(
    seed=st.lists(items, min_size=4, max_size=24, unique_by=_key_of),
    script=st.lists(st.one_of(writes, queries()), min_size=1, max_size=16),
)
@example(  # 1 MB pages, on the table and on the index
    seed=MEGABYTE_PAGES,
    script=[
        ("query", {"KeyConditionExpression": "pk = :h", "ExpressionAttributeValues": {":h": _s("CUST#1")}}),
        ("query", {**FIRST_BUCKET, "ScanIndexForward": False}),
    ],
)
@example(  # the errors a caller must be able to tell apart, and an index attribute removed
    seed=[{**_key("CUST#1", "PROFILE"), "v": _n(1)}, _timer("CUST#1", "TIMER#1", BUCKETS[0], DUE_TIMES[0])],
    script=[*EVERY_ERROR, ("query", FIRST_BUCKET)],
)
@example(  # a list as an index key: moto stores and finds it, so the patched path must too
    seed=[{**_timer("CUST#1", "TIMER#1", BUCKETS[0], DUE_TIMES[0]), "due_bucket": BUCKET_VALUES[-1]}],
    script=[("query", {**FIRST_BUCKET, "ExpressionAttributeValues": {":h": BUCKET_VALUES[-1]}})],
)
def test_patched_moto_answers_every_request_like_moto(clients, seed, script) -> None:
    # Given a filled table whose index registry exists,
    operations = [*_seeded(seed), *script]
    # when random writes and Queries follow, on patched moto and on moto as shipped,
    patched, shipped = _answers_of_both(clients, operations)
    # then every answer is the same: status, raw body, parsed response, every page.
    assert patched == shipped, _first_difference(patched, shipped, operations)


def test_queries_hand_moto_only_the_partition_or_the_index_bucket(clients, monkeypatch) -> None:
    # Given 60 customers of 6 items each, two of them timers in one of four hourly buckets,
    from moto.dynamodb.models.table import Table

    client = clients[PATCHED]
    client.create_table(**_table_definition())
    try:
        for customer in range(60):
            bucket = f"2026-03-01T{customer % 4:02d}#0"
            timers = [_timer(f"CUST#{customer}", f"TIMER#{n}", bucket, f"2026-03-01T{n:02d}") for n in range(2)]
            others = [_key(f"CUST#{customer}", sk) for sk in ("PROFILE", "CONTACT", "ORDER#1", "ORDER#2")]
            client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}} for item in timers + others]})
        handed: list[int] = []
        view = moto_patches._TableView

        def counting_view(table: Any, candidates: list[Any]) -> Any:
            handed.append(len(candidates))
            return view(table, candidates)

        def whole_table(self: Any) -> None:
            raise AssertionError("a Query walked the whole table")

        monkeypatch.setattr(moto_patches, "_TableView", counting_view)
        monkeypatch.setattr(Table, "all_items", whole_table)
        # when the sweep's Query and a customer's Query run,
        due = {":b": _s("2026-03-01T01#0"), ":now": _s("2026-03-01T23")}
        swept = client.query(
            TableName=TABLE,
            IndexName="DueIndex",
            KeyConditionExpression="due_bucket = :b AND due_at <= :now",
            ExpressionAttributeValues=due,
        )
        customer = client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": _s("CUST#7")}
        )
    finally:
        client.delete_table(TableName=TABLE)
    # then moto's query code saw the bucket's 30 timers and the partition's 6 items, not 360.
    assert handed == [30, 6]
    assert (swept["Count"], customer["Count"]) == (30, 6)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=4), values, max_size=4))  # DynamoDB names are never empty
def test_attribute_values_serialise_to_the_same_json_as_moto(item) -> None:
    # Given a GetItem result as moto's handler builds it (any attribute types, nested),
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("GetItem")
    result = {"Item": item, "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 0.5}}

    def serialised() -> dict[str, Any]:
        return JSONSerializer(operation, value_picker=XFormedAttributePicker()).serialize(result)

    # when moto serialises it patched and as shipped,
    moto_patches.apply()
    patched = serialised()
    with moto_patches.unpatched():
        shipped = serialised()
    # then the bodies are the same string, and the item survives the round trip.
    assert patched == shipped
    assert json.loads(patched["body"])["Item"].keys() == item.keys()


def test_an_index_query_after_unpatched_writes_sees_them(clients) -> None:
    # Given an index registry built by a patched Query,
    client = clients[PATCHED]
    client.create_table(**_table_definition())
    try:
        client.put_item(TableName=TABLE, Item=_timer("CUST#1", "TIMER#1", BUCKETS[0], DUE_TIMES[0]))
        assert client.query(TableName=TABLE, **FIRST_BUCKET)["Count"] == 1
        # when a write happens while moto runs unpatched (no registry upkeep),
        with moto_patches.unpatched():
            client.put_item(TableName=TABLE, Item=_timer("CUST#2", "TIMER#1", BUCKETS[0], DUE_TIMES[1]))
        # then the next patched Query rebuilds the registry and sees it.
        assert client.query(TableName=TABLE, **FIRST_BUCKET)["Count"] == 2
    finally:
        client.delete_table(TableName=TABLE)


def test_items_are_built_and_refused_for_size_like_moto(clients) -> None:
    # Given one item just under and one just over moto's 400 KB bound, put through both paths
    attributes = {f"a{n}": _s("x" * 1000) for n in range(400)}
    outcomes = []
    for region in (PATCHED, SHIPPED):
        client = clients[region]
        client.create_table(**_table_definition())
        try:
            with moto_patches.unpatched() if region == SHIPPED else contextlib.nullcontext():
                client.put_item(TableName=TABLE, Item={"pk": _s("P"), "sk": _s("S"), **attributes})
                stored = client.get_item(TableName=TABLE, Key={"pk": _s("P"), "sk": _s("S")})["Item"]
                with pytest.raises(ClientError) as refused:
                    client.put_item(
                        TableName=TABLE, Item={"pk": _s("Q"), "sk": _s("S"), **attributes, "z": _s("x" * 6000)}
                    )
            outcomes.append((stored, refused.value.response["Error"]))
        finally:
            client.delete_table(TableName=TABLE)
    # Then both stored the same item and refused the other with the same error
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1]["Code"] == "ValidationException"


def test_apply_is_idempotent() -> None:
    # Given the patches applied once, when apply() runs again, then nothing is patched twice.
    moto_patches.apply()
    installed = list(moto_patches._replaced)
    moto_patches.apply()
    assert moto_patches._replaced == installed
    assert len({(id(owner), attribute) for owner, attribute, _, _ in installed}) == len(installed)
