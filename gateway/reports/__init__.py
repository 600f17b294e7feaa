"""Reports for supervisors and admins: the dashboards' aggregates (computed in SQL on both
engines), their SVG charts, and what the bot could not answer (the knowledge-base gaps).

Between the bot and the console in the layers: it reads the store and the running knowledge
base, and the console shows what it computes. See docs/reports.md.
"""
