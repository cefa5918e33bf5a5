"""EC2 DescribeRegions and DescribeAvailabilityZones over the ec2 query protocol."""

import json

import pytest
from botocore.exceptions import ClientError


def test_describe_regions_lists_the_enabled_commercial_regions(ingot):
    regions = ingot.client("ec2").describe_regions()["Regions"]
    names = {r["RegionName"] for r in regions}
    assert {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"} <= names
    assert "af-south-1" not in names  # an opt-in region, not enabled for new accounts
    us_east = next(r for r in regions if r["RegionName"] == "us-east-1")
    assert us_east["Endpoint"] == "ec2.us-east-1.amazonaws.com"
    assert us_east["OptInStatus"] == "opt-in-not-required"


def test_describe_regions_with_all_regions_includes_opt_in_regions(ingot):
    regions = ingot.client("ec2").describe_regions(AllRegions=True)["Regions"]
    statuses = {r["RegionName"]: r["OptInStatus"] for r in regions}
    assert statuses["af-south-1"] == "not-opted-in"


def test_describe_regions_filters_by_name(ingot):
    regions = ingot.client("ec2").describe_regions(RegionNames=["eu-west-1", "us-east-2"])["Regions"]
    assert sorted(r["RegionName"] for r in regions) == ["eu-west-1", "us-east-2"]


def test_describe_regions_rejects_an_unknown_region_name(ingot):
    with pytest.raises(ClientError) as e:
        ingot.client("ec2").describe_regions(RegionNames=["mars-north-1"])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_describe_availability_zones_lists_the_zones_of_the_callers_region(ingot):
    zones = ingot.client("ec2", region="eu-west-1").describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert [z["ZoneId"] for z in zones] == ["euw1-az1", "euw1-az2", "euw1-az3"]
    assert all(z["State"] == "available" and z["RegionName"] == "eu-west-1" for z in zones)


def test_aws_cli_describe_availability_zones_with_a_filter(ingot):
    out = ingot.cli("ec2", "describe-availability-zones", "--filters", "Name=zone-name,Values=us-east-1b",
                    region="us-east-1")
    zones = json.loads(out.stdout)["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["us-east-1b"]


def test_dry_run_reports_that_the_request_would_have_succeeded(ingot):
    with pytest.raises(ClientError) as e:
        ingot.client("ec2").describe_regions(DryRun=True)
    assert e.value.response["Error"]["Code"] == "DryRunOperation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
