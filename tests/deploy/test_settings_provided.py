"""Every setting a service reads that has no production-safe default is provided, for
that service, both by docker-compose.yml and by the Kubernetes manifests (base and
production overlay). The settings classes, which service reads which, and the rule for
"must be provided" are in tests/deploy/settings_catalog.py: a new field is required until
it is declared a tunable there."""

from __future__ import annotations

import pytest

from shared.infra.settings import SERVICES, ServiceSettings
from tests.deploy import k8s_manifests as k8s
from tests.deploy.settings_catalog import GLOBAL_SETTINGS, TUNABLES, image_environment, required_variables
from tests.deploy.test_compose import env_of
from tests.deploy.test_k8s import RENDERS, rendered


def test_tunables_name_real_fields():
    for cls, fields in TUNABLES.items():
        stale = set(fields) - set(cls.model_fields)
        assert not stale, f"{cls.__name__} has no fields {sorted(stale)} (tests/deploy/settings_catalog.py)"
        assert cls in GLOBAL_SETTINGS or cls is ServiceSettings, f"{cls.__name__} is not a settings class the services read"


@pytest.mark.parametrize("name", SERVICES)
def test_every_required_setting_is_provided_in_compose_and_kubernetes(name):
    required = required_variables(name)
    image = set(image_environment())  # deploy/Dockerfile ENV: every container of the image has it

    compose = set(env_of(name)) | image
    missing = {var: field for var, field in required.items() if var not in compose}
    assert not missing, f"docker-compose.yml does not set, for {name}: {missing}"

    for which in RENDERS:
        objects = rendered(which)
        container = k8s.pod_spec(k8s.find(objects, "Deployment", name))["containers"][0]
        provided = k8s.provided_names(container, objects) | image
        missing = {var: field for var, field in required.items() if var not in provided}
        assert not missing, f"deploy/k8s ({which}) does not set, for the {name} Deployment: {missing}"
