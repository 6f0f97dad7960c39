"""The GovStack Registration Building Block API under ``/govstack/`` (see docs/api.md, GovStack section).

The same services and selectors as the web and API v1 answer it: the
catalogue for services and e-forms, casework's decisions for statistics.
This package only maps GovStack's shapes and identity onto them.
"""
