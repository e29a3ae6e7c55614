"""The reader's path without JavaScript: POST /comments/form answers 303 to a signed page showing the
comment (the receipt), or the form again with the error; every page in the site's page shell."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup

from comments_server.models import Status
from comments_server.services import services
from tests.support.server import AUTHOR_TOKEN, CLOSED, POST


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
