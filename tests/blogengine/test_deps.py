"""What a page's rendering is recorded as reading (deps.Recorder): model objects, attribute by
attribute, whatever class they are made of."""

from __future__ import annotations

from blogengine.deps import Recorder
from blogengine.model import Entry, Listing, Site, Term


def bare(cls: type, url: str = "") -> object:
    """A model object without running its constructor: the recorder reads only its URL."""
    obj = object.__new__(cls)
    obj.__dict__["url"] = url
    return obj


def test_each_kind_of_model_object_is_recorded_with_its_url():
    recorder = Recorder()
    recorder.saw(bare(Entry, "/a/"), "title")
    recorder.saw(bare(Listing, "/"), "posts")
    recorder.saw(bare(Term, "/tags/x/"), "name")
    recorder.saw(bare(Site), "pages")
    recorder.saw({"title": "a dict"}, "title")        # not a model object: nothing to record
    recorder.saw("text", "upper")
    assert recorder.inputs == {("entry", "/a/", "title"), ("listing", "/", "posts"),
                               ("term", "/tags/x/", "name"), ("site", "", "pages")}


def test_a_subclass_of_a_model_class_is_recorded_as_its_kind():
    class PluginEntry(Entry):
        pass

    class PluginSite(Site):
        pass

    recorder = Recorder()
    recorder.saw(bare(PluginEntry, "/b/"), "summary")
    recorder.saw(bare(PluginSite), "posts")
    assert recorder.inputs == {("entry", "/b/", "summary"), ("site", "", "posts")}


def test_templates_see_globals_set_after_they_were_loaded_and_imports_still_work():
    import jinja2

    from blogengine.deps import RecordingEnvironment

    env = RecordingEnvironment(loader=jinja2.DictLoader({
        "macros.html": "{% macro hello() %}hello {{ who }}{% endmacro %}",
        "page.html": "{% from 'macros.html' import hello %}{{ hello() }} from {{ where }}"}))
    page = env.get_template("page.html")
    env.globals.update(who="reader", where="the build")     # as prepare_environment does
    assert page.render() == "hello reader from the build"
    assert "who" in page.globals and "nobody" not in page.globals
    assert {"who", "where"} <= set(page.globals.keys())


def test_a_shared_fragment_renders_once_yet_every_page_depends_on_it(make_site, build_at):
    """The comment form's fields are rendered once per build (shared_fragment); a page that
    shows them is still rendered again when their template changes."""
    from tests.blogengine.test_cache import age
    from tests.support.site import post

    root = make_site({f"content/posts/p{i}.md": post(f"Post {i}", f"2024-05-0{i + 1}")
                      for i in range(3)})
    build_at(root, jobs=1)
    page = root / "public/2024/05/post-1/index.html"
    assert page.read_text().count('name="parent_id"') == 1
    override = root / "templates/partials/comment_form_fields.html"
    override.parent.mkdir(parents=True)
    override.write_text('      <input type="hidden" name="parent_id" value="">'
                        '<input type="hidden" name="from" value="override">')
    age(root)
    report = build_at(root, jobs=1)
    assert report.pages_rendered >= 3
    for i in range(3):
        assert 'value="override"' in (root / f"public/2024/05/post-{i}/index.html").read_text()


def test_a_fragment_of_an_object_renders_once_per_object_and_pass_and_sees_only_its_objects():
    """shared_fragment(name, post=post): once per post until the next model's render (a serving
    process's next build may have new comments for the same post object), never the page's
    variables, and each page that shows it records what it read."""
    import itertools

    import jinja2

    from blogengine.deps import RecordingEnvironment

    env = RecordingEnvironment(loader=jinja2.DictLoader({
        "summary.html": "{{ count() }}:{{ post.title }}:{{ secret is defined }}",
        "page.html": "{% set secret = 'page only' %}{{ shared_fragment('summary.html', post=a) }}|"
                     "{{ shared_fragment('summary.html', post=a) }}|{{ shared_fragment('summary.html', post=b) }}",
    }))
    renders = itertools.count(1)
    env.globals["count"] = lambda: next(renders)

    class Titled(Entry):   # a title of its own (an Entry's comes from its document)
        title = ""

    a, b = bare(Titled, "/a/"), bare(Titled, "/b/")
    a.__dict__["title"], b.__dict__["title"] = "A", "B"

    def page(recorder: Recorder) -> str:
        env.recorder = recorder
        try:
            return env.get_template("page.html").render(a=a, b=b)
        finally:
            env.recorder = None

    first, second = Recorder(), Recorder()
    assert page(first) == "1:A:False|1:A:False|2:B:False"
    assert page(second) == "1:A:False|1:A:False|2:B:False"      # the same pass: not rendered again
    for recorder in (first, second):
        assert {("entry", "/a/", "title"), ("entry", "/b/", "title"),
                ("template", "summary.html", "")} <= recorder.inputs
    env.forget_object_fragments()                      # as prepare_environment does for a new model
    a.__dict__["title"] = "A, edited"
    assert page(Recorder()) == "3:A, edited:False|3:A, edited:False|4:B:False"


