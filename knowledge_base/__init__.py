"""The knowledge base: article files, the matcher, answer decisions and admin tools.

model (articles) · files + schema (loading YAML) · text + features + index (matching) ·
decide (answer / clarify / hand off) · language · signals · render · lint · cases + cli.
No web or storage code: the gateway wraps this package.
"""
