"""Received Webmentions as readers see them: a reply from another blog in the baked page with its
site and a link to the original, likes and reposts as faces with a count, plain mentions listed
under the thread, and the author's answer marked up (h-entry, u-in-reply-to) so the other side can
verify it. Then the hostile corpus delivered as Webmention content, names and URLs: nothing unsafe
in the API or the baked page."""

from __future__ import annotations

import pytest

from comments_server.services import services
from tests.e2e.test_hostile_corpus import CORPUS, Audit, parse, risky_signatures, text_of, url_scheme
from tests.support.authoring import add_author, author_reply, login
from tests.support.remote_blog import h_card, h_entry_page, remote_blog  # noqa: F401  (fixture)
from tests.support.site import BASIC_CONFIG, post

THREAD = "/2024/05/a-post/"
TARGET = f"https://blog.example.com{THREAD}"


@pytest.fixture
def site(make_site, build_at):
    root = make_site({"content/posts/a-post.md": post("A post", "2024-05-01", "A post that takes comments.")},
                     config=BASIC_CONFIG)
    build_at(root)
    return root


@pytest.fixture
def app(make_app, site):
    app = make_app(DATABASE_URL=f"sqlite:///{site / 'comments.sqlite3'}",
                   THREADS_MANIFEST=str(site / "public" / "threads.json"),
                   WEBMENTION_ALLOW_HOSTS=["127.0.0.1"], MAX_LINKS=None, MAX_NAME_LENGTH=None)
    add_author(app)
    return app


def deliver(app, source):
    client = app.test_client()
    response = client.post("/webmention", data={"source": source, "target": TARGET})
    assert response.status_code == 202, response.get_data(as_text=True)


def run_jobs(app):
    svc = services(app)
    return svc.jobs.run_due(svc)


def page(site):
    return (site / "public" / "2024" / "05" / "a-post" / "index.html").read_bytes()


def test_baked_page_shows_replies_reactions_and_mentions(app, site, build_at, remote_blog):
    rita = h_card("Rita Remote", remote_blog.url + "/", remote_blog.url + "/rita.jpg")
    reply = remote_blog.page("/re", h_entry_page(about=TARGET, author=rita, content_html="<p>Nice <b>post</b>!</p>"))
    likes = [remote_blog.page(f"/like/{n}", h_entry_page(
        kind_property="u-like-of", about=TARGET, content_html="",
        author=h_card(name, remote_blog.url + f"/{name}", remote_blog.url + f"/{name}.png" if n else None)))
        for n, name in enumerate(["Lou", "Liz"])]
    repost = remote_blog.page("/repost", h_entry_page(kind_property="u-repost-of", about=TARGET, content_html="",
                                                      author=h_card("Ray", remote_blog.url + "/ray")))
    mention = remote_blog.page("/roundup", f'<html><head><title>Weekly roundup</title></head><body>'
                                           f'<a href="{TARGET}">good read</a></body></html>')
    for source in (reply, *likes, repost, mention):
        deliver(app, source)
    assert run_jobs(app) == 5
    client = app.test_client()
    login(client)
    [stored] = client.get("/api/comments", query_string={"thread": THREAD}).get_json()["comments"]
    author_reply(client, stored["id"], "Thank you, Rita.")
    build_at(site)

    soup = parse(page(site))
    remote = soup.select_one(f"#comment-{stored['id']}")
    assert "bec-remote" in remote["class"]
    assert text_of(remote.select_one(".bec-author")) == "Rita Remote"
    origin = remote.select_one(".bec-origin")
    assert origin["href"] == reply and text_of(origin) == "on 127.0.0.1"
    assert remote.select_one(".bec-avatar")["src"] == remote_blog.url + "/rita.jpg"
    assert str(remote.select_one(".bec-text").decode_contents()).strip() == "<p>Nice post!</p>"
    # The author's answer: an h-entry whose u-in-reply-to is the remote reply, so the Webmention
    # sent back verifies against this very page.
    answer = remote.select_one("ol.bec-replies > li")
    assert "h-entry" in answer["class"]
    assert answer.select_one("a.u-in-reply-to")["href"] == reply
    assert text_of(answer.select_one(".e-content")) == "Thank you, Rita."

    likes_row = soup.select_one(".bec-reactions .bec-likes")
    assert text_of(likes_row.select_one(".bec-reaction-count")) == "2 likes"
    faces = likes_row.select(".bec-face")
    assert [f["title"] for f in faces] == ["Lou", "Liz"]
    assert faces[0].select_one(".bec-face-name") is not None          # no photo: the name
    assert faces[1].select_one("img")["src"] == remote_blog.url + "/Liz.png"
    assert text_of(soup.select_one(".bec-reposts .bec-reaction-count")) == "1 repost"
    [listed] = soup.select(".bec-mentions li")
    assert listed.a["href"] == mention and text_of(listed.a) == "Weekly roundup"


