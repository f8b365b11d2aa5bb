"""Print the service's OpenAPI document: ``python -m app.openapi > web/openapi.json``.

The web app's types are generated from it at build time (openapi-typescript), so the app's
build fails when the app and the API disagree.
"""

from __future__ import annotations

import json
import sys

from app.main import create_app
from app.settings import Settings


def main() -> None:
    """Write the spec of an app on default settings to standard output (no database is opened)."""
    spec = create_app(Settings()).openapi()
    json.dump(spec, sys.stdout, indent=1, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
