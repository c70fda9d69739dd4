"""The root's input validations, evaluated by real Terraform: terraform/variables.tf declares
nothing but variables, so a throwaway root holding a copy of it can be planned offline. Bad
access settings, CORS lists and alert recipients must fail the plan with a clear message
before anything is created; the example values must pass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.test_terraform_invariants import TF, _terraform, needs_terraform, parse

pytestmark = needs_terraform

# The ephemeral secrets have no default; any well-formed value will do for a plan.
SECRETS = {"xendit_api_key": "xnd_development_x", "xendit_callback_token": "x" * 32}


@pytest.fixture(scope="module")
def variables_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("root-variables")
    shutil.copy(TF / "variables.tf", workdir / "variables.tf")
    (workdir / "main.tf").write_text(
        'terraform {\n  required_version = ">= 1.11.0"\n}\n', encoding="utf-8"
    )
    init = _terraform(workdir, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    return workdir


def _plan(workdir: Path, **inputs: Any) -> tuple[int, str]:
    values = {
        "project_id": "halo-bestie-prod",
        "domains": ["api.halobestie.id"],
        "alert_emails": ["oncall@halobestie.id"],
        "admin_iap_members": ["group:halo-operators@halobestie.id"],
        **inputs,
    }
    (workdir / "inputs.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
    env_args = [f"-var={k}={v}" for k, v in SECRETS.items()]
    planned = _terraform(workdir, "plan", "-input=false", "-var-file=inputs.tfvars.json", *env_args)
    return planned.returncode, " ".join((planned.stdout + planned.stderr).split())


def test_example_tfvars_pass_every_validation(variables_root: Path) -> None:
    example = parse(TF / "example.tfvars")
    code, output = _plan(variables_root, **example)
    assert code == 0, output


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"admin_access": "public"}, 'admin_access must be "iap" or "network"'),
        ({"admin_access": "iap", "admin_iap_members": []}, "needs at least one member"),
        ({"admin_iap_members": ["allUsers"]}, "never be reachable by allUsers"),
        ({"admin_iap_members": ["allAuthenticatedUsers"]}, "never be reachable by allUsers"),
        ({"cors_admin_origins": ["*"]}, 'cors_admin_origins must not contain "*"'),
        ({"cors_admin_origins": ["https://*.halo.internal"]}, "must not contain"),
        ({"cors_admin_origins": ["https://control.halo.internal/"]}, "without a path"),
        ({"cors_public_origins": ["*"]}, "Each public origin must be"),
        ({"alert_emails": []}, "alert_emails needs at least one valid email address"),
        ({"alert_emails": ["oncall"]}, "alert_emails needs at least one valid email address"),
        ({"domain_event_retention": "60s"}, "domain_event_retention must be between"),
    ],
    ids=lambda v: v if isinstance(v, str) else json.dumps(v),
)
def test_bad_inputs_fail_the_plan(
    variables_root: Path, inputs: dict[str, Any], message: str
) -> None:
    code, output = _plan(variables_root, **inputs)
    assert code != 0, f"{inputs} should have failed the plan"
    assert message in output, output


def test_network_access_needs_no_iap_members(variables_root: Path) -> None:
    code, output = _plan(variables_root, admin_access="network", admin_iap_members=[])
    assert code == 0, output