def test_hostile_corpus_as_webmentions_is_inert_in_the_api_and_the_baked_page(app, site, build_at, remote_blog):
    benign = remote_blog.page("/benign", h_entry_page(
        about=TARGET, author=h_card("Bea", remote_blog.url + "/", remote_blog.url + "/bea.png")))
    deliver(app, benign)
    like = remote_blog.page("/benign-like", h_entry_page(
        kind_property="u-like-of", about=TARGET, content_html="",
        author=h_card("Lee", remote_blog.url + "/", remote_blog.url + "/lee.png")))
    deliver(app, like)
    run_jobs(app)
    build_at(site)
    baseline = risky_signatures(parse(page(site)))

    # Each payload as the content (raw HTML), as the author's name, as the author's URL and photo,
    # and as a like's name: the remote page is whatever its owner wants it to be.
    for n, item in enumerate(CORPUS):
        payload = item["payload"]
        author = (f'<span class="p-author h-card"><a class="u-url" href="{_attr(payload)}">'
                  f'<img class="u-photo" src="{_attr(payload)}" alt=""><span class="p-name">{_text(payload)}</span></a></span>')
        deliver(app, remote_blog.page(f"/hostile/{n}", h_entry_page(about=TARGET, author=author, content_html=payload,
                                                                    title=payload)))
        if n % 4 == 0:
            deliver(app, remote_blog.page(f"/hostile-like/{n}", h_entry_page(
                kind_property="u-like-of", about=TARGET, content_html="", author=author, title=payload)))
    while run_jobs(app):
        pass

    audit = Audit()
    client = app.test_client()
    thread = client.get("/api/comments", query_string={"thread": THREAD}).get_json()
    assert thread["count"] == len(CORPUS) + 1
    for c in thread["comments"]:
        audit.body("api body_html", c["body_html"])
        for key in ("author_url", "author_photo", "origin_url"):
            audit.check(c[key] is None or url_scheme(c[key]) in ("http", "https"), f"api: {key} {c[key]!r}")
    for m in thread["mentions"]:
        for key in ("author_url", "author_photo", "source_url"):
            audit.check(m[key] is None or url_scheme(m[key]) in ("http", "https"), f"api mention: {key} {m[key]!r}")

    build_at(site)
    soup = audit.page("baked post page", page(site), baseline)
    baked = soup.select("li.bec-comment")
    audit.check(len(baked) == len(thread["comments"]), f"baked page: {len(baked)} of {len(thread['comments'])} in place")
    by_id = {c["id"]: c for c in thread["comments"]}
    for item in baked:
        c = by_id[int(item["id"].removeprefix("comment-"))]
        audit.body("baked reply body", item.select_one(".bec-text"))
        name = item.select_one(".bec-author")
        audit.check(not name.find(True) and text_of(name) == " ".join(c["author_name"].split()),
                    f"baked page: name of #{c['id']} is not its text")
    faces = soup.select(".bec-likes .bec-face")
    audit.check(len(faces) == len([m for m in thread["mentions"] if m["kind"] == "like"]), "baked page: likes lost")
    assert audit.unsafe == []


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")
