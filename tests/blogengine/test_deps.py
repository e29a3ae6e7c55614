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
