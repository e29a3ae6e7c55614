"""Fediverse replies as readers see them, in the baked page (built from the comment database):
the replier's name, handle and avatar (lazy, sized), "via fediverse" linking to their status.
Then the hostile corpus delivered as status content, display names, avatars and profile URLs:
nothing unsafe in the API or the baked page. (The widget: tests/e2e/test_fediverse_browser.py.)"""

from __future__ import annotations

import re

import pytest

from comments_server.services import services
from tests.e2e.test_hostile_corpus import CORPUS, Audit, parse, risky_signatures, text_of, url_scheme
from tests.support.mastodon import fake_mastodon
from tests.support.site import BASIC_CONFIG, post

THREAD = "/2024/05/a-post/"


@pytest.fixture
def mastodon():
    with fake_mastodon() as fake:
        fake.account("ann", "Ann Author")
        yield fake


@pytest.fixture
def announced(mastodon):
    return mastodon.status("ann", "<p>New post</p>")


@pytest.fixture
def site(make_site, build_at, announced):
    root = make_site({"content/posts/a-post.md": post("A post", "2024-05-01", "A post that takes comments.",
                                                      fediverse=announced["url"])},
                     config=BASIC_CONFIG)
    build_at(root)
    return root


@pytest.fixture
def app(make_app, site, mastodon):
    return make_app(DATABASE_URL=f"sqlite:///{site / 'comments.sqlite3'}",
                    THREADS_MANIFEST=str(site / "public" / "threads.json"),
                    FEDIVERSE_ALLOW_HOSTS=[mastodon.host], MAX_LINKS=None, MAX_NAME_LENGTH=None)


def poll(app, clock):
    """Run the plan and the poll it makes (create_app planned it: the manifest names the
    announcement), then poll once more now, as the next scheduled poll would."""
    svc = services(app)
    svc.jobs.run_due(svc)
    job = svc.storage.jobs.find("fediverse-poll", THREAD)
    svc.storage.jobs.enqueue("fediverse-poll", THREAD, job.payload, clock(), clock())
    svc.jobs.run_due(svc)


def page(site):
    return (site / "public" / "2024" / "05" / "a-post" / "index.html").read_bytes()


def test_baked_page_shows_the_handle_avatar_and_a_link_to_the_status(app, site, build_at, mastodon, announced, clock):
    mastodon.account("bob", "Bob Builder", avatar=f"{mastodon.url}/avatars/bob.webp")
    reply = mastodon.status("bob", "<p>Nice <b>post</b>!</p>", in_reply_to=announced["id"],
                            remote_acct="bob@else.example")
    poll(app, clock)
    build_at(site)
    soup = parse(page(site))
    [item] = soup.select("li.bec-comment")
    assert "bec-remote" in item["class"]
    assert text_of(item.select_one(".bec-author")) == "Bob Builder"
    assert item.select_one(".bec-author")["href"] == f"{mastodon.url}/@bob"
    assert text_of(item.select_one(".bec-handle")) == "@bob@127.0.0.1"
    origin = item.select_one(".bec-origin")
    assert origin["href"] == reply["url"] and text_of(origin) == "via fediverse"
    avatar = item.select_one("img.bec-avatar")
    assert avatar["src"] == f"{mastodon.url}/avatars/bob.webp"
    assert (avatar["loading"], avatar["width"], avatar["height"]) == ("lazy", "24", "24")
    assert str(item.select_one(".bec-text").decode_contents()).strip() == "<p>Nice post!</p>"


def test_hostile_corpus_as_statuses_is_inert_in_the_api_and_the_baked_page(app, site, build_at, mastodon,
                                                                           announced, clock):
    mastodon.account("bea", "Bea")
    mastodon.status("bea", "<p>Benign</p>", in_reply_to=announced["id"])
    poll(app, clock)
    build_at(site)
    baseline = risky_signatures(parse(page(site)))

    # Each payload as the content (raw HTML, as a server relays it), the display name, and the
    # profile and avatar URLs: a remote account is whatever its owner wants it to be.
    for n, item in enumerate(CORPUS):
        payload = item["payload"]
        account = mastodon.account(f"h{n}", payload)
        account["display_name"], account["url"], account["avatar"] = payload, payload, payload
        mastodon.status(f"h{n}", payload, in_reply_to=announced["id"])
    poll(app, clock)

    audit = Audit()
    thread = app.test_client().get("/api/comments", query_string={"thread": THREAD}).get_json()
    assert thread["count"] == len(CORPUS) + 1
    for c in thread["comments"]:
        audit.body("api body_html", c["body_html"])
        for key in ("author_url", "author_photo", "origin_url"):
            audit.check(c[key] is None or url_scheme(c[key]) in ("http", "https"), f"api: {key} {c[key]!r}")
        audit.check(c["author_handle"] is None or re.fullmatch(r"@[\w.-]+@[\w.-]+", c["author_handle"]) is not None,
                    f"api: handle {c['author_handle']!r}")

    build_at(site)
    soup = audit.page("baked post page", page(site), baseline)
    baked = soup.select("li.bec-comment")
    audit.check(len(baked) == len(thread["comments"]), f"baked page: {len(baked)} of {len(thread['comments'])}")
    by_id = {c["id"]: c for c in thread["comments"]}
    for item in baked:
        c = by_id[int(item["id"].removeprefix("comment-"))]
        audit.body("baked reply body", item.select_one(".bec-text"))
        name = item.select_one(".bec-author")
        audit.check(not name.find(True) and text_of(name) == " ".join(c["author_name"].split()),
                    f"baked page: name of #{c['id']} is not its text")
        audit.check(text_of(item.select_one(".bec-origin")) == "via fediverse", f"baked page: #{c['id']} label")
    assert audit.unsafe == []
