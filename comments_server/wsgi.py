"""WSGI entry for production: `gunicorn comments_server.wsgi:app`, configured by COMMENTS_* variables."""

import gc

from comments_server.app import create_app

app = create_app()
# Everything loaded so far (Flask, SQLAlchemy, Markdown, the sanitiser: some 100,000 objects) lives as
# long as the process. Frozen, the collector stops walking it: a full collection paused a request
# for 30-100 ms, which showed in the p99 latency; now it only walks what requests leave behind.
gc.collect()
gc.freeze()
