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
