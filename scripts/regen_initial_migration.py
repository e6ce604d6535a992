"""Regenerate models/migrations/versions/0001_initial_schema.py from the models.

Only while 0001 is the newest schema migration that has not shipped to a production
database; after that, add a new revision with `alembic revision --autogenerate` instead.
"""

import re
import sys
import tempfile
from pathlib import Path

from alembic import command

from api.db import make_engine, migration_config

VERSIONS = Path(__file__).resolve().parent.parent / "models" / "migrations" / "versions"
HEADER_NOTE = (
    "\nEnum types carry no name here, so PostgreSQL names their CHECK constraints itself\n"
    "(two columns of one enum in one table would otherwise collide).\n"
)


def main() -> None:
    target = VERSIONS / "0001_initial_schema.py"
    later = [p for p in VERSIONS.glob("*.py") if p.name != target.name]
    with tempfile.TemporaryDirectory() as tmp:
        parked = Path(tmp)
        for p in later:
            p.rename(parked / p.name)
        target.unlink(missing_ok=True)
        try:
            engine = make_engine(f"sqlite:///{tmp}/empty.db")
            command.revision(
                migration_config(engine), message="initial schema", autogenerate=True, rev_id="0001"
            )
        finally:
            for p in parked.glob("*.py"):
                p.rename(VERSIONS / p.name)
    text = target.read_text()
    text = re.sub(r"(sa\.Enum\([^)]*), name='[a-z]+'", r"\1", text)
    text = text.replace('"""initial schema\n', '"""initial schema\n' + HEADER_NOTE, 1)
    text = re.sub(r"Create Date: .*", "Create Date: 2026-11-29", text)
    target.write_text(text)
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
