"""The production compose file agrees with what the code reads (no Docker engine runs here to try it)."""

from __future__ import annotations

from pathlib import Path

import yaml

from graph_service.core.settings import Neo4jSettings, Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _env_names(model: type, prefix: str) -> set[str]:
    return {f"{prefix}{name}".upper() for name in model.model_fields}


def test_services_and_images() -> None:
    services = _compose()["services"]
    assert set(services) == {"neo4j", "api"}
    assert services["neo4j"]["image"] == "neo4j:5.26-community"
    assert "neo4j-data:/data" in services["neo4j"]["volumes"]
    assert "neo4j-data" in _compose()["volumes"]
    assert services["api"]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_api_waits_for_a_healthy_neo4j_and_listens_on_8000() -> None:
    services = _compose()["services"]
    assert services["api"]["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "healthcheck" in services["neo4j"] and "healthcheck" in services["api"]
    assert "8000:8000" in services["api"]["ports"]
    assert "EXPOSE 8000" in (ROOT / "Dockerfile").read_text()
    assert '--port", "8000"' in (ROOT / "Dockerfile").read_text()


def test_api_environment_names_are_the_settings_the_code_reads() -> None:
    env = _compose()["services"]["api"]["environment"]
    known = _env_names(Settings, "INNOGRAPH_") | _env_names(Neo4jSettings, "NEO4J_")
    unknown = set(env) - known
    assert not unknown, f"compose sets variables the code never reads: {unknown}"
    assert env["INNOGRAPH_BACKEND"] == "neo4j"
    assert {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE"} <= set(env)
    # the URI names the compose service, on Bolt's port
    assert env["NEO4J_URI"] == "bolt://neo4j:7687"


def test_password_comes_from_the_environment_not_the_file() -> None:
    services = _compose()["services"]
    assert "${NEO4J_PASSWORD" in services["neo4j"]["environment"]["NEO4J_AUTH"]
    assert services["api"]["environment"]["NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD")


def test_settings_read_the_same_variables(monkeypatch) -> None:
    monkeypatch.setenv("INNOGRAPH_BACKEND", "neo4j")
    monkeypatch.setenv("NEO4J_URI", "bolt://neo4j:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret")
    settings = Settings()
    assert settings.backend == "neo4j"
    assert settings.neo4j.uri == "bolt://neo4j:7687"
    assert settings.neo4j.password.get_secret_value() == "s3cret"
