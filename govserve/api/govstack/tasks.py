"""The GovStack task operations (``/tasks``, ``/tasks/{taskId}``, ``/tasks/{taskId}/complete``).

Their routes are listed here and appended to ``govstack/urls.py``, so the task
operations and the application operations can be worked on apart.
"""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
