"""WSGI entry for production: `gunicorn comments_server.wsgi:app`, configured by COMMENTS_* variables."""

from comments_server.app import create_app

app = create_app()
