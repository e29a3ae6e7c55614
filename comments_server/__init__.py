"""The comment server: threaded reader comments, the embeddable widget and the author's dashboard.

Importing the package loads nothing else: the app factory is `comments_server.app.create_app`,
and `comments_server.site` is the one door the generator (`blogengine`) comes through."""
