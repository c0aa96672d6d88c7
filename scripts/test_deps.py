"""Install what the test suite needs beyond Python packages: a Neo4j server (from Maven Central) and Chromium.

Run by ``make test`` before pytest. Under ``CI=true`` a missing piece is an error;
on a laptop it is a note, and the tests that need it skip saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from neo4j_server import fetch, java_available

CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = {
    "/usr/bin/chromium": "chromium",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc": "fonts-noto-cjk",
    "/usr/bin/wrk": "wrk",
}
"""Debian packages the suite uses: Chromium for the browser tests, CJK fonts so that screenshots of
Chinese pages can be read, wrk for the benchmark smoke run."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def main() -> int:
    """Fetch Neo4j and install Chromium where possible; return non-zero in CI when one is missing."""
    problems = []
    if java_available():
        print("test deps: Neo4j 5.26 (cached after the first run) …", flush=True)
        fetch(quiet=True)
    else:
        problems.append("Java 17 is missing: the Neo4j tests will skip (install openjdk-17-jre-headless)")
    missing = [pkg for path, pkg in APT_PACKAGES.items() if not Path(path).exists()]
    if missing:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print(f"test deps: installing Debian's {' and '.join(missing)} …", flush=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL
            )
        else:
            problems.append(
                f"{', '.join(missing)} missing: browser tests and the benchmark smoke run "
                f"will skip (apt-get install {' '.join(missing)})"
            )
    for problem in problems:
        print(f"test deps: {problem}", file=sys.stderr)
    return 1 if problems and IN_CI else 0


if __name__ == "__main__":
    sys.exit(main())
