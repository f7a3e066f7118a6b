from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cloud import errors
from cloud.errors import classify

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling.User", 400, errors.Throttled),
        ("Throttling", 400, errors.Throttled),
        ("ServiceUnavailable", 503, errors.Transient),
        ("InternalError", 500, errors.Transient),
        ("SomethingNew", 502, errors.Transient),
        ("IncorrectInstanceStatus", 403, errors.Conflict),
        ("DependencyViolation.SecurityGroup", 400, errors.Conflict),
        ("IdempotentParameterMismatch", 400, errors.Conflict),
        ("ChargeTypeViolation", 403, errors.Conflict),
        ("InvalidInstanceId.NotFound", 404, errors.NotFound),
        ("EntityNotExists.Execution", 404, errors.NotFound),
        ("OperationDenied.NoStock", 403, errors.NoStock),
        ("Forbidden.RAM", 403, errors.PermissionDenied),
        ("InvalidAccessKeyId.NotFound", 404, errors.PermissionDenied),
        ("SignatureDoesNotMatch", 400, errors.PermissionDenied),
        ("QuotaExceed.ElasticQuota", 403, errors.PermissionDenied),
        ("InvalidAccountStatus.NotEnoughBalance", 403, errors.PermissionDenied),
        ("InvalidParameter", 400, errors.InvalidRequest),
        ("MissingParameter", 400, errors.InvalidRequest),
        ("InvalidInstanceType.ValueNotSupported", 400, errors.InvalidRequest),
    ],
)
def test_it_maps_cloud_codes_to_our_errors(code: str, status: int, expected: type) -> None:
    assert classify(code, status) is expected


def test_only_throttled_and_transient_errors_are_retryable() -> None:
    retryable = {cls.__name__ for cls in errors.CloudError.__subclasses__() if cls.retryable}
    assert retryable == {"Throttled", "Transient"}


def test_no_module_outside_the_gateway_imports_an_alibaba_sdk() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "var", "node_modules"}:
            continue
        if (
            relative.parts[0] == "cloud"
            or relative.parts[:2] == ("tests", "cloudsim")
            or relative == Path("bench/bench_cloudsim.py")
        ):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.startswith(("alibabacloud_", "darabonba")) for n in names):
                offenders.append(str(relative))
    assert offenders == []
