"""Canned answers: the knowledge base's answers, in the customer's language, for the reply box.

Each article gives its translation in the ticket's language, else its own fallback
(`Article.translation`), with the placeholders filled for this customer and ticket, so
what the operator inserts is what the bot would have said. The page filters them itself.
"""

from __future__ import annotations

from typing import Any

from gateway.config.settings import Settings
from gateway.models import Customer, Ticket
from knowledge_base.model import Article
from knowledge_base.render import render_answer


def language_of(settings: Settings, ticket: Ticket, conversation_language: str | None,
                customer: Customer) -> str:
    """The customer's language: the conversation's (latest detected), the ticket's, the
    customer's, or the default."""
    return (conversation_language or ticket.language or customer.language
            or settings.languages.default)


def placeholders(settings: Settings, ticket: Ticket,
                 customer: Customer) -> dict[str, dict[str, object]]:
    """The values of `{customer.name}`, `{company.phone}`, `{ticket.id}`… for this ticket."""
    company = settings.company
    return {
        "customer": {"name": customer.name, "email": customer.email or ""},
        "company": {"name": company.name, "email": company.email, "phone": company.phone},
        "ticket": {"id": ticket.id},
    }


def answers(articles: dict[str, Article], language: str, settings: Settings, ticket: Ticket,
            customer: Customer) -> list[dict[str, Any]]:
    context = placeholders(settings, ticket, customer)
    found = []
    for article in articles.values():
        used, translation = article.translation(language)
        found.append({
            "id": article.id, "title": translation.title, "language": used,
            "category": article.category, "questions": list(translation.questions),
            "answer": render_answer(translation.answer, context).strip(),
        })
    return sorted(found, key=lambda item: (item["language"] != language,
                                           str(item["title"]).casefold()))
