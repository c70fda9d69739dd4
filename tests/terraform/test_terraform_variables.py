"""Input validations, evaluated by real Terraform: variables.tf files declare nothing but
variables, so a throwaway root holding a copy of one can be planned offline.

- The root's: bad access settings, CORS lists and alert recipients must fail the plan with a
  clear message before anything is created; example.tfvars must pass.
- The function module's: fed what the root passes for every catalogue entry (from the
  catalogue module evaluated by Terraform), each must pass; inconsistent access modes and
  dead-letter settings must fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.test_terraform_invariants import (
    MODULES,
    TF,
    _terraform,
    evaluated,  # noqa: F401  (fixture: the catalogue module evaluated by Terraform)
    evaluator,  # noqa: F401
    needs_terraform,
    parse,
)

pytestmark = needs_terraform

# The ephemeral secrets have no default; any well-formed value will do for a plan.
SECRETS = {
    "xendit_api_key": "xnd_development_x",
    "xendit_callback_token": "x" * 32,
    "chat_keys": "k1:" + "A" * 43 + "=",
}


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


# --------------------------------------------------------------------------------------
# The function module's validations, fed what the root passes for each catalogue entry
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def function_variables_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("function-variables")
    shutil.copy(MODULES / "function" / "variables.tf", workdir / "variables.tf")
    (workdir / "main.tf").write_text(
        'terraform {\n  required_version = ">= 1.11.0"\n}\n', encoding="utf-8"
    )
    init = _terraform(workdir, "init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    return workdir


def _function_inputs(fn: dict[str, Any], admin_access: str) -> dict[str, Any]:
    """What terraform/main.tf passes to modules/function for one evaluated catalogue entry
    (local.function_access and local.push_triggers, mirrored)."""
    if fn["ingress"] == "public":
        access = "load_balancer"
    else:
        access = admin_access if fn["http"] else "push"
    push_trigger = None
    if fn["event_trigger"] is not None:
        push_trigger = {
            "topic_id": f"projects/p/topics/{fn['event_trigger']['pubsub_topic']}",
            "dead_letter_after": None,
            "message_retention": "600s",
            "minimum_backoff": "10s",
            "maximum_backoff": "60s",
        }
    elif fn["domain_events"]:
        push_trigger = {
            "topic_id": "projects/p/topics/halo-domain-events",
            "dead_letter_after": fn["dead_letter_after"],
            "message_retention": "3600s",
            "minimum_backoff": "10s",
            "maximum_backoff": "600s",
        }
    return {
        "project_id": "halo-bestie-prod",
        "region": "asia-southeast2",
        "name": fn["name"],
        "source_dir": fn["source"],
        "entry_point": fn["entry_point"],
        "runtime": fn["runtime"],
        "ingress": fn["ingress"],
        "access": access,
        "sizing": fn["sizing"],
        "db_pool": fn["db_pool"],
        "push_trigger": push_trigger,
        "pubsub_service_agent_email": "service-1@gcp-sa-pubsub.iam.gserviceaccount.com",
        "iap_service_agent_email": "service-1@gcp-sa-iap.iam.gserviceaccount.com",
        "iap_members": ["group:halo-operators@halobestie.id"],
        "repo_root": "..",
        "build_dir": ".build",
        "source_bucket": "b",
        "image_repository": "asia-southeast2-docker.pkg.dev/halo-bestie-prod/halo-functions",
        "build_service_account_id": "projects/p/serviceAccounts/b@p.iam.gserviceaccount.com",
        "network": "halo-vpc",
        "subnetwork": "halo-vpc-functions",
        "events_topic_id": "projects/p/topics/halo-domain-events",
        "project_roles": fn["project_roles"],
    }


def _plan_function(workdir: Path, inputs: dict[str, Any]) -> tuple[int, str]:
    (workdir / "inputs.tfvars.json").write_text(json.dumps(inputs), encoding="utf-8")
    planned = _terraform(workdir, "plan", "-input=false", "-var-file=inputs.tfvars.json")
    return planned.returncode, " ".join((planned.stdout + planned.stderr).split())


def test_every_catalogue_function_passes_the_function_module_validations(
    function_variables_root: Path,
    evaluated: dict[str, Any],  # noqa: F811
) -> None:
    functions = evaluated["functions"]
    for name, fn in functions.items():
        for admin_access in ("iap", "network") if name == "admin" else ("iap",):
            code, output = _plan_function(
                function_variables_root, _function_inputs(fn, admin_access)
            )
            assert code == 0, f"{name} ({admin_access}): {output}"


def test_function_module_refuses_inconsistent_access_and_dead_letter_settings(
    function_variables_root: Path,
    evaluated: dict[str, Any],  # noqa: F811
) -> None:
    functions = evaluated["functions"]
    cases = [
        ({**_function_inputs(functions["auth"], "iap"), "access": "iap"}, "Public ingress"),
        (
            {**_function_inputs(functions["admin"], "iap"), "access": "load_balancer"},
            "Public ingress",
        ),
        ({**_function_inputs(functions["admin"], "iap"), "access": "open"}, "access must be"),
        (
            {
                **_function_inputs(functions["notifier"], "iap"),
                "push_trigger": {"topic_id": "t", "dead_letter_after": 101},
            },
            "dead_letter_after must be between 5 and 100",
        ),
        (
            {**_function_inputs(functions["admin"], "iap"), "iap_members": ["allUsers"]},
            "never admit allUsers",
        ),
    ]
    for inputs, message in cases:
        code, output = _plan_function(function_variables_root, inputs)
        assert code != 0, inputs
        assert message in output, output
