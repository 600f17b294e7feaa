"""What a gap cluster proposes to the knowledge base: a draft article (id, category, title,
the cluster's questions as examples, the operator's reply as the answer draft), for an
admin to correct before it is written (`knowledge_base.authoring`)."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.reports.gaps import Cluster
from knowledge_base.model import Article
from knowledge_base.text import words

#: Words that say nothing about the topic, left out of a proposed id.
_FILLER = frozenset("a an the i my me we you your is are do does can could would how what "
                    "when where why which to of for in on at and or it this that there "
                    "please hello hi le la les un une de des du je mon ma mes est et ou "
                    "een het de ik mijn is en of der die das ein eine ich mein ist und".split())
MAX_ID_WORDS = 5


def proposed_id(cluster: Cluster, taken: Mapping[str, Article]) -> str:
    """A few topic words of the cluster's first question, unique among `taken`."""
    topic = [w for w in words(cluster.questions[0] if cluster.questions else "")
             if w not in _FILLER and len(w) > 1][:MAX_ID_WORDS]
    base = "-".join(topic)[:60].strip("-") or f"gap-{cluster.key}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def proposal(cluster: Cluster, articles: Mapping[str, Article]) -> dict[str, str]:
    """The draft form's fields, filled in from the cluster."""
    tried = articles.get(cluster.article_id or "")
    return {
        "id": proposed_id(cluster, articles),
        "category": tried.category if tried is not None else "information",
        "language": cluster.language,
        "title": cluster.questions[0] if cluster.questions else "",
        "questions": "\n".join(cluster.questions),
        "answer": cluster.replies[0] if cluster.replies else "",
    }


def article_data(form: Mapping[str, str]) -> dict[str, object]:
    """The article file a submitted draft form describes (validated when written)."""
    questions = [q for q in form.get("questions", "").splitlines() if q.strip()]
    return {
        "id": form.get("id", "").strip(),
        "category": form.get("category", ""),
        "translations": {form.get("language", ""): {
            "title": form.get("title", "").strip(),
            "questions": questions,
            "answer": form.get("answer", "").replace("\r\n", "\n"),
        }},
    }
