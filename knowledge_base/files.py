"""Reading KB articles from YAML files, with errors that point at file and line.

Admins edit these files by hand, so every problem is reported as `path:line: message`,
and one broken file never keeps the others from loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rapidfuzz import process

from knowledge_base.errors import KBFileError
from knowledge_base.model import Article, Translation
from knowledge_base.schema import ArticleFile

Location = tuple[str | int, ...]


@dataclass
class LoadResult:
    articles: dict[str, Article] = field(default_factory=dict)
    errors: list[KBFileError] = field(default_factory=list)
    #: every file read -> ids of the articles it provided (empty for a broken file)
    files: dict[Path, list[str]] = field(default_factory=dict)


Parsed = tuple[list[tuple[Article, int | None]], list[KBFileError]]


class FileCache:
    """Each file's parse, kept by its modification time and size: a reload reads again only
    the files that changed (PyYAML's pure-Python composer, which gives the lines of errors,
    took 5.9 s of a 7.6 s reload of a 150-file KB, on the loaded development machine).

    One `load_directory` at a time per cache (the gateway's reloads are serialised)."""

    def __init__(self) -> None:
        self._parsed: dict[Path, tuple[tuple[int, int], Parsed]] = {}
        #: files parsed (not taken from the cache) by the last load
        self.parsed = 0

    def read(self, files: list[Path]) -> dict[Path, Parsed]:
        kept: dict[Path, tuple[tuple[int, int], Parsed]] = {}
        self.parsed = 0
        for file in files:
            try:
                stat = file.stat()
                stamp = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamp = (-1, -1)  # gone meanwhile: _read says so, and it is not kept
            found = self._parsed.get(file)
            if found is None or found[0] != stamp or stamp[0] < 0:
                found = (stamp, _read(file))
                self.parsed += 1
            kept[file] = found
        self._parsed = kept  # deleted files leave the cache
        return {file: parsed for file, (_, parsed) in kept.items()}


def load_directory(path: Path, cache: FileCache | None = None) -> LoadResult:
    """Load every *.yaml / *.yml below `path` (hidden files and folders skipped); with a
    `cache`, files unchanged since its last load are not parsed again."""
    result = LoadResult()
    if not path.is_dir():
        return result
    where: dict[str, Path] = {}
    files = _kb_files(path)
    parsed = cache.read(files) if cache is not None else {f: _read(f) for f in files}
    for file in files:
        result.files[file] = []
        articles, errors = parsed[file]
        result.errors.extend(errors)
        for article, line in articles:
            if article.id in where:
                message = f"duplicate article id '{article.id}' (also in {where[article.id]})"
                result.errors.append(KBFileError(file, line, message))
                continue
            where[article.id] = file
            result.articles[article.id] = article
            result.files[file].append(article.id)
    return result


def load_file(path: Path) -> list[Article]:
    """Load one file; raises KBFileError for the first problem in it."""
    articles, errors = _read(path)
    if errors:
        raise errors[0]
    return [article for article, _ in articles]


def _kb_files(root: Path) -> list[Path]:
    files = [*root.rglob("*.yaml"), *root.rglob("*.yml")]
    visible = [f for f in files if not any(p.startswith(".") for p in f.relative_to(root).parts)]
    return sorted(f for f in visible if f.is_file())


def _read(path: Path) -> Parsed:
    """Parse and validate one file: (article, line of its id) pairs, or the file's errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [KBFileError(path, None, f"cannot read file: {exc}")]
    try:
        data, lines, duplicates = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return [], [KBFileError(path, line, f"invalid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return [], [KBFileError(path, None, f"invalid YAML: {exc}")]
    if duplicates:
        return [], [KBFileError(path, line, f"key '{key}' appears twice")
                    for key, line in duplicates]
    if data is None:
        return [], [KBFileError(path, 1, "empty file: expected one article")]
    try:
        model = ArticleFile.model_validate(data, strict=True)
    except ValidationError as exc:
        errors = [_validation_error(path, error, lines) for error in exc.errors()]
        return [], sorted(errors, key=lambda e: e.line or 0)
    translations: dict[str, Translation] = {
        lang: Translation(t.title.strip(), tuple(q.strip() for q in t.questions), t.answer)
        for lang, t in model.translations.items()
    }
    article = Article(id=model.id, category=model.category, translations=translations,
                      queue=model.queue, requires_verification=model.requires_verification,
                      handoff=model.handoff, source=path, action=model.action)
    return [(article, lines.get(("id",), 1))], []


def _parse_yaml(text: str) -> tuple[Any, dict[Location, int], list[tuple[str, int]]]:
    """The document, the line of every key / list item in it, and keys given twice."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    lines: dict[Location, int] = {}
    duplicates: list[tuple[str, int]] = []
    if node is not None:
        _index_lines(node, (), lines, duplicates)
    return data, lines, duplicates


def _index_lines(node: yaml.Node, loc: Location, lines: dict[Location, int],
                 duplicates: list[tuple[str, int]]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append((".".join(map(str, (*loc, key))), line))
            seen.add(key)
            lines[(*loc, key)] = line
            _index_lines(value_node, (*loc, key), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _index_lines(item, (*loc, index), lines, duplicates)


def _validation_error(path: Path, error: Any, lines: dict[Location, int]) -> KBFileError:
    """Turn one pydantic error into `path:line: message` at the offending key."""
    loc: Location = tuple(part for part in error["loc"] if part != "[key]")
    line = None
    for depth in range(len(loc), -1, -1):  # deepest key that exists in the file
        if loc[:depth] in lines:
            line = lines[loc[:depth]]
            break
    if line is None:
        line = 1
    return KBFileError(path, line, _message(error, loc))


def _message(error: Any, loc: Location) -> str:
    dotted = ".".join(str(part) for part in loc) or "article"
    kind = error["type"]
    if kind == "extra_forbidden":
        known = ArticleFile.known_keys(loc[:-1])
        guess = process.extractOne(str(loc[-1]), known, score_cutoff=70) if known else None
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        return f"unknown key '{dotted}'{hint}"
    if kind == "missing":
        return f"missing required key '{dotted}'"
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
    return f"{dotted}: {error['msg']}{shown}"
