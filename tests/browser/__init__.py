"""Browser tests: Playwright driving Debian's chromium against a live server (docs/testing.md)."""
