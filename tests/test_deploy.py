"""The deployment files agree with hearth: the compose file's backends exist in the config that
hearth's own parser accepts, secrets are required rather than defaulted, hearth is published on
loopback only, and the image builds llama.cpp as portably as scripts/install.sh does."""

from __future__ import annotations

import re

import yaml

from conftest import ROOT
from hearth.backends import registry

DEPLOY = ROOT / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_backends_are_configured(monkeypatch):
    monkeypatch.setenv("HEARTH_CONFIG", str(DEPLOY / "config.toml"))
    specs = registry.specs()
    compose = _compose()
    command = " ".join(compose["services"]["hearth"]["command"])
    default = re.search(r"\$\{HEARTH_BACKEND:-(\w+)\}", command).group(1)
    assert default in specs
    for name, service in (("llamacpp", "llamacpp"), ("vllm", "vllm")):
        spec = specs[name]
        assert spec.kind == "openai" and f"//{service}:" in spec.base_url
        assert service in compose["services"]
    env = (DEPLOY / "example.env").read_text()
    assert "HEARTH_BACKEND=llamacpp" in env


def test_secrets_are_required_and_hearth_is_on_loopback():
    hearth = _compose()["services"]["hearth"]
    assert ":?" in hearth["environment"]["HEARTH_TOKEN"]
    assert hearth["environment"]["HEARTH_DB"].startswith("postgresql://")
    assert all(p.startswith("127.0.0.1:") for p in hearth["ports"])
    assert ":?" in _compose()["services"]["db"]["environment"]["POSTGRES_PASSWORD"]


def test_image_builds_llama_cpp_like_the_install_script():
    flags = re.search(r'CMAKE_ARGS:-(.+?)\}', (ROOT / "scripts" / "install.sh").read_text()).group(1)
    assert f'CMAKE_ARGS="{flags}"' in (DEPLOY / "Dockerfile").read_text()
