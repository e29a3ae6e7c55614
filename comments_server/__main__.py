"""`python -m comments_server serve|migrate`: the same commands as `blogengine comments`."""

from comments_server.cli import comments

comments(prog_name="python -m comments_server")
