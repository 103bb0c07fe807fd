"""Feedback pages that run nothing of the student's in the browser that opens them (the
student's, and the instructor's, who follows the report's links): a student's cell could show
`display({"text/html": "<script>...</script>"}, raw=True)`, and a markdown cell of theirs is
HTML too.

`BrowserSafe` is a feedback preprocessor (nbgrader_config.py). Code cells keep the outputs a
page shows as text or pictures (an image's size as whole numbers, no other output metadata);
HTML that holds something a browser would run (a script, an event handler, a `javascript:`
link, a frame, a style sheet, SVG) gives way to the output's plain text, and JavaScript, SVG
and widget outputs are dropped. Markdown and raw cells
whose HTML would run something are shown as their plain text. HTML that runs nothing and is
well formed is kept as written; HTML that is not is treated as running, because browsers mend
it in ways a checker cannot foresee (Chromium keeps an `<img onerror>` inside a `<select>`
that the HTML standard's parser drops).
"""
import re

import html5lib
from nbconvert.filters.markdown_mistune import InvalidNotebook, IPythonRenderer, MarkdownWithMath
from nbgrader.preprocessors import NbGraderPreprocessor

from course.nbgrader_plugins import plain_markdown
from course.status import OUTPUT_NOT_SHOWN

# Elements that run code, load other pages or restyle this one
RUNNING_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link",
                    "meta", "base", "form", "template", "noscript", "svg", "math", "portal"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "srcset", "cite", "longdesc", "ping"}
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:")  # a URL's scheme (a relative URL has none)
SAFE_IMAGES = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")
SHOWN_AS_IS = {"text/plain", "text/latex", "image/png", "image/jpeg", "application/json"}
CHECKED_MARKUP = {"text/html"}


def _local(name):
    """A tag or attribute name without its namespace ('{http://www.w3.org/2000/svg}svg' -> 'svg')."""
    return name.rsplit("}", 1)[-1].lower()


def _runs(element):
    tag = element.tag if isinstance(element.tag, str) else ""  # comments have a function as tag
    if _local(tag) in RUNNING_ELEMENTS:
        return True
    for name, value in element.attrib.items():
        name = _local(name if isinstance(name, str) else name[1])
        url = re.sub(r"[\x00-\x20\x7f]", "", value or "").lower()  # browsers drop these in URLs
        if name.startswith("on") or name == "srcdoc" or (name == "style" and "url(" in url) or (
                name in URL_ATTRIBUTES and SCHEME.match(url)
                and not url.startswith(("http:", "https:", "mailto:", *SAFE_IMAGES))):
            return True
    return False


SENTINEL = '<b id="course-browser-safe-end"></b>'
# Parse errors inside text that every browser reads as text alike (`x < 0`, `&nbsp` without `;`)
TEXT_ERRORS = {"expected-tag-name", "expected-named-entity", "named-entity-without-semicolon",
               "numeric-entity-without-semicolon"}


def runs_in_a_browser(markup):
    """Whether HTML (or SVG) text `markup` holds anything a browser would run or load: an element
    of RUNNING_ELEMENTS, an event handler (`onerror=`), a URL that is not http(s), mailto or an
    inline picture, or a style that loads one; or whether it leaves a tag, a quote, a comment or
    a raw-text element open, so that the page around it (and a next output) would become part of
    it. It is parsed as the HTML standard says (html5lib: a comment ends at `--!>` too); markup
    that is not well formed there (any parse error: a tag the parser drops, as `<img>` in a
    `<select>`, which newer browsers keep) counts as running, since browsers may mend it otherwise."""
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    elements = list(parser.parseFragment(markup + SENTINEL).iter())
    closed = any(element.tag == "b" and element.get("id") == "course-browser-safe-end" for element in elements)
    mended = [code for _, code, _ in parser.errors if code not in TEXT_ERRORS]
    return not closed or bool(mended) or any(_runs(element) for element in elements)


def _shown_metadata(metadata):
    """An output's metadata as the page may use it: an image's width and height as whole numbers
    (nbconvert writes them into the <img> tag unquoted), nothing else (no file name to load)."""
    shown = {}
    for mime, values in metadata.items():
        if isinstance(values, dict):
            sizes = {key: int(value) for key, value in values.items() if key in ("width", "height")
                     and re.fullmatch(r"\d{1,5}", str(value))}
            if sizes:
                shown[mime] = sizes
    return shown


def _markdown_runs(cell):
    """Whether markdown cell `cell`, rendered as the page renders it (its pasted images from its
    attachments), runs something in a browser (runs_in_a_browser); also when it names an
    attachment it does not hold, which the page could not render at all."""
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}))
    try:
        return runs_in_a_browser(MarkdownWithMath(renderer=renderer).render(cell.source))
    except InvalidNotebook:  # "missing attachment: image.png"
        return True


class BrowserSafe(NbGraderPreprocessor):
    """Feedback that runs nothing of the student's in the browser (module docstring)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data")
                if data is None:
                    continue
                for mime in list(data):
                    value = data[mime]
                    if mime in SHOWN_AS_IS:
                        continue
                    if mime in CHECKED_MARKUP and isinstance(value, str) and not runs_in_a_browser(value):
                        continue
                    del data[mime]
                if not data:
                    data["text/plain"] = OUTPUT_NOT_SHOWN
                output["metadata"] = _shown_metadata(output.get("metadata", {}))
        elif cell.cell_type == "markdown":
            if _markdown_runs(cell):
                cell.source = plain_markdown(cell.source)
                cell.pop("attachments", None)
        elif cell.cell_type == "raw" and runs_in_a_browser(cell.source):
            cell.cell_type, cell.source = "markdown", plain_markdown(cell.source)
            cell.pop("attachments", None)
        return cell, resources
