"""``python -m questions.engine.scenario FILE|-``: run a scenario, one JSON line per step."""

import sys

from questions.engine.scenario import main

sys.exit(main())
