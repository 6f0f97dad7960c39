"""Copy the GOV.UK Frontend build from node_modules into govserve's static tree.

The compiled CSS refers to its fonts and images as ``/assets/...``, so those go
to ``govserve/web/public/assets`` (served at the site root by whitenoise) and
the CSS and JavaScript to ``govserve/web/static/govuk``. The gettext
catalogues are compiled (scripts/i18n.py) when their .mo is out of date.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
STATIC = ROOT / "govserve" / "web" / "static" / "govuk"
PUBLIC_ASSETS = ROOT / "govserve" / "web" / "public" / "assets"


def main() -> int:
    if not DIST.is_dir():
        sys.stderr.write(f"govserve setup: ERROR: {DIST} is missing: run 'npm ci' first\n")
        return 1
    STATIC.mkdir(parents=True, exist_ok=True)
    for name in (
        "govuk-frontend.min.css",
        "govuk-frontend.min.css.map",
        "govuk-frontend.min.js",
        "govuk-frontend.min.js.map",
    ):
        shutil.copy2(DIST / name, STATIC / name)
    if PUBLIC_ASSETS.exists():
        shutil.rmtree(PUBLIC_ASSETS)
    shutil.copytree(DIST / "assets", PUBLIC_ASSETS)
    # The compiled Welsh catalogue is committed (a test keeps it in step with the .po); compile
    # again in Python in case the .po was edited by hand (msgfmt may not be installed).
    import i18n  # noqa: PLC0415 - scripts/i18n.py, beside this script

    for path in i18n.compile_catalogues():
        sys.stderr.write(f"govserve setup: compiled {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
