"""RAM ListResourceTypes over restJson1."""

import json


def test_list_resource_types_includes_ssm_parameters_and_ec2_images(ingot):
    types = ingot.client("ram").list_resource_types()["resourceTypes"]
    by_type = {t["resourceType"]: t for t in types}
    assert by_type["ssm:Parameter"]["serviceName"] == "ssm"
    assert by_type["ssm:Parameter"]["resourceRegionScope"] == "REGIONAL"
    assert "imagebuilder:Image" in by_type


def test_list_resource_types_pages_with_next_token(ingot):
    ram = ingot.client("ram")
    first = ram.list_resource_types(maxResults=2)
    assert len(first["resourceTypes"]) == 2 and first["nextToken"]
    second = ram.list_resource_types(maxResults=2, nextToken=first["nextToken"])
    assert second["resourceTypes"][0] != first["resourceTypes"][0]


def test_aws_cli_lists_resource_types(ingot):
    out = json.loads(ingot.cli("ram", "list-resource-types").stdout)
    assert any(t["resourceType"] == "ssm:Parameter" for t in out["resourceTypes"])
