"""Parameter Store listings with the CLI's auto-pagination and boto3 paginators."""

import json

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def hierarchy(ingot):
    """A tree of 37 parameters under /e2e-list: 25 direct children of /e2e-list/flat, and a
    nested branch."""
    ssm = ingot.client("ssm")
    names = [f"/e2e-list/flat/p{i:02}" for i in range(25)]
    names += ["/e2e-list/nested/a", "/e2e-list/nested/b/c", "/e2e-list/nested/b/d/e"]
    names += [f"/e2e-list/typed/s{i}" for i in range(9)]
    for name in names:
        kind = "StringList" if name.endswith(("s1", "s3")) else "String"
        ssm.put_parameter(Name=name, Value="v", Type=kind)
    return names


def test_cli_get_parameters_by_path_recursive_pages_through_everything(ingot, hierarchy):
    out = json.loads(ingot.cli("ssm", "get-parameters-by-path", "--path", "/e2e-list", "--recursive").stdout)
    assert sorted(p["Name"] for p in out["Parameters"]) == sorted(hierarchy)


def test_cli_get_parameters_by_path_without_recursion_lists_one_level(ingot, hierarchy):
    out = json.loads(ingot.cli("ssm", "get-parameters-by-path", "--path", "/e2e-list/nested").stdout)
    assert [p["Name"] for p in out["Parameters"]] == ["/e2e-list/nested/a"]


def test_cli_page_size_still_returns_every_parameter(ingot, hierarchy):
    out = json.loads(ingot.cli("ssm", "get-parameters-by-path", "--path", "/e2e-list/flat", "--page-size", "3").stdout)
    assert [p["Name"] for p in out["Parameters"]] == [f"/e2e-list/flat/p{i:02}" for i in range(25)]


def test_boto3_paginator_walks_get_parameters_by_path(ingot, hierarchy):
    pages = list(ingot.client("ssm").get_paginator("get_parameters_by_path").paginate(
        Path="/e2e-list/flat", PaginationConfig={"PageSize": 10}))
    assert [len(p["Parameters"]) for p in pages] == [10, 10, 5]


def test_boto3_paginator_walks_describe_parameters_with_filters(ingot, hierarchy):
    paginator = ingot.client("ssm").get_paginator("describe_parameters")
    pages = paginator.paginate(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/e2e-list/"]}],
                               PaginationConfig={"PageSize": 7})
    names = [p["Name"] for page in pages for p in page["Parameters"]]
    assert names == sorted(hierarchy)


def test_describe_parameters_by_type_and_path(ingot, hierarchy):
    ssm = ingot.client("ssm")
    lists = ssm.describe_parameters(ParameterFilters=[
        {"Key": "Type", "Values": ["StringList"]},
        {"Key": "Path", "Option": "OneLevel", "Values": ["/e2e-list/typed"]},
    ])
    assert [p["Name"] for p in lists["Parameters"]] == ["/e2e-list/typed/s1", "/e2e-list/typed/s3"]
    nested = ssm.describe_parameters(ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": ["/e2e-list/nested/b"]}])
    assert [p["Name"] for p in nested["Parameters"]] == ["/e2e-list/nested/b/c", "/e2e-list/nested/b/d/e"]


def test_cli_describe_parameters_auto_paginates(ingot, hierarchy):
    out = json.loads(ingot.cli("ssm", "describe-parameters", "--parameter-filters",
                               "Key=Path,Option=Recursive,Values=/e2e-list", "--page-size", "5").stdout)
    assert len(out["Parameters"]) == len(hierarchy)


def test_an_invalid_token_is_refused(ingot, hierarchy):
    with pytest.raises(ClientError) as e:
        ingot.client("ssm").describe_parameters(NextToken="definitely-not-a-token")
    assert e.value.response["Error"]["Code"] == "InvalidNextToken"


def test_invalid_filters_get_aws_errors(ingot, hierarchy):
    ssm = ingot.client("ssm")
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path="/e2e-list", ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert e.value.response["Error"]["Code"] == "InvalidFilterKey"
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Type", "Option": "Contains", "Values": ["String"]}])
    assert e.value.response["Error"]["Code"] == "InvalidFilterOption"
    assert e.value.response["Error"]["Message"] == (
        "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals].")


def test_pages_stay_consistent_while_parameters_change(ingot, hierarchy, unique):
    ssm = ingot.client("ssm")
    base = f"/e2e-stable-{unique}"
    for i in range(12):
        ssm.put_parameter(Name=f"{base}/p{i:02}", Value="v", Type="String")
    filters = [{"Key": "Name", "Option": "BeginsWith", "Values": [base]}]
    first = ssm.describe_parameters(ParameterFilters=filters, MaxResults=5)
    seen = [p["Name"] for p in first["Parameters"]]
    ssm.delete_parameter(Name=f"{base}/p01")
    ssm.put_parameter(Name=f"{base}/p09a", Value="v", Type="String")
    token = first.get("NextToken")
    while token:
        page = ssm.describe_parameters(ParameterFilters=filters, MaxResults=5, NextToken=token)
        seen += [p["Name"] for p in page["Parameters"]]
        token = page.get("NextToken")
    assert seen == sorted([f"{base}/p{i:02}" for i in range(12)] + [f"{base}/p09a"])
