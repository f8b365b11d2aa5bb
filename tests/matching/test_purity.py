"""matching/ is a library: importing it must not pull in the web or storage stack."""

from __future__ import annotations

import subprocess
import sys


def test_matching_imports_no_web_or_database_code() -> None:
    code = (
        "import sys, matching, matching.plan, matching.graph, matching.suggest\n"
        "banned = ('fastapi', 'starlette', 'pydantic', 'sqlalchemy', 'app', 'schemas', 'uvicorn')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
