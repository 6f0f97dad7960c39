"""The tree is the architecture: each app imports only apps above it, or a kernel.

Order and kernels: ARCHITECTURE.md and docs/decisions/0002-platform-kernels.md.
Tests are exempt (they may build data through any app).
"""

from __future__ import annotations

import ast
from pathlib import Path

ORDER = [
    "core",
    "audit",
    "accounts",
    "rules",
    "catalogue",
    # documents before journeys: docs/decisions/0004-documents-below-journeys.md
    "documents",
    "journeys",
    "casework",
    "payments",
    "notifications",
    "integrations",
    "analytics",
    "privacy",
    "api",
    "web",
]
# The kernels' typed errors are part of their interface (callers catch them).
KERNELS = {
    "govserve.privacy.crypto",
    "govserve.privacy.errors",
    "govserve.notifications.email",
    "govserve.notifications.errors",
}
# Infrastructure every layer may use: the base layout and request plumbing of `web`.
SHARED = {"govserve.web.jinja", "govserve.web.ratelimit"}
ROOT = Path(__file__).resolve().parent.parent / "govserve"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from govserve.privacy import crypto` imports govserve.privacy.crypto.
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _allowed(importer_app: str, module: str) -> bool:
    parts = module.split(".")
    if parts[0] != "govserve" or len(parts) < 2 or parts[1] not in ORDER:
        return True
    target_app = parts[1]
    if target_app == importer_app:
        return True
    if any(module == kernel or module.startswith(f"{kernel}.") for kernel in KERNELS | SHARED):
        return True
    return ORDER.index(target_app) < ORDER.index(importer_app)


def _violations() -> list[str]:
    violations: list[str] = []
    for app in ORDER:
        for path in sorted((ROOT / app).rglob("*.py")) if (ROOT / app).is_dir() else []:
            if "tests" in path.relative_to(ROOT).parts:
                continue
            for line, module in _imports(path):
                if not _allowed(app, module):
                    violations.append(f"govserve/{path.relative_to(ROOT)}:{line} imports {module}")
    return violations


def test_every_app_imports_only_apps_above_it_or_a_kernel() -> None:
    assert _violations() == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    assert not _allowed("accounts", "govserve.casework.services")
    assert _allowed("casework", "govserve.accounts.selectors")
    assert _allowed("accounts", "govserve.privacy.crypto")
    assert not _allowed("accounts", "govserve.privacy.retention")
