"""bench/cost_meter.py counts DynamoDB request units the way DynamoDB bills them."""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from cost_meter import ItemPeek, RequestMeter, item_size, read_units, write_units


def test_item_size_counts_names_and_values():
    # Given an item with a string, a number and a list
    item = {"pk": {"S": "T#a"}, "n": {"N": "12345"}, "l": {"L": [{"S": "ab"}, {"BOOL": True}]}}
    # Then: names + UTF-8 bytes; 5 digits = 3 bytes + 1; a list 3 bytes + 1 per element
    assert item_size(item) == (2 + 3) + (1 + 4) + (1 + 3 + (1 + 2) + (1 + 1))


def test_units_round_up_per_started_kilobyte_and_four_kilobytes():
    assert write_units(1) == 1
    assert write_units(1025) == 2
    assert write_units(1025, transactional=True) == 4
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(0, consistent=False) == 0.5  # a missing item still costs the minimum


@pytest.fixture
def metered(dynamodb, table):
    client = boto3.client("dynamodb")
    meter = RequestMeter(ItemPeek(boto3.Session().client("dynamodb")))
    meter.install(client.meta.events)
    return client, meter


def test_writes_count_the_larger_item_and_transactions_double(metered, table):
    client, meter = metered
    big = {"pk": {"S": "T#a"}, "sk": {"S": "M#1"}, "text": {"S": "x" * 1500}}
    with meter.attributed_to("collect") as tally:
        # a 1.5 KB put: 2 units
        client.put_item(TableName=table, Item=big)
        # an update that shrinks it is billed at the larger size before: 2 units
        client.update_item(
            TableName=table,
            Key={"pk": big["pk"], "sk": big["sk"]},
            UpdateExpression="SET #t = :t",
            ExpressionAttributeNames={"#t": "text"},
            ExpressionAttributeValues={":t": {"S": "short"}},
        )
        # a transaction of two small items: 2 x 2 units
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "T#a"}, "sk": {"S": f"H#{i}"}}}}
                for i in range(2)
            ]
        )
    assert tally.wru == {"M#": 4, "H#": 4}
    assert tally.items_written == {"M#": 2, "H#": 2}


def test_reads_eventually_consistent_half_and_query_by_summed_size(metered, table):
    client, meter = metered
    for i in range(3):
        item = {"pk": {"S": "T#a"}, "sk": {"S": f"H#{i}"}, "v": {"S": "y" * 2000}}
        client.put_item(TableName=table, Item=item)  # not attributed: not counted
    with meter.attributed_to("score") as tally:
        client.get_item(TableName=table, Key={"pk": {"S": "T#a"}, "sk": {"S": "H#0"}})
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "T#a"}},
            ConsistentRead=True,
        )
    # GetItem: 0.5 (eventually consistent, < 4 KB); Query: ~6 KB summed -> 2 units
    assert tally.rru["H#"] == 0.5 + 2
    assert tally.items_read["H#"] == 4
    assert tally.requests == {"dynamodb.GetItem": 1, "dynamodb.Query": 1}
    assert meter.tallies.keys() == {"score"}


def test_a_failed_conditional_put_still_costs(metered, table):
    client, meter = metered
    item = {"pk": {"S": "T#a"}, "sk": {"S": "M#1"}}
    client.put_item(TableName=table, Item=item)
    refused = client.exceptions.ConditionalCheckFailedException
    with meter.attributed_to("collect") as tally, pytest.raises(refused):
        client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert tally.wru["M#"] == 1
    assert tally.items_written["M#"] == 0


@pytest.fixture
def item_backup_transactions():
    """bench/cost_moto.py's cheap transactions, for this test only."""
    from cost_moto import fast_transactions
    from moto.dynamodb.models import DynamoDBBackend

    saved = DynamoDBBackend.transact_write_items
    fast_transactions()
    yield
    DynamoDBBackend.transact_write_items = saved


def test_a_cancelled_transaction_leaves_every_item_as_it_was(
    item_backup_transactions, dynamodb, table
):
    # Given a bucket with a count of 1 and a mention already scored
    bucket = {"pk": {"S": "T#a"}, "sk": {"S": "H#1"}}
    dynamodb.put_item(TableName=table, Item={**bucket, "count": {"N": "1"}})
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "T#a"}, "sk": {"S": "M#1"}, "s": {"S": "x"}}
    )
    # When a transaction adds to the bucket, then fails on the mention's condition
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": bucket,
                        "UpdateExpression": "ADD #c :one",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "T#a"}, "sk": {"S": "M#1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    # Then the bucket still counts 1 and the mention is untouched
    got = dynamodb.get_item(TableName=table, Key=bucket)["Item"]
    assert got["count"] == {"N": "1"}
    mention = dynamodb.get_item(TableName=table, Key={"pk": {"S": "T#a"}, "sk": {"S": "M#1"}})
    assert mention["Item"]["s"] == {"S": "x"}
