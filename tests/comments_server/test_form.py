"""The reader's path without JavaScript: POST /comments/form answers 303 to a signed page showing the
comment (the receipt), or the form again with the error; every page in the site's page shell."""

from __future__ import annotations

import json
import sys

import pytest
from bs4 import BeautifulSoup

from comments_server.models import Status
from comments_server.services import services
from tests.support.server import AUTHOR_TOKEN, CLOSED, OTHER, POST
from tests.support.site import make_site  # noqa: F401


def form(**fields):
    data = {"thread": POST, "author_name": "Reader", "body": "From the form.", "parent_id": ""}
    data.update(fields)
    return data


def soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def landed(client, response):
    """The page a 303 from the form leads to."""
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/comments/posted?")
    return client.get(response.headers["Location"])


def test_show_form_has_fields_and_a_fresh_token(client):
    client.post("/comments/form", data=form())
    response = client.get("/comments/form", query_string={"thread": POST, "parent_id": "1"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = soup(response)
    assert page.find("input", {"name": "thread"})["value"] == POST
    assert page.find("input", {"name": "parent_id"})["value"] == "1"
    assert page.find("input", {"name": "form_token"})["value"]
    assert page.find("input", {"name": "website"}) is not None  # the honeypot
    assert page.find("form")["action"] == "/comments/form"
    assert "A post" in page.title.text


def test_show_form_for_unknown_thread_is_404_html(client):
    response = client.get("/comments/form", query_string={"thread": "/nope/"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert soup(response).find(id="error").text == "This page does not take comments."


def test_published_comment_lands_on_a_page_showing_it_and_linking_to_its_anchor(client):
    page = soup(landed(client, client.post("/comments/form", data=form())))
    assert page.h1.text == "Your comment is posted"
    assert page.select_one("#comment-1 .bec-text").decode_contents() == "<p>From the form.</p>"
    assert page.select_one("#comment-1 .bec-author").text == "Reader"
    assert [p.text for p in page.select(".bec-posted p")] == [
        "It will appear on the post the next time the site is rebuilt.",
        "Readers whose browsers run JavaScript see it there at once."]
    assert page.select_one("a.bec-back")["href"] == "https://blog.example.com/2024/05/a-post/#comment-1"
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["comments"][0]["body_html"] == "<p>From the form.</p>"


def test_form_reply_and_notify_fields(client, app):
    client.post("/comments/form", data=form())
    response = client.post("/comments/form", data=form(parent_id="1", author_email="a@example.org",
                                                         notify_replies="1"))
    assert landed(client, response).status_code == 200
    stored = services(app).storage.get_comment(2)
    assert stored.parent_id == 1 and stored.notify_replies is True


def test_error_shows_form_again_with_message_and_what_was_typed(client):
    response = client.post("/comments/form", data=form(author_name="", body="My long comment text"))
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = soup(response)
    assert page.find(id="error").text == "Please fill in “Name”."
    assert page.find("textarea", {"name": "body"}).text == "My long comment text"


def test_bad_parent_id_in_form(client):
    response = client.post("/comments/form", data=form(parent_id="abc"))
    assert response.status_code == 400
    assert soup(response).find(id="error").text == "That did not work: parent_id must be a comment number"


def test_held_comment_gets_a_thank_you_page_showing_it(make_app):
    client = make_app(MODERATION="all").test_client()
    page = soup(landed(client, client.post("/comments/form", data=form())))
    assert "awaiting moderation" in page.h1.text
    assert page.select_one(".bec-posted").text.strip() == \
        "It is held for the author’s approval, and will appear on the post once approved."
    assert page.select_one("#comment-1 .bec-text").text == "From the form."
    assert page.select_one("a.bec-back")["href"] == "https://blog.example.com/2024/05/a-post/#comments"


def test_closed_and_unknown_threads(client):
    shown = client.get("/comments/form", query_string={"thread": CLOSED})
    assert shown.status_code == 403 and "closed" in shown.get_data(as_text=True)
    assert soup(shown).find("form") is None
    response = client.post("/comments/form", data=form(thread=CLOSED))
    assert response.status_code == 403 and "closed" in response.get_data(as_text=True)
    response = client.post("/comments/form", data=form(thread="/unknown/"))
    assert response.status_code == 404


def test_form_takes_only_form_encodings(client):
    response = client.post("/comments/form", json=form())
    assert response.status_code == 415 and response.mimetype == "text/html"


def test_form_never_grants_author_status(client):
    client.set_cookie("is_author", "1")
    client.post("/comments/form", data=form(is_author="1"), headers={"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    data = client.get("/api/comments", query_string={"thread": POST}).get_json()
    assert data["comments"][0]["is_author"] is False


def test_form_minimum_submit_time(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    # The server's own form page sends a token: sent too soon, the reader gets the form back, typed text kept.
    token = soup(client.get("/comments/form", query_string={"thread": POST})).find("input", {"name": "form_token"})["value"]
    response = client.post("/comments/form", data=form(form_token=token))
    assert response.status_code == 400
    page = soup(response)
    assert page.find(id="error").text == "That was quick! Please wait a few seconds, then send your comment again."
    token = page.find("input", {"name": "form_token"})["value"]
    assert token and page.find("textarea").text == "From the form."
    clock.advance(5)
    assert client.post("/comments/form", data=form(form_token=token)).status_code == 303


def test_form_honeypot(client, app):
    page = soup(landed(client, client.post("/comments/form", data=form(website="spam"))))
    assert "awaiting moderation" in page.h1.text   # as if held: the bot learns nothing
    assert services(app).storage.get_comment(1).status == Status.SPAM


def test_form_rate_limit_shares_the_write_budget(make_app):
    client = make_app(RATE_LIMIT="1/minute").test_client()
    assert client.post("/api/comments", json={"thread": POST, "author_name": "a", "body": "hello"}).status_code == 201
    response = client.post("/comments/form", data=form())
    assert response.status_code == 429 and response.mimetype == "text/html"


def test_form_escapes_what_it_shows(client):
    response = client.post("/comments/form", data=form(author_name="", body="</textarea><script>alert(1)</script>"))
    page = soup(response)
    assert page.find("script") is None
    assert page.find("textarea").text == "</textarea><script>alert(1)</script>"


def test_form_without_site_url_redirects_to_the_path(make_app, tmp_path):
    from tests.support.server import THREADS, write_manifest
    import json

    path = write_manifest(tmp_path / "nosite.json")
    data = json.loads(path.read_text())
    data["site"] = {}
    path.write_text(json.dumps(data))
    client = make_app(THREADS_MANIFEST=str(path)).test_client()
    page = soup(landed(client, client.post("/comments/form", data=form())))
    assert page.select_one("a.bec-back")["href"] == f"{THREADS[0]['path']}#comment-1"


def french_site(make_app, tmp_path, language="fr-CA", **config):
    from tests.support.server import write_manifest

    path = write_manifest(tmp_path / "fr.json")
    data = json.loads(path.read_text())
    data["site"]["language"] = language
    path.write_text(json.dumps(data))
    return make_app(THREADS_MANIFEST=str(path), **config).test_client()


def test_form_pages_speak_the_site_language(make_app, tmp_path):
    client = french_site(make_app, tmp_path)
    page = soup(client.get("/comments/form", query_string={"thread": POST}))
    assert page.html["lang"] == "fr-CA"
    assert page.title.text == "Commenter « A post » · Test Blog" and page.h1.text == "Commenter « A post »"
    labels = [" ".join(label.text.split()) for label in page.find_all("label")]
    assert labels == ["Commentaire", "Nom", "E-mail (facultatif, jamais affiché)", "Site web (facultatif)",
                      "M’avertir par e-mail des réponses", "Laisser vide"]
    assert page.find("button").text == "Publier le commentaire"

    again = client.post("/comments/form", data=form(author_name="", body="Mon texte"))
    assert again.status_code == 400
    page = soup(again)
    assert page.find(id="error").text == "Veuillez remplir « Nom »."
    assert page.find("textarea").text == "Mon texte" and page.html["lang"] == "fr-CA"
    long = client.post("/comments/form", data=form(body="x" * 20000))
    assert soup(long).find(id="error").text.startswith("« Commentaire » est trop long")

    closed = soup(client.get("/comments/form", query_string={"thread": CLOSED}))
    assert closed.h1.text == "Commentaires fermés"
    assert closed.find(id="error").text == "Les commentaires sont fermés pour cet article."
    assert closed.select_one("main a").text == "Retour à l’article"
    unknown = soup(client.post("/comments/form", data=form(thread="/nope/")))
    assert unknown.h1.text == "Commentaire non publié" and unknown.select_one("main p:not([id])").text == "Revenez en arrière et réessayez."


def test_held_comment_thanks_in_the_site_language(make_app, tmp_path):
    client = french_site(make_app, tmp_path, MODERATION="all")
    page = soup(landed(client, client.post("/comments/form", data=form())))
    assert page.h1.text == "Merci ! Votre commentaire attend la modération."
    assert page.select_one("a.bec-back").text == "Retour à l’article"


def test_form_pages_of_a_language_without_catalogue_are_english(make_app, tmp_path):
    client = french_site(make_app, tmp_path, language="de")
    page = soup(client.get("/comments/form", query_string={"thread": POST}))
    assert page.html["lang"] == "en" and page.h1.text == "Comment on A post"
    assert page.find("button").text == "Post comment"


def test_form_pages_of_a_manifest_without_language_are_english(client):
    page = soup(client.get("/comments/form", query_string={"thread": POST}))
    assert page.html["lang"] == "en" and page.title.text == "Comment on A post · Test Blog"
    labels = [" ".join(label.text.split()) for label in page.find_all("label")]
    assert labels == ["Comment", "Name", "Email (optional, never shown)", "Website (optional)",
                      "Email me when someone replies", "Leave this empty"]


def test_the_same_form_page_sent_twice_posts_one_comment(make_app, clock):
    """A double click, or the browser resending after a dropped answer: the page's own key makes
    the second send get the first answer (and its single-use form token is not 'used' for it)."""
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    page = soup(client.get("/comments/form", query_string={"thread": POST}))
    hidden = {name: page.find("input", {"name": name})["value"] for name in ("form_token", "idempotency_key")}
    assert len(hidden["idempotency_key"]) >= 20
    clock.advance(10)
    first = client.post("/comments/form", data=form(**hidden))
    again = client.post("/comments/form", data=form(**hidden))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["count"] == 1
    # Each page load has its own key.
    assert soup(client.get("/comments/form", query_string={"thread": POST})).find(
        "input", {"name": "idempotency_key"})["value"] != hidden["idempotency_key"]


# --- the first submit of the form baked into a post (no form token) ---------------------------


def reader_sees_no_developer_text(response):
    text = response.get_data(as_text=True)
    assert "/api/form-token" not in text and "FORM_WITHOUT_TOKEN" not in text


def test_baked_form_without_token_posts_on_the_first_submit(make_app):
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    response = client.post("/comments/form", data=form())   # as the static page sends it
    page = landed(client, response)
    reader_sees_no_developer_text(page)
    assert soup(page).h1.text == "Your comment is posted"
    assert client.get("/api/comments", query_string={"thread": POST}).get_json()["count"] == 1


def test_the_json_api_still_requires_a_form_token(make_app):
    client = make_app(MIN_SUBMIT_SECONDS=3).test_client()
    response = client.post("/api/comments", json={"thread": POST, "author_name": "Bot", "body": "No token."})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "form_token"


def test_form_without_token_hold_holds_the_comment(make_app):
    made = make_app(MIN_SUBMIT_SECONDS=3, FORM_WITHOUT_TOKEN="hold")
    client = made.test_client()
    page = soup(landed(client, client.post("/comments/form", data=form())))
    assert "awaiting moderation" in page.h1.text
    assert services(made).storage.get_comment(1).status == Status.PENDING


def test_form_without_token_hold_leaves_comments_with_a_token_alone(make_app, clock):
    made = make_app(MIN_SUBMIT_SECONDS=3, FORM_WITHOUT_TOKEN="hold")
    client = made.test_client()
    token = soup(client.get("/comments/form", query_string={"thread": POST})).find("input", {"name": "form_token"})["value"]
    clock.advance(5)
    assert soup(landed(client, client.post("/comments/form", data=form(form_token=token)))).h1.text == \
        "Your comment is posted"
    assert services(made).storage.get_comment(1).status == Status.PUBLISHED


def test_form_without_token_refuse_gives_the_form_back_with_a_reader_message(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3, FORM_WITHOUT_TOKEN="refuse").test_client()
    response = client.post("/comments/form", data=form(body="Kept for the next try."))
    assert response.status_code == 400
    reader_sees_no_developer_text(response)
    page = soup(response)
    assert page.find(id="error").text == "Please check your comment and send it again."
    assert page.find("textarea").text == "Kept for the next try."
    token = page.find("input", {"name": "form_token"})["value"]
    clock.advance(5)
    assert landed(client, client.post("/comments/form", data=form(form_token=token))).status_code == 200


def test_tokenless_form_posts_still_meet_every_other_check(make_app):
    made = make_app(MIN_SUBMIT_SECONDS=3, MAX_LINKS=1, MODERATION="all")
    client = made.test_client()
    links = client.post("/comments/form", data=form(body="https://a.example https://b.example"))
    assert links.status_code == 400 and soup(links).find(id="error").text == "Your comment has too many links."
    name = client.post("/comments/form", data=form(author_name="Ann Author"))
    assert name.status_code == 400 and "name of this blog’s author" in soup(name).find(id="error").text
    landed(client, client.post("/comments/form", data=form(website="bot")))
    landed(client, client.post("/comments/form", data=form()))
    storage = services(made).storage
    assert [storage.get_comment(i).status for i in (1, 2)] == [Status.SPAM, Status.PENDING]


def test_tokenless_form_posts_count_against_the_write_budget(make_app):
    client = make_app(MIN_SUBMIT_SECONDS=3, RATE_LIMIT="2/minute").test_client()
    for _ in range(2):
        landed(client, client.post("/comments/form", data=form()))
    assert client.post("/comments/form", data=form()).status_code == 429


@pytest.mark.parametrize("mode", ["publish", "hold", "refuse", "sometimes"])
def test_form_without_token_setting_is_checked(make_app, mode):
    from comments_server.errors import ConfigError

    if mode == "sometimes":
        with pytest.raises(ConfigError, match="FORM_WITHOUT_TOKEN: 'sometimes' is not one of publish, hold, refuse"):
            make_app(FORM_WITHOUT_TOKEN=mode)
    else:
        assert make_app(FORM_WITHOUT_TOKEN=mode).config["FORM_WITHOUT_TOKEN"] == mode


# --- the rate limit: a refused form token spends nothing ---------------------------------------


def test_five_too_fast_posts_then_a_good_one_succeed_within_the_write_budget(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3, RATE_LIMIT="5/minute").test_client()
    token = soup(client.get("/comments/form", query_string={"thread": POST})).find("input", {"name": "form_token"})["value"]
    for _ in range(5):
        response = client.post("/comments/form", data=form(form_token=token))
        assert response.status_code == 400
        assert soup(response).find(id="error").text.startswith("That was quick!")
    clock.advance(5)
    assert landed(client, client.post("/comments/form", data=form(form_token=token))).status_code == 200


def test_too_fast_api_posts_spend_nothing_but_other_refusals_do(make_app, clock):
    client = make_app(MIN_SUBMIT_SECONDS=3, RATE_LIMIT="5/minute").test_client()
    token = client.get("/api/form-token", query_string={"thread": POST}).get_json()["form_token"]
    body = {"thread": POST, "author_name": "Reader", "body": "Quick.", "form_token": token}
    for _ in range(5):
        assert client.post("/api/comments", json=body).get_json()["error"]["code"] == "too_fast"
    clock.advance(5)
    assert client.post("/api/comments", json=body).status_code == 201
    for _ in range(4):   # the good post spent one; a refusal for another reason spends one too
        assert client.post("/api/comments", json={**body, "body": ""}).status_code == 400
    assert client.post("/api/comments", json=body).status_code == 429


# --- the comment answered, the page after posting ----------------------------------------------


def test_form_page_shows_the_comment_answered_escaped_with_its_author_and_date(client):
    landed(client, client.post("/comments/form", data=form(author_name="<b>Zoë</b>",
                                                           body="A *first* <script>alert(1)</script>")))
    response = client.get("/comments/form", query_string={"thread": POST, "parent_id": "1"})
    assert response.status_code == 200
    page = soup(response)
    answered = page.select_one(".bec-answering")
    assert answered.select_one(".bec-answering-title").text == "Replying to <b>Zoë</b>:"
    assert answered.select_one("#comment-1 .bec-author").text == "<b>Zoë</b>"
    assert answered.select_one("#comment-1 time").text == "June 1, 2026"
    text = answered.select_one("#comment-1 .bec-text")
    assert text.find("em").text == "first" and text.find("script") is None
    assert page.find("script") is None and page.find("b") is None


def test_form_page_for_a_comment_not_there_is_404_with_a_reader_message(client):
    client.post("/comments/form", data=form(thread=OTHER))
    for parent in ("99", "1", "abc", "9" * 40):   # unknown, in another thread, not a number
        response = client.get("/comments/form", query_string={"thread": POST, "parent_id": parent})
        assert response.status_code == 404 and response.mimetype == "text/html"
        page = soup(response)
        assert page.h1.text == "Comment not found"
        assert page.find(id="error").text == "The comment you are replying to no longer exists."


def test_posted_page_for_a_reply_says_when_it_will_be_on_the_post(make_app):
    # Publishing on comment: the quiet spell (7 s) and, before any run, 5 s for the build.
    app = make_app(PUBLISH_COMMAND=f"{sys.executable} -c pass", PUBLISH_DEBOUNCE_SECONDS=7)
    client = app.test_client()
    client.post("/comments/form", data=form())
    page = soup(landed(client, client.post("/comments/form", data=form(parent_id="1", body="Reply."))))
    services(app).publisher.stop()
    assert page.select_one(".bec-posted").text.strip() == "It will be on the post in about 12 seconds."
    assert page.select_one("#comment-2 .bec-text").text == "Reply."


def test_under_serve_the_posted_page_says_a_moment(make_app):
    from comments_server.site import publish_with

    app = make_app()
    stop = publish_with(app, lambda: None, 0.5)   # `blogengine serve`: a half-second rebuild
    client = app.test_client()
    page = soup(landed(client, client.post("/comments/form", data=form(body="Quick one."))))
    stop()
    assert page.select_one(".bec-posted").text.strip() == "It will be on the post in a moment."


def test_posted_page_link_cannot_be_forged_guessed_or_used_after_a_day(make_app, clock):
    client = make_app(MODERATION="all").test_client()
    location = client.post("/comments/form", data=form(body="Held and private.")).headers["Location"]
    client.post("/comments/form", data=form(body="Someone else's, held."))
    assert "Held and private." in client.get(location).get_data(as_text=True)
    query = dict(part.split("=", 1) for part in location.split("?", 1)[1].split("&"))
    forged = [{**query, "comment": "2"}, {**query, "sig": "x" + query["sig"][1:]},
              {**query, "until": str(int(query["until"]) + 86400)}, {"comment": "2"}]
    for args in forged:
        response = client.get("/comments/posted", query_string=args)
        assert response.status_code == 404
        assert "held" not in response.get_data(as_text=True).lower()
        assert soup(response).h1.text == "This link has expired"
    clock.advance(86401)
    response = client.get(location)
    assert response.status_code == 404 and "Held and private." not in response.get_data(as_text=True)


# --- the site's page shell ---------------------------------------------------------------------


SHELL = """<!DOCTYPE html><html lang="en"><head><title>[[bec:title]] · Shell Blog</title>
<meta property="og:title" content="[[bec:title]]"><link rel="stylesheet" href="https://blog.example.com/theme/style.css">
</head><body><header class="site-header">Shell Blog</header><main id="main">[[bec:content]]</main>
<footer class="site-footer">The footer</footer></body></html>"""


def test_reader_pages_are_drawn_in_the_site_page_shell_with_escaped_values(make_app, tmp_path):
    from tests.support.server import write_manifest

    manifest = write_manifest(tmp_path / "shelled" / "threads.json",
                              [{"path": POST, "title": 'A "<b>bold</b>" [[bec:content]] post', "open": True}])
    shell = manifest.with_name("comment-page.html")
    shell.write_text(SHELL, encoding="utf-8")
    client = make_app(THREADS_MANIFEST=str(manifest)).test_client()
    response = client.get("/comments/form", query_string={"thread": POST})
    page = soup(response)
    assert page.select_one("header.site-header").text == "Shell Blog"
    assert page.select_one("footer.site-footer").text == "The footer"
    assert page.title.text == 'Comment on A "<b>bold</b>" [[bec:content]] post · Shell Blog'
    assert page.find("meta", property="og:title")["content"] == 'Comment on A "<b>bold</b>" [[bec:content]] post'
    assert page.select_one("main form.bec-form")["action"] == "/comments/form"
    assert page.find("b") is None and len(page.find_all("form")) == 1
    policy = response.headers["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "style-src 'self' 'unsafe-inline' https://blog.example.com" in policy
    # A new build is read at the next request; a broken or missing shell means the standalone page.
    shell.write_text(SHELL.replace("Shell Blog", "Rebuilt Blog"), encoding="utf-8")
    assert soup(client.get("/comments/form", query_string={"thread": POST})).select_one(
        "header.site-header").text == "Rebuilt Blog"
    shell.write_text(SHELL.replace("[[bec:content]]", "[[bec:content]] [[bec:content]]"), encoding="utf-8")
    standalone = soup(client.get("/comments/form", query_string={"thread": POST}))
    assert standalone.select_one("header.site-header") is None and standalone.select_one("main form.bec-form")
    shell.unlink()
    standalone = soup(client.get("/comments/form", query_string={"thread": POST}))
    assert standalone.select_one("header.site-header") is None
    assert "prefers-color-scheme: dark" in standalone.find("style").string


def test_the_page_shell_of_a_manifest_url_is_fetched_from_beside_it(make_app, tmp_path):
    from tests.support.live import serve_folder
    from tests.support.server import write_manifest

    folder = tmp_path / "site-by-url"
    write_manifest(folder / "threads.json")
    (folder / "comment-page.html").write_text(SHELL, encoding="utf-8")
    with serve_folder(folder) as url:
        client = make_app(THREADS_MANIFEST=f"{url}/threads.json").test_client()
        page = soup(client.get("/comments/form", query_string={"thread": POST}))
        assert page.select_one("header.site-header").text == "Shell Blog"
    with serve_folder(tmp_path / "public") as url:   # an older build: no shell there
        client = make_app(THREADS_MANIFEST=f"{url}/threads.json").test_client()
        page = soup(client.get("/comments/form", query_string={"thread": POST}))
        assert page.select_one("header.site-header") is None and page.select_one("form.bec-form")


def test_form_page_has_the_fields_of_the_baked_form_in_its_order_inside_the_theme(make_site, make_app):
    from blogengine.build import BuildOptions, build
    from blogengine.config import load_config
    from tests.support.site import NOW, post, read_html

    root = make_site({"content/posts/a-post.md": post("A post", "2024-05-01", slug="a-post")})
    build(load_config(root), BuildOptions(now=NOW))
    baked = read_html(root / "public/2024/05/a-post/index.html").select_one("#comments form")
    client = make_app(THREADS_MANIFEST=str(root / "public/threads.json")).test_client()
    page = soup(client.get("/comments/form", query_string={"thread": POST}))
    served = page.select_one("#comments form")

    def fields(form):
        return [(node.name, node.get("name"), node.get("type"), node.get("id"), " ".join(node.get("class", [])))
                for node in form.select("input, textarea, button, details, p.bec-field, .bec-hp")
                if node.get("type") != "hidden"]

    assert fields(served) == fields(baked)
    assert [n for _, n, *_ in fields(served) if n] == ["body", "author_name", "author_email", "author_url",
                                                        "notify_replies", "website"]
    # In the site's theme: its header, stylesheet (absolute: the server may be elsewhere), noindex.
    assert page.select_one("a.site-title").text == "Test Blog"
    assert page.select_one("a.site-title")["href"] == "https://blog.example.com/"
    assert page.find("link", rel="stylesheet")["href"] == "https://blog.example.com/theme/style.css"
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert page.find("link", rel="canonical") is None
    assert page.title.text == "Comment on A post · Test Blog"


def test_forged_form_tokens_spend_the_write_budget(make_app):
    client = make_app(MIN_SUBMIT_SECONDS=3, RATE_LIMIT="3/minute").test_client()
    for _ in range(3):
        assert client.post("/comments/form", data=form(form_token="1.forged.token")).status_code == 400
    assert client.post("/comments/form", data=form(form_token="1.forged.token")).status_code == 429
