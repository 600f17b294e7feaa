"""`kb lint` on articles' actions: what would fail in front of a customer is an error
before the edit is published (unknown integration, undeclared slot, broken template)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.cli import main
from knowledge_base.files import load_directory
from knowledge_base.lint import lint

ARTICLE = """\
id: ride
category: sales
requires_verification: {verified}
action:
  integration: backoffice
  method: {method}
  path: {path}
  slots:
    - name: shop
      choices: [Ghent, Antwerp]
      prompt: {{en: "Which shop?", fr: "Quel magasin ?"}}
{confirm}  outcomes:
    - answer:
        en: "{answer}"
translations:
  en: {{title: Book a ride, questions: [book a test ride]}}
  fr: {{title: Réserver un essai, questions: [réserver un essai]}}
"""


def _write(tmp_path: Path, **values: str) -> Path:
    fields = {"verified": "false", "method": "GET", "path": "/rides/{shop}", "confirm": "",
              "answer": "Free: {{ response.slots | join(', ') }}", **values}
    (tmp_path / "ride.yaml").write_text(ARTICLE.format(**fields), encoding="utf-8")
    return tmp_path


def _messages(directory: Path, integrations: set[str] | None = None) -> list[str]:
    return [f"{i.severity}: {i.message}" for i in lint(load_directory(directory), None,
                                                          integrations)
            if "confused" not in i.message]


def test_a_correct_action_has_only_the_missing_translation_warning(tmp_path: Path) -> None:
    assert _messages(_write(tmp_path), {"backoffice"}) == [
        "warning: action.outcomes[0].answer: missing translation(s): fr (customers get the"
        " English or first one instead)"]


@pytest.mark.parametrize(("values", "expected"), [
    ({"path": "/rides/{shop}/{day}"}, "'{day}' is used in the path, query or body but is no"
                                      " slot (slots: shop)"),
    ({"path": "/customers/{customer_number}/rides"}, "uses {customer_number} without"
                                                     " requires_verification"),
    ({"answer": "{{ response.slots "}, "outcomes[0].answer.en: template error at line 1"),
    ({"answer": "{{ order.status }}"}, "unknown name 'order'"),
    ({"answer": "{{ slots.day }}"}, "slots.day is not a declared slot"),
])
def test_action_mistakes_are_errors(tmp_path: Path, values: dict[str, str],
                                    expected: str) -> None:
    errors = [m for m in _messages(_write(tmp_path, **values), {"backoffice"})
              if m.startswith("error")]
    assert len(errors) == 1 and expected in errors[0], errors


def test_a_post_without_confirmation_does_not_load(tmp_path: Path) -> None:
    (error,) = load_directory(_write(tmp_path, method="POST")).errors
    assert "a POST changes something" in error.message


def test_the_integrations_come_from_the_gateway_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = _write(tmp_path / "kb" if (tmp_path / "kb").mkdir() is None else tmp_path)
    config = tmp_path / "gateway.toml"
    config.write_text('[integrations.erp]\nbase_url = "http://127.0.0.1:1"\n', encoding="utf-8")
    assert main(["lint", str(kb), "--config", str(config)]) == 1
    assert "unknown integration 'backoffice' (known: erp)" in capsys.readouterr().out
    assert main(["lint", str(kb), "--integrations", "backoffice"]) == 0
