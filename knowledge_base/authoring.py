"""Writing to the knowledge base from a report: a new draft article, or more example
questions for an existing one. The files are the same plain YAML admins edit, so `kb lint`
and the gateway's hot reload read them like any other.

Safe by construction: a new file's name is the article id (which the schema allows only as
`a-z0-9` words joined by `-`), it is created with O_EXCL (never overwriting anything) and
only inside the KB directory; an existing article's file is edited only when it lies inside
the KB directory, by inserting list items (comments and layout kept), and the result must
load as an article again before it replaces the file (atomically).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge_base.errors import AuthoringError
from knowledge_base.schema import ArticleFile

#: Where drafts go, below the KB directory (the loader reads every folder).
DRAFTS = "drafts"
#: Example questions one request may add (a cluster's examples, not a data dump).
MAX_QUESTIONS = 50
MAX_QUESTION_CHARS = 300


def _inside(root: Path, path: Path) -> Path:
    resolved, base = path.resolve(), root.resolve()
    if not resolved.is_relative_to(base):
        raise AuthoringError(f"{path} is outside the knowledge-base directory")
    return resolved


def clean_questions(questions: list[str]) -> list[str]:
    """One line each, stripped, deduplicated (case-insensitively), bounded."""
    seen: set[str] = set()
    kept: list[str] = []
    for question in questions:
        text = " ".join(question.split())[:MAX_QUESTION_CHARS]
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return kept[:MAX_QUESTIONS]


def write_draft(root: Path, data: dict[str, object]) -> Path:
    """Validate `data` as an article file and create `<root>/drafts/<id>.yaml`; raise
    `AuthoringError` when it is not a valid article or the file exists."""
    try:
        article = ArticleFile.model_validate(data, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AuthoringError(f"{where}: {first['msg']}") from None
    folder = _inside(root, root / DRAFTS)
    folder.mkdir(parents=True, exist_ok=True)
    path = _inside(root, folder / f"{article.id}.yaml")
    text = yaml.safe_dump(article.model_dump(exclude_defaults=True), allow_unicode=True,
                          sort_keys=False, width=100)
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise AuthoringError(f"{path.name} exists already: choose another id") from None
    return path


def add_examples(root: Path, source: Path, language: str, questions: list[str]) -> int:
    """Append `questions` to the `language` questions of the article in `source`; return
    how many were new. The file must be inside `root` and stay a valid article."""
    path = _inside(root, source)
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise AuthoringError(f"{path.name} does not load now: {exc}") from None
    items = _questions_node(node, language)
    known = {str(item.value).strip().casefold() for item in items.value}
    new = [q for q in clean_questions(questions) if q.casefold() not in known]
    if not new:
        return 0
    if items.flow_style or not items.value:
        raise AuthoringError(f"{path.name}: the {language} questions are not a block list")
    last = items.value[-1]
    indent = " " * (last.start_mark.column - 2)
    lines = text.splitlines(keepends=True)
    at = last.end_mark.line + (1 if last.end_mark.column else 0)
    added = [f"{indent}- {json.dumps(q, ensure_ascii=False)}\n" for q in new]
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    edited = "".join(lines[:at] + added + lines[at:])
    try:
        ArticleFile.model_validate(yaml.safe_load(edited), strict=True)
    except (ValidationError, yaml.YAMLError) as exc:
        raise AuthoringError(f"{path.name}: the edit would not load ({exc})") from None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(edited)
    os.replace(temporary, path)
    return len(new)


def _questions_node(node: yaml.Node | None, language: str) -> yaml.SequenceNode:
    def child(parent: yaml.Node | None, key: str) -> yaml.Node | None:
        if isinstance(parent, yaml.MappingNode):
            for k, v in parent.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    return v  # type: ignore[no-any-return]
        return None

    found = child(child(child(node, "translations"), language), "questions")
    if not isinstance(found, yaml.SequenceNode):
        raise AuthoringError(f"the article has no {language} questions to add to")
    return found
