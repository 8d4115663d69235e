"""No run of 24 or more characters is copied from the source material (shared/tools/seed_overlap.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

TOOL = Path(settings.BASE_DIR).parent / "shared" / "tools" / "seed_overlap.py"


def test_lessons_no_text_copied_from_seeds() -> None:
    """The overlap tool finds no shared run of 24+ characters; in CI a missing tool is a failure."""
    assert TOOL.is_file(), f"the seed-overlap tool is missing at {TOOL} (../shared must sit beside the repo)"
    result = subprocess.run(
        [sys.executable, str(TOOL), "."],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
