"""Blueprint "widget": serves the embeddable comment widget's files from static/ at /widget/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__, static_folder="static", static_url_path="/widget")
