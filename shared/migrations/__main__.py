"""`python -m shared.migrations [revision]`: upgrade the configured database."""

import sys

from shared.config import get_config
from shared.migrations import upgrade

if __name__ == "__main__":
    url = get_config().database_url
    if not url:
        sys.exit("Set DATABASE_URL (for Cloud SQL, run through the Cloud SQL Auth Proxy).")
    upgrade(url, sys.argv[1] if len(sys.argv) > 1 else "head")
