import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_matcher_loads_no_web_or_database_package() -> None:
    code = (
        "import sys, matcher, matcher.ranker, matcher.evaluation;"
        "names = ('fastapi', 'sqlmodel', 'sqlalchemy', 'api', 'models');"
        "bad = [m for m in names if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""
