"""The engine imports nothing outside the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, pkgutil, sys, importlib
before = set(sys.modules)
import questions.engine
for info in pkgutil.walk_packages(questions.engine.__path__, "questions.engine."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
outside = sorted(
    name for name in set(sys.modules) - before
    if name.split(".")[0] not in sys.stdlib_module_names
    and name.split(".")[0] not in ("questions", "__main__")
)
print(json.dumps({"modules": sorted(sys.modules), "outside": outside}))
"""


def test_engine_imports_only_the_standard_library() -> None:
    """Imported in a fresh interpreter, the engine loads no django, celery or any non-stdlib module."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{PROBE}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(result.stdout)
    assert not any(name.split(".")[0] in ("django", "celery", "rest_framework") for name in found["modules"])
    assert found["outside"] == []
    assert set(n for n in found["modules"] if n.startswith("questions.")) <= {
        n for n in found["modules"] if n.startswith("questions.engine")
    } | {"questions"}
