"""The demo's way into the dashboard: `blogengine serve` on a sample site (one with a
`[comments] seed`) makes an author account for the site's [author] and shows its credentials on
the development login page; a production app never shows them; a site with no author account
says how to make one."""

from __future__ import annotations

import json

from blogengine.comments import development_app
from blogengine.config import load_config
from comments_server.accounts import MIN_PASSWORD_LENGTH
from comments_server.app import create_app
from comments_server.demo import demo_password
from comments_server.services import services
from tests.support.authoring import add_author, csrf_token, page_text
from tests.support.server import SECRET
from tests.support.site import BASIC_CONFIG, post

SEED = json.dumps({"format": "blogengine-comments", "version": 1, "comments": [
    {"uid": "s1", "thread": "/2024/01/hello/", "author_name": "Reader", "body": "Is this a question?",
     "created_at": "2024-01-02T10:00:00Z"}]})
SAMPLE = BASIC_CONFIG + '\n[comments]\nseed = "demo.json"\n'


def sample_site(make_site, config: str = SAMPLE):
    root = make_site({"content/posts/hello.md": post("Hello", "2024-01-01"), "demo.json": SEED}, config=config)
    return load_config(root)


def start(config):
    return development_app(config, output_dir=config.root / "public", site_url="http://127.0.0.1:8000/")


def test_sample_site_gets_a_demo_author_shown_on_the_login_page(make_site):
    config = sample_site(make_site)
    mounted = start(config)
    login = mounted.demo_login
    assert login is not None and login.email == "ann@example.com" and login.name == "Ann Author"
    assert mounted.imported == 1
    [author] = services(mounted.app).accounts.all()
    assert author.email == "ann@example.com"
    assert services(mounted.app).accounts.authenticate("ann@example.com", login.password) is not None
    client = mounted.app.test_client()
    page = client.get("/dashboard/login")
    text = page_text(page, "demo-login")
    assert "ann@example.com" in text and login.password in text
    assert 'value="ann@example.com"' in page.get_data(as_text=True)   # the name field is filled in
    token = csrf_token(client)
    response = client.post("/dashboard/login", data={"name": "ann@example.com", "password": login.password,
                                                       "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/"


def test_demo_login_is_the_same_at_the_next_start_and_gone_once_the_password_changed(make_site):
    config = sample_site(make_site)
    first = start(config).demo_login
    again = start(config)
    assert again.demo_login == first and again.imported == 0
    accounts = services(again.app).accounts
    accounts.set_password(accounts.find("ann@example.com"), "a password of my own")
    later = start(config)
    assert later.demo_login is None
    assert "demo-login" not in later.app.test_client().get("/dashboard/login").get_data(as_text=True)


def test_a_site_without_a_seed_gets_no_account_and_is_told_how_to_make_one(make_site):
    root = make_site({"content/posts/hello.md": post("Hello", "2024-01-01")})
    mounted = start(load_config(root))
    assert mounted.demo_login is None
    assert services(mounted.app).accounts.all() == []
    text = page_text(mounted.app.test_client().get("/dashboard/login"), "no-accounts")
    assert 'blogengine comments add-author "Your Name" --email you@example.org' in text


def test_a_sample_site_with_another_account_already_gets_no_demo_account(make_site):
    config = sample_site(make_site)
    mounted = start(config)
    accounts = services(mounted.app).accounts
    accounts.remove(accounts.find("ann@example.com"))
    add_author(mounted.app, "Bea Other", "bea@example.com")
    assert start(config).demo_login is None
    assert [a.email for a in services(start(config).app).accounts.all()] == ["bea@example.com"]


def test_production_app_never_shows_demo_credentials(make_site):
    config = sample_site(make_site)
    login = start(config).demo_login
    assert login is not None
    # The same database and site, as production opens it: create_app, with the site layer.
    from blogengine.comments import site_layer

    layer = site_layer(config)
    app = create_app({"SECRET_KEY": SECRET}, site=layer)
    page = app.test_client().get("/dashboard/login").get_data(as_text=True)
    assert login.password not in page and "Demo login" not in page and "demo-login" not in page
    # Even with the development SECRET_KEY, so the same derived password: nothing is shown.
    secret = (config.root / "comments.sqlite3-secret").read_text().strip()
    assert demo_password(secret, "ann@example.com") == login.password
    page = create_app({"SECRET_KEY": secret}, site=layer).test_client().get("/dashboard/login")
    assert login.password not in page.get_data(as_text=True)


def test_login_page_says_how_to_add_an_author_until_one_exists(make_app):
    app = make_app()
    client = app.test_client()
    text = page_text(client.get("/dashboard/login"), "no-accounts")
    assert "blogengine comments add-author" in text and "--email you@example.org" in text
    add_author(app)
    assert "no-accounts" not in client.get("/dashboard/login").get_data(as_text=True)


def test_demo_password_is_long_enough_and_tied_to_the_key():
    one, two = demo_password("key one", "a@example.org"), demo_password("key two", "a@example.org")
    assert one != two and len(one) >= MIN_PASSWORD_LENGTH
    assert demo_password("key one", "A@Example.org") == one
