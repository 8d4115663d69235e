"""ASGI entry point (for an ASGI server; gunicorn uses wsgi.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tcpquiz.settings")

application = get_asgi_application()
