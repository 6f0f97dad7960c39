"""The journey's own steps and the page ids a definition may not take (govserve check refuses them)."""

from __future__ import annotations

from django.urls import URLPattern

from govserve.catalogue.definitions.validate import RESERVED_PAGE_IDS
from govserve.journeys import urls

PREFIX = "apply/<uuid:application_id>/"


def _step_segments() -> set[str]:
    """Return the literal last segments of ``/apply/<id>/<step>`` routes (the journey's own steps)."""
    segments = set()
    for pattern in urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        rest = route.removeprefix(PREFIX)
        if route.startswith(PREFIX) and rest and "/" not in rest and "<" not in rest:
            segments.add(rest)
    return segments


def test_every_step_address_is_a_reserved_page_id() -> None:
    # given the steps the journey serves at /apply/<id>/<step>, before the question page route
    steps = _step_segments()

    # then the definition check refuses exactly those as page ids: a page with one of them could never be reached
    assert steps == {"documents", "fees", "check-answers", "confirmation", "save-and-return"}
    assert steps == RESERVED_PAGE_IDS


def test_the_steps_are_matched_before_the_question_page() -> None:
    # given the order of the routes (Django takes the first that matches)
    routes = [str(pattern.pattern) for pattern in urls.urlpatterns if isinstance(pattern, URLPattern)]
    question = routes.index(f"{PREFIX}<slug:page_id>")

    # then every step comes first, which is why a page may not be called like one
    for step in RESERVED_PAGE_IDS:
        assert routes.index(f"{PREFIX}{step}") < question, step
