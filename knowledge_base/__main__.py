"""`python -m knowledge_base lint|ask|test ...`."""

import sys

from knowledge_base.cli import main

raise SystemExit(main(sys.argv[1:]))
