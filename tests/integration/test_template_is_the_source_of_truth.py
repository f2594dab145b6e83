"""template.yaml is the single source of truth: code may only use tables it declares."""

from __future__ import annotations

from retention.settings import Settings
from retention_tools.local import template as cfn


def _table_env_vars(template: dict) -> dict[str, object]:
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in cfn.resources_of_type(template, "AWS::Serverless::Function").values():
        variables.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    return {name: value for name, value in variables.items() if name.endswith("_TABLE")}


def test_every_table_setting_the_code_reads_is_a_table_in_the_template():
    # Given the table names the code reads from its settings
    template = cfn.load_template()
    tables = cfn.resources_of_type(template, "AWS::DynamoDB::Table")
    env = _table_env_vars(template)
    needed = [field.alias for field in Settings.model_fields.values() if field.alias and field.alias.endswith("_TABLE")]
    assert needed, "the settings model names no table: this test would pass vacuously"
    for variable in needed:
        # Then each is set from a !Ref to a DynamoDB table resource of the template
        assert variable in env, f"{variable} is read by the code but not set in template.yaml"
        assert env[variable] == {"Ref": env[variable]["Ref"]} and env[variable]["Ref"] in tables, variable


def test_embedded_aws_creates_exactly_the_templates_tables(aws):
    declared = set(cfn.resources_of_type(cfn.load_template(), "AWS::DynamoDB::Table"))
    assert set(aws.resources.tables) == declared
    listed = set(aws.client("dynamodb").list_tables()["TableNames"])
    assert set(aws.resources.tables.values()) <= listed


def test_tables_are_on_demand_with_point_in_time_recovery():
    for logical_id, table in cfn.resources_of_type(cfn.load_template(), "AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id


def test_every_sample_event_file_is_used_by_a_test():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = "".join(p.read_text(encoding="utf-8") for p in (root / "tests").rglob("*.py"))
    for event_file in (root / "events").rglob("*.json"):
        name = event_file.relative_to(root / "events")
        assert event_file.stem in sources, f"events/{name} is not exercised by any test"
