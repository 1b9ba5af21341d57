"""``python -m sandbox.demo`` (what ``make demo`` runs): exit with the demo's status."""

import sys

from sandbox.demo.story import main

sys.exit(main())