def test_a_posts_summary_is_alike_on_every_listing_and_follows_an_edit(make_site, build_at):
    """The default theme renders each post's summary once (partials/post_summary.html); the
    index, its tag's page and a later build all show the same, current summary."""
    from tests.blogengine.test_cache import age
    from tests.support.site import post

    root = make_site({f"content/posts/p{i}.md": post(f"Post {i}", f"2024-05-0{i + 1}", tags="[shared]")
                      for i in range(2)})   # (one index page holds both)
    build_at(root, jobs=1)

    def summaries(rel: str) -> list[str]:
        html = (root / "public" / rel).read_text()
        return [part.split("</article>")[0] for part in html.split('<article class="post-summary">')[1:]]

    assert len(summaries("index.html")) == 2
    assert summaries("index.html") == summaries("tags/shared/index.html")
    source = root / "content/posts/p1.md"
    source.write_text(source.read_text().replace("Post 1", "Post one"))
    age(root)
    build_at(root, jobs=1)
    for rel in ("index.html", "tags/shared/index.html"):
        assert sum("Post one" in summary for summary in summaries(rel)) == 1, rel
    assert summaries("index.html") == summaries("tags/shared/index.html")


def test_an_entrys_text_is_apart_from_its_place_and_unknown_attributes_go_with_the_text():
    from blogengine.deps import group_of

    assert {group_of("entry", name) for name in ("title", "url", "date", "tags")} == {"entry"}
    assert {group_of("entry", name) for name in ("content", "summary", "word_count", "doc",
                                                "made_up_by_a_plugin")} == {"entry.text"}
    assert group_of("entry", "related") == "entry.links"
    assert group_of("listing", "posts") == "listing"


def test_a_body_edit_looks_again_only_at_pages_that_read_the_text(make_site, build_at,
                                                                 monkeypatch):
    from blogengine.cache import BuildCache
    from tests.blogengine.test_cache import age
    from tests.support.site import post

    root = make_site({f"content/posts/p{n}.md": post(f"Post {n}", f"2024-01-{n + 1:02d}",
                                                     tags="[shared]", body=f"Body {n}.")
                      for n in range(12)})
    build_at(root)
    looked_at: list[str] = []
    real = BuildCache.inputs
    def inputs(self, rels):
        looked_at.extend(rels)
        return real(self, rels)
    monkeypatch.setattr(BuildCache, "inputs", inputs)
    (root / "content/posts/p5.md").write_text(post("Post 5", "2024-01-06", tags="[shared]",
                                                   body="A new body."))
    age(root / "content")
    build_at(root)
    # The archive and the neighbours read its title and URL only: not looked at again.
    assert "archive/index.html" not in looked_at
    assert not any(rel.endswith(("post-4/index.html", "post-6/index.html")) for rel in looked_at)
    assert any(rel.startswith("tags/shared/") for rel in looked_at)   # summaries are shown
    # A new title reaches the archive.
    (root / "content/posts/p5.md").write_text(post("Post five", "2024-01-06", tags="[shared]",
                                                   body="A new body."))
    age(root / "content")
    build_at(root)
    assert "Post five" in (root / "public/archive/index.html").read_text()


def test_pages_render_in_the_order_of_the_newest_post_they_show():
    """render_order: posts by date and each listing beside the newest post it shows, so that a
    worker's slice holds the listings of the posts it renders (their summaries are then made
    in one worker); pages without a date or posts come first."""
    from datetime import UTC, datetime

    from blogengine.render import render_order

    def entry(url: str, day: int | None) -> Entry:
        page = bare(Entry, url)
        page.__dict__["date"] = datetime(2024, 5, day, tzinfo=UTC) if day else None
        return page  # type: ignore[return-value]

    def listing(url: str, posts: list[Entry]) -> Listing:
        page = bare(Listing, url)
        page.__dict__["posts"] = posts
        return page  # type: ignore[return-value]

    old, middle, new, about = entry("/old/", 1), entry("/middle/", 2), entry("/new/", 3), entry("/about/", None)
    pages = [new, old, about, middle, listing("/", [new, middle]), listing("/page/2/", [old]),
             listing("/tags/x/", [middle, old]), listing("/404/", [])]
    order = [pages[i].url for i in render_order(pages, range(len(pages)))]
    assert order[:2] == ["/about/", "/404/"]
    assert order.index("/old/") < order.index("/page/2/") < order.index("/middle/")
    assert order.index("/middle/") < order.index("/tags/x/") < order.index("/new/") < order.index("/")
    assert sorted(order) == sorted(page.url for page in pages)
    assert [pages[i].url for i in render_order(pages, [4, 1])] == ["/old/", "/"]   # only those asked for
