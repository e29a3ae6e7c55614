"""Fediverse replies: the posts' announcements are polled through the Mastodon client API (which
Mastodon, GoToSocial, Akkoma and Pleroma serve), their replies stored as comments, and the
author's dashboard answers posted back. client.py talks HTTP; poller.py decides what and when."""
