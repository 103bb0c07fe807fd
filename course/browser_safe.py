"""Feedback pages that run nothing of the student's in the browser that opens them (the
student's, and the instructor's, who follows the report's links): a student's cell could show
`display({"text/html": "<script>...</script>"}, raw=True)`, and a markdown cell of theirs is
HTML too.

`BrowserSafe` is a feedback preprocessor (nbgrader_config.py). Code cells keep the outputs a
page shows as text or pictures; HTML and SVG that hold something a browser would run (a
script, an event handler, a `javascript:` link, a frame, a style sheet) give way to the
output's plain text, and JavaScript and widget outputs are dropped. Markdown and raw cells
whose HTML would run something are shown as their plain text. HTML that runs nothing (pandas'
tables) is kept as written.
"""
import re
from html.parser import HTMLParser

from nbconvert.filters.markdown import markdown2html
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
CHECKED_MARKUP = {"text/html", "image/svg+xml"}


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.runs = False

    def handle_starttag(self, tag, attrs):
        if tag in RUNNING_ELEMENTS:
            self.runs = True
        for name, value in attrs:
            url = "".join((value or "").split()).lower()
            if name.startswith("on") or name == "srcdoc" or (name == "style" and "url(" in url) or (
                    name in URL_ATTRIBUTES and SCHEME.match(url)
                    and not url.startswith(("http:", "https:", "mailto:", *SAFE_IMAGES))):
                self.runs = True

    handle_startendtag = handle_starttag


def runs_in_a_browser(markup):
    """Whether HTML (or SVG) text `markup` holds anything a browser would run or load: an element
    of RUNNING_ELEMENTS, an event handler (`onerror=`), a URL that is not http(s), mailto or an
    inline picture, or a style that loads one."""
    scan = _Scan()
    scan.feed(markup)
    scan.close()
    return scan.runs


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
        elif cell.cell_type == "markdown":
            if runs_in_a_browser(markdown2html(cell.source)):
                cell.source = plain_markdown(cell.source)
        elif cell.cell_type == "raw" and runs_in_a_browser(cell.source):
            cell.cell_type, cell.source = "markdown", plain_markdown(cell.source)
            cell.pop("attachments", None)
        return cell, resources
