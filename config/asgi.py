"""ASGI entry point (uvicorn config.asgi:application).

Database connections are closed after every request here (``DATABASE_CONN_MAX_AGE=0``
unless the environment says otherwise): Django runs each ASGI request's synchronous
code, database work included, in a thread of its own, so a connection kept for the
next request would be left open in a thread nothing uses again (Django ticket #33497).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
application = get_asgi_application()
