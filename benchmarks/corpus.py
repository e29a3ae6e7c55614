"""A deterministic synthetic blog for benchmarks, written as a blogengine site and, alongside, as
a Hugo site with minimal layouts over the same Markdown: N posts, 1-5 tags from 40, dates over
ten years, a few pages. Two styles of writing:

- "rich" (the default): posts written like technical posts, about 700 words, with links,
  `code`, **bold** and *emphasis* in most paragraphs, bullet lists, half with a fenced code
  block; what people write, and what costs a Markdown parser most;
- "plain": about 1,000 words of mostly plain prose (about 10 inline constructs a post).

The site uses the default configuration (comments on, none stored); `comments_off` turns them off.

    python benchmarks/corpus.py 10000 /tmp/corpus-10k
    python benchmarks/corpus.py 1000 /tmp/corpus-1k --style plain --images 10   # a photo in 10 posts
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

WORDS = (
    "the a reader comment answer blog post conversation writer question reply thread time "
    "people page static site build server template markdown feed archive tag because while "
    "every small quiet kind careful honest long short morning evening week year together "
    "listen think write read share ask learn wonder notice remember forget explain agree "
    "disagree author guest table coffee letter note draft idea story example detail reason "
    "habit practice routine tool dashboard count list queue answerable patient friendly open "
    "clear useful simple better often rarely always never sometimes perhaps really quite"
).split()
TAGS = [f"topic-{n:02d}" for n in range(40)]
CODE = '''```python
def unanswered(comments, author):
    """Reader comments with no reply from the author below them."""
    answered = set()
    for comment in comments:
        if comment["author"] == author and comment["parent"]:
            answered.add(comment["parent"])
    return [c for c in comments if c["author"] != author and c["id"] not in answered]
```
'''
HUGO_LIST = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>
{{ $pager := .Paginate site.RegularPages 10 }}
{{ range $pager.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Summary }}</p></article>{{ end }}
{{ if $pager.HasNext }}<a href="{{ $pager.Next.URL }}">older</a>{{ end }}
</body></html>
"""
HUGO_TERM = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>
{{ $pager := .Paginate .Pages 10 }}
{{ range $pager.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Summary }}</p></article>{{ end }}
</body></html>
"""
HUGO_SINGLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>
<article><h1>{{ .Title }}</h1>{{ .Content }}</article>
<ul>{{ range .Params.tags }}<li><a href="{{ "/tags/" | relURL }}{{ . | urlize }}/">{{ . }}</a></li>{{ end }}</ul>
{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
</body></html>
"""


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def post_body(rng: random.Random, with_code: bool) -> str:
    parts = [paragraph(rng, 4)]
    words = len(parts[0].split())
    section = 1
    while words < 1000:
        if rng.random() < 0.25:
            parts.append(f"## Section {section}: {' '.join(rng.choice(WORDS) for _ in range(3))}")
            section += 1
        if rng.random() < 0.15:
            items = [f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))]
            parts.append("\n".join(items))
        text = paragraph(rng, rng.randint(3, 7))
        if rng.random() < 0.3:
            text += f" See [this note](https://example.com/{rng.randint(1, 999)}) for *more*."
        parts.append(text)
        words += len(text.split())
    if with_code:
        parts.insert(len(parts) // 2, CODE)
    return "\n\n".join(parts) + "\n"


LANGUAGES = ("python", "bash", "toml", "javascript", "go")
SNIPPETS = {
    "python": 'def reply(comment):\n    """Answer a reader."""\n    return f"Thanks, {comment.author}!"\n',
    "bash": "pip install blogengine\nblogengine build --clean\nblogengine serve --port 8000\n",
    "toml": '[comments]\nenabled = true\nurl = "https://comments.example.com"\n',
    "javascript": "document.querySelectorAll('a').forEach((link) => {\n  link.rel = 'noopener';\n});\n",
    "go": 'func answer(c Comment) string {\n\treturn "Thanks, " + c.Author\n}\n',
}


def rich_sentence(rng: random.Random) -> str:
    """A sentence with, most of the time, one inline construct: a link, code, bold, emphasis."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    at = rng.randrange(1, len(words))
    kind = rng.random()
    if kind < 0.22:
        words[at] = f"[{words[at]} {rng.choice(WORDS)}](https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)})"
    elif kind < 0.44:
        words[at] = f"`{rng.choice(WORDS)}_{rng.choice(WORDS)}()`"
    elif kind < 0.62:
        words[at] = f"**{words[at]} {rng.choice(WORDS)}**"
    elif kind < 0.80:
        words[at] = f"*{words[at]}*"
    elif kind < 0.85:
        words[at] = f"https://docs.example.org/{rng.choice(WORDS)}"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"])


def rich_body(rng: random.Random, with_code: bool) -> str:
    parts = [" ".join(rich_sentence(rng) for _ in range(3))]
    words = len(parts[0].split())
    section = 1
    while words < 560:   # headings and lists bring a post to about 700 words
        if rng.random() < 0.2:
            parts.append(f"## {' '.join(rng.choice(WORDS) for _ in range(3)).capitalize()} {section}")
            section += 1
        if rng.random() < 0.25:
            parts.append("\n".join(f"- {rich_sentence(rng)}" for _ in range(rng.randint(2, 5))))
        text = " ".join(rich_sentence(rng) for _ in range(rng.randint(2, 5)))
        parts.append(text)
        words += len(text.split())
    if with_code:
        language = rng.choice(LANGUAGES)
        parts.insert(len(parts) // 2, f"```{language}\n{SNIPPETS[language]}```")
    return "\n\n".join(parts) + "\n"


def photo(rng: random.Random, path: Path) -> None:
    """A 1600x1067 JPEG of coloured noise: as costly to resize as a photo (needs Pillow)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    small = Image.frombytes("RGB", (160, 107), rng.randbytes(160 * 107 * 3))
    small.resize((1600, 1067), Image.Resampling.BICUBIC).save(path, "JPEG", quality=85)


def write_corpus(count: int, root: Path, seed: int = 7, images: int = 0,
                 images_off: bool = False, style: str = "rich", comments_off: bool = False) -> None:
    """Write `root/site` (blogengine) and `root/hugo` (Hugo) from the same generated posts;
    with `images`, one post in that many shows a photo of its own (`images_off`: with
    `[images] enabled = false`)."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    site, hugo = root / "site", root / "hugo"
    (site / "content/posts").mkdir(parents=True)
    (site / "content/pages").mkdir(parents=True)
    (hugo / "content/posts").mkdir(parents=True)
    (hugo / "layouts/_default").mkdir(parents=True)
    (site / "blogengine.toml").write_text(
        'title = "Benchmark Blog"\nbase_url = "https://bench.example.com/"\n'
        'timezone = "UTC"\nposts_per_page = 10\n\n[author]\nname = "Bench Author"\n\n'
        + ('[comments]\nenabled = false\n' if comments_off else "")
        + ("\n[images]\nenabled = false\n" if images_off else ""), encoding="utf-8")
    (hugo / "hugo.toml").write_text(
        'baseURL = "https://bench.example.com/"\ntitle = "Benchmark Blog"\n'
        'disableKinds = ["RSS", "sitemap", "robotsTXT", "404"]\n'
        '[pagination]\npagerSize = 10\n[taxonomies]\ntag = "tags"\n[markup.highlight]\nnoClasses = false\n',
        encoding="utf-8")
    (hugo / "layouts/_default/list.html").write_text(HUGO_LIST, encoding="utf-8")
    (hugo / "layouts/_default/terms.html").write_text(HUGO_TERM, encoding="utf-8")
    (hugo / "layouts/_default/taxonomy.html").write_text(HUGO_TERM, encoding="utf-8")
    (hugo / "layouts/_default/single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (hugo / "layouts/index.html").write_text(HUGO_LIST, encoding="utf-8")
    start = datetime(2015, 1, 1, 8, 0)
    span = timedelta(days=3650).total_seconds()
    for n in range(count):
        when = start + timedelta(seconds=int(span * n / max(count, 1)) + rng.randint(0, 3600))
        title = f"Post {n:05d}: {' '.join(rng.choice(WORDS) for _ in range(4))}"
        tags = sorted(rng.sample(TAGS, rng.randint(1, 5)))
        body = (rich_body if style == "rich" else post_body)(rng, with_code=(n % 2 == 0))
        if images and n % images == 0:
            photo(rng, site / f"content/images/photo-{n:05d}.jpg")
            photo_line = f"![Photo {n}](/images/photo-{n:05d}.jpg)\n\n"
            first, _, rest = body.partition("\n\n")
            body = f"{first}\n\n{photo_line}{rest}"
        front = (f'---\ntitle: "{title}"\ndate: {when:%Y-%m-%d %H:%M}\n'
                 f"tags: [{', '.join(tags)}]\n---\n\n")
        name = f"post-{n:05d}.md"
        (site / "content/posts" / name).write_text(front + body, encoding="utf-8")
        hugo_front = front.replace(f"date: {when:%Y-%m-%d %H:%M}", f"date: {when:%Y-%m-%dT%H:%M:00Z}")
        (hugo / "content/posts" / name).write_text(hugo_front + body, encoding="utf-8")
    for name in ("about", "colophon", "contact"):
        (site / f"content/pages/{name}.md").write_text(
            f"---\ntitle: {name.title()}\n---\n\n{paragraph(rng, 6)}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", type=int)
    parser.add_argument("root", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--images", type=int, default=0, metavar="N",
                        help="one post in N shows a photo (1600x1067 JPEG) of its own")
    parser.add_argument("--images-off", action="store_true",
                        help="with [images] enabled = false (no sizes, no resized copies)")
    parser.add_argument("--style", choices=("rich", "plain"), default="rich")
    parser.add_argument("--comments-off", action="store_true", help="with [comments] enabled = false")
    args = parser.parse_args()
    write_corpus(args.posts, args.root, args.seed, args.images, args.images_off, args.style,
                 args.comments_off)
    print(f"wrote {args.posts} posts to {args.root}/site and {args.root}/hugo")


if __name__ == "__main__":
    main()
