"""nbgrader preprocessors that the course adds (registered in nbgrader_config.py).

- InlineChecks (generate_assignment): the source notebooks say `from course.checks import *`;
  the student version gets the module's text instead, so it runs alone in Colab, and a call that
  makes a blank exercise explain itself in Korean (checks.explain_blank_answers).
- ColabBadge (generate_assignment): an "Open in Colab" badge under the title.
- HideHiddenTests (generate_feedback): hidden tests and the tracebacks of test cells
  stay out of the feedback students receive.
- ResilientExecute (autograde, in place of nbgrader's Execute): one cell that kills the kernel,
  hangs or floods the output costs that cell, not the whole run; output and time are limited.
"""
import ast
import asyncio
import collections
import copy
import functools
import html
import json
import math
import re
import secrets
import sys
import time
import unicodedata
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import psutil
from jupyter_client.blocking import BlockingKernelClient
from jupyter_core.utils import ensure_async, run_sync
from nbclient.client import timestamp
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Bool, Dict, Float, Integer, Unicode

from course import cells
from course.answer_client import checker_namespace, run_test_cell
from course.answer_session import AnswersUnreadable, AnswerTimeout, KernelGone, Session, answers_client_context
from course.cell_names import defined_and_read
from course.cpu_watch import CpuWatch
from course.kernel_zygote import LIBRARIES_CHANGED
from course.status import (
    ANSWERS_UNREADABLE,
    CELL_CPU_LIMIT,
    CELL_WOULD_NOT_STOP,
    CHECK_TIMED_OUT,
    FEEDBACK_PLAIN,
    HIDDEN_LINE_REMOVED,
    HIDDEN_TESTS_PLACEHOLDER,
    KERNEL_DIED,
    KERNEL_DIED_IN_CELL,
    KERNEL_RESTARTED,
    NOTEBOOK_TIME_LIMIT,
    OUTPUT_TRUNCATED,
    PROCESSES_LEFT,
    SKIPPED_AFTER_DEATHS,
    UNREADABLE_MESSAGE,
)
from course.test_scope import in_own_scope

CHECKS_IMPORT = "from course.checks import *"
CHECKS_MODULE = Path(__file__).with_name("checks.py")
# Helper modules a lesson's checks cell may import too, inlined after the checks: {import line: file}
MORE_HELPERS = {"from course.training_record import *": Path(__file__).with_name("training_record.py")}
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(repository, branch, assignment_id, notebook_id):
    return (f"https://colab.research.google.com/github/{repository}/blob/{branch}/"
            f"release/{assignment_id}/{notebook_id}.ipynb")


def colab_badge(repository, branch, assignment_id, notebook_id):
    url = colab_url(repository, branch, assignment_id, notebook_id)
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


EXERCISE_HEADING = re.compile(r"^#+\s*(문제\s*\d+)", re.M)  # "### 문제 3. 논리 게이트 (3점)"


def inline_checks_source(exercises=None, more=()):
    """The check helpers' code, as the release's checks cell holds it, then the code of each
    module that the lines `more` import (MORE_HELPERS); with `exercises` ({name: label}, see
    exercise_names), followed by the call that makes blank exercises explain themselves."""
    source = "\n\n\n".join(path.read_text(encoding="utf-8").rstrip("\n")
                           for path in [CHECKS_MODULE, *(MORE_HELPERS[line] for line in more)])
    if exercises is None:
        return source
    entries = "".join(f"\n    {name!r}: {label!r}," for name, label in exercises.items())
    return (f"{source}\n\n\n# 답하지 않은 문제를 한국어로 알려 줍니다 (`course release`가 이 강의의 이름을 넣음)\n"
            f"explain_blank_answers({{{entries}\n}})")


def exercise_names(nb):
    """{name: exercise label} for the names that the solution cells define and that the
    notebook's other code cells read (hidden tests left out, so the release shows no name that
    only they use). The label is the "문제 N" of the last heading above the solution cell,
    else the cell's grade_id. In notebook order."""
    delimiters = ClearHiddenTests()  # nbgrader's default BEGIN/END HIDDEN TESTS
    hidden = re.compile(rf"{re.escape(delimiters.begin_test_delimeter)}.*?"
                        rf"{re.escape(delimiters.end_test_delimeter)}", re.S)
    read, defined, label = set(), {}, None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = EXERCISE_HEADING.findall(cell.source)
            label = heading[-1] if heading else label
        elif cells.is_answer(cell):
            for name in sorted(defined_and_read(cell.source)[0]):
                defined.setdefault(name, label or cells.grade_id(cell))
        elif cell.cell_type == "code":
            read |= defined_and_read(hidden.sub("", cell.source))[1]
    return {name: exercise for name, exercise in defined.items() if name in read}


def blank_answer_exercises(nb):
    """{name: exercise label} as the checks cell's call to explain_blank_answers gives it (the
    release wrote it, and intake restored the cell), else exercise_names(nb)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or "explain_blank_answers({" not in cell.source:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            call = getattr(node, "value", None)
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "explain_blank_answers" \
                    and call.args:
                try:
                    exercises = ast.literal_eval(call.args[0])
                except ValueError:
                    continue
                if isinstance(exercises, dict):
                    return {str(name): str(label) for name, label in exercises.items()}
    return exercise_names(nb)


class InlineChecks(NbGraderPreprocessor):
    """Replace the cell that imports course.checks with the module's own code (and that of the
    MORE_HELPERS the cell imports), and the call that names each exercise's names
    (exercise_names) for the Korean blank-answer messages; the cell is folded in JupyterLab
    (jupyter.source_hidden)."""

    def preprocess(self, nb, resources):
        self._exercises = exercise_names(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and CHECKS_IMPORT in cell.source.splitlines():
            more = [line for line in cell.source.splitlines() if line in MORE_HELPERS]
            cell.source = inline_checks_source(self._exercises, more)
            # shown folded: a beginner reads its one-line comment, not its 200 lines
            cell.metadata["jupyter"] = {"source_hidden": True}
        return cell, resources


class ColabBadge(NbGraderPreprocessor):
    """Put an "Open in Colab" badge right after the title line of the first markdown cell."""

    repository = Unicode(help="GitHub owner/name that hosts release/").tag(config=True)
    branch = Unicode("main", help="Branch of the repository the badge opens").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.repository:
            raise ValueError("c.ColabBadge.repository is not set in nbgrader_config.py")
        assignment_id = resources["nbgrader"]["assignment"]
        notebook_id = resources["nbgrader"]["notebook"]
        badge = colab_badge(self.repository, self.branch, assignment_id, notebook_id)
        first = next((cell for cell in nb.cells if cell.cell_type == "markdown"), None)
        if first is None:
            raise ValueError(f"{notebook_id}: a lesson starts with a markdown title cell")
        lines = [line for line in first.source.splitlines() if BADGE_IMAGE not in line]
        body = lines[1:]
        while body and not body[0].strip():  # the blank lines after the title (and an old badge)
            body.pop(0)
        first.source = "\n".join(lines[:1] + ["", badge] + ([""] + body if body else []))
        return nb, resources


ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])?")
LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:", re.M)
HTML_TAG = re.compile(r"<[^>]*>")
WHITESPACE = re.compile(r"\s+")


# Characters that show nothing or only change how a neighbour looks: format characters (zero-width
# spaces, soft hyphens), controls, separators and combining marks.
UNSEEN_CATEGORIES = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Mc", "Me"}


@functools.cache
def _unseen_characters():
    """A str.translate table deleting every character of UNSEEN_CATEGORIES."""
    return dict.fromkeys(code for code in range(sys.maxunicode + 1)
                         if unicodedata.category(chr(code)) in UNSEEN_CATEGORIES)


def squeeze(text):
    """`text` in NFKC form without whitespace or any character that shows nothing (zero-width
    spaces, combining marks), as hidden-test lines are compared with outputs: doubled spaces,
    line breaks, U+200B between letters or full-width letters inside a line do not hide it."""
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text).translate(_unseen_characters()))


def plain_markdown(source):
    """Markdown `source` as a fenced block: shown as plain text, nothing in it rendered."""
    fence = "~" * max(3, 1 + max((len(run) for run in re.findall(r"~+", source)), default=0))
    return f"{fence}\n{source}\n{fence}"


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each test cell's visible part and its error message ("Name: message"),
    nothing else of it; and no line of a hidden test anywhere, whatever a cell printed: outputs
    are compared with the hidden lines without whitespace, HTML outputs also unescaped and
    without tags, and a cell whose outputs together still hold a hidden line loses them all.

    The page stays about as large as the outputs (ResilientExecute counts each colour code, an
    HTML element here, as ESCAPE_WEIGHT characters): text/markdown outputs are shown as their
    plain text, and a
    markdown cell with link reference definitions (whose uses nbconvert expands, quadratically)
    or longer than `max_markdown_chars` is shown as plain text."""

    begin_test_delimeter = ClearHiddenTests.begin_test_delimeter
    end_test_delimeter = ClearHiddenTests.end_test_delimeter
    min_line_length = Integer(8, help="hidden-test lines shorter than this (such as `)` or `else:`) "
                                      "are not looked for in outputs").tag(config=True)
    max_markdown_chars = Integer(20_000, help="markdown cells longer than this are shown as "
                                              "plain text").tag(config=True)

    def preprocess(self, nb, resources):
        hidden = re.compile(
            rf"^[^\n]*{re.escape(self.begin_test_delimeter)}.*?{re.escape(self.end_test_delimeter)}[^\n]*$",
            re.S | re.M,
        )
        self._hidden_lines = {squeeze(line) for cell in nb.cells if cell.cell_type == "code"
                              and cells.is_test(cell) for region in hidden.findall(cell.source)
                              for line in region.splitlines() if len(line.strip()) >= self.min_line_length}
        for cell in nb.cells:
            if cell.cell_type == "markdown" and (LINK_DEFINITION.search(cell.source)
                                                 or len(cell.source) > self.max_markdown_chars):
                cell.source = plain_markdown(cell.source)
                cell.pop("attachments", None)
            if cell.cell_type != "code":
                continue
            if cells.is_test(cell):
                cell.source = hidden.sub(HIDDEN_TESTS_PLACEHOLDER, cell.source)
                cell.outputs = [output for output in cell.get("outputs", []) if output.output_type == "error"]
                for output in cell.outputs:
                    output.traceback = [f"{output.ename}: {output.evalue}"]
            for output in cell.get("outputs", []):
                self._scrub(output)
            shown = squeeze(ANSI_ESCAPE.sub("", self._visible(cell.get("outputs", []))))
            if any(h in shown for h in self._hidden_lines):
                cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=HIDDEN_LINE_REMOVED + "\n")]
        return nb, resources

    def _holds_hidden(self, text, markup=False):
        text = html.unescape(HTML_TAG.sub("", text)) if markup else text
        squeezed = squeeze(ANSI_ESCAPE.sub("", text))
        return any(h in squeezed for h in self._hidden_lines)

    def _clean(self, text, markup=False):
        lines = text.splitlines(keepends=True)
        return "".join(HIDDEN_LINE_REMOVED + "\n" if self._holds_hidden(line, markup) else line
                       for line in lines)

    @staticmethod
    def _visible(outputs):
        """Every text the outputs show, HTML unescaped and without tags."""
        parts = []
        for output in outputs:
            parts += [str(output.get("text", "")), str(output.get("evalue", ""))]
            parts += [str(line) for line in output.get("traceback", [])]
            for mime, value in output.get("data", {}).items():
                text = value if isinstance(value, str) else json.dumps(value)
                parts.append(html.unescape(HTML_TAG.sub("", text)) if "html" in mime or "svg" in mime
                             else text)
        return "\n".join(parts)

    def _scrub(self, output):
        if "text" in output:
            output.text = self._clean(output.text)
        if "evalue" in output:
            output.evalue = self._clean(str(output.evalue))
            output.traceback = [self._clean(line) for line in output.get("traceback", [])]
        data = output.get("data", {})
        if "text/markdown" in data:
            markdown = data.pop("text/markdown")
            data.setdefault("text/plain", markdown if isinstance(markdown, str) else json.dumps(markdown))
        for mime, value in data.items():
            if isinstance(value, str):
                data[mime] = self._clean(value, markup="html" in mime or "svg" in mime)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled Jinja templates kept in this process, keyed by template and source checksum."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


class _HighlightedCells:
    """Highlighted code cells kept in this process, at most `max_chars` characters of source and
    HTML together; the least recently used go first."""

    def __init__(self, max_chars):
        self.max_chars, self.chars, self.cells = max_chars, 0, collections.OrderedDict()

    def get(self, key, make):
        if key in self.cells:
            self.cells.move_to_end(key)
            return self.cells[key]
        value = self.cells[key] = make()
        self.chars += len(key[0]) + len(value)
        while self.chars > self.max_chars and self.cells:
            (source, *_), old = self.cells.popitem(last=False)
            self.chars -= len(source) + len(old)
        return value


_HIGHLIGHTED = _HighlightedCells(max_chars=10_000_000)  # a lesson's cells: about 0.2 M


class _RememberedHighlight(Highlight2HTML):
    """nbconvert's code highlighting, each cell's HTML kept in this process (_HIGHLIGHTED): most
    code cells of a feedback page are the lesson's own, the same on every student's page."""

    def __call__(self, source, language=None, metadata=None):
        # everything Highlight2HTML reads: the source, the language, the cell's magics language
        # and the formatter's options
        key = (source, language or self.pygments_lexer, repr((metadata or {}).get("magics_language")),
               json.dumps(self.extra_formatter_options, sort_keys=True, default=repr))
        return _HIGHLIGHTED.get(key, lambda: super(_RememberedHighlight, self).__call__(source, language, metadata))


SCRIPT = re.compile(r"(<script\b.*?</script\s*>)", re.I | re.S)
IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^<>]*\balt\s*=)(?=[\s/>])", re.I)


def with_alt_texts(page):
    """`page` with NO_ALT_TEXT given to every image without an alt text, as HTMLExporter gives
    it, scripts left as they are."""
    parts = SCRIPT.split(page)  # odd parts: the scripts
    return "".join(part if number % 2 else IMAGE_WITHOUT_ALT.sub(f'<img alt="{NO_ALT_TEXT}"', part)
                   for number, part in enumerate(parts))


NO_ALT_TEXT = "No description has been provided for this image"  # HTMLExporter's own words


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter made for a class's feedback pages, the same page in a third of
    the time:
    - its templates are compiled once per process (nbgrader makes a new exporter for every page;
      compiling nbconvert's and nbgrader's templates took about 0.5 s of each);
    - code cells are highlighted once per process (_RememberedHighlight);
    - HTMLExporter parses the finished page again with BeautifulSoup to give images without one
      an alt text and JupyterLab's cells a tabindex (1-2 s of a lesson's 2-3 s page); nbgrader's
      feedback template (the classic one underneath) has no such cells, and the alt text is
      added here without the parse.
    A page larger than max_page_chars is replaced by its plain text (plain_page)."""

    max_page_chars = Integer(8_000_000, help="a feedback page larger than this (in characters) "
                                             "is replaced by its plain text").tag(config=True)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        """The page (str) and its resources (dict), as HTMLExporter.from_notebook_node makes them,
        or the page's plain text where it is larger than max_page_chars."""
        page, resources = self._page(nb, resources, **kw)
        return plain_page(page, self.max_page_chars), resources

    def _page(self, nb, resources=None, **kw):
        if self.template_name != "feedback":  # another template may have JupyterLab's cells
            return super().from_notebook_node(nb, resources, **kw)
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", _RememberedHighlight(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return with_alt_texts(page), resources


class _PageText(HTMLParser):
    """The text an HTML page shows (no scripts or styles)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def plain_page(page, max_chars):
    """`page` (an HTML str) as it is if it has at most `max_chars` characters, else a page of
    its plain text: at most max_chars // 2 characters of it, escaped in a <pre>, after a note
    saying why. A feedback page is made from the scrubbed notebook (HideHiddenTests), so its
    text holds no hidden line."""
    if len(page) <= max_chars:
        return page
    parser = _PageText()
    parser.feed(page)
    parser.close()
    text = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))[: max_chars // 2]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>feedback</title></head>"
            f"<body><p>{html.escape(FEEDBACK_PLAIN)}</p><pre>{html.escape(text)}</pre></body></html>\n")


OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "update_display_data", "error"}
# Where the last notebook's time went (seconds), for a job's Result and the class benchmark:
# starting kernels (restarts included), the first code cell (the lesson's imports), the others.
PHASE_SECONDS = {}


ESCAPE_WEIGHT = 40  # an escape character (ANSI colour code) becomes an HTML element in the feedback


def output_size(content):
    """Characters in a message's content: every string (keys included) counted, each escape
    character (the start of an ANSI colour code) as ESCAPE_WEIGHT, nested lists and dicts
    walked without recursion; any other value counts 8."""
    size, stack = 0, [content]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            size += len(value) + (ESCAPE_WEIGHT - 1) * value.count("\x1b")
        elif isinstance(value, bytes):
            size += len(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        else:
            size += 8
    return size


def kernel_process(kernel_manager):
    """The process the kernel manager started (the sandbox's bwrap, or the kernel itself), or
    None if it is not known."""
    return getattr(getattr(kernel_manager, "provisioner", None), "process", None)


def processes_left(kernel_manager):
    """The processes a kernel's cells started that are still there: forks, subprocesses,
    daemons (in the sandbox they are reparented to its init) and children that exited but were
    never reaped, which still count against the process limit. [] if the kernel's process is
    unknown or gone. A kernel manager with a `kernel_depth` attribute starts the kernel that
    many processes below its own (the sandbox: 2); those are not counted."""
    process = kernel_process(kernel_manager)
    if process is None:
        return []
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
        parents = {child.pid: child.ppid() for child in tree}
        started = {child.pid: child.create_time() for child in tree}
    except psutil.Error:
        return []
    chain = []  # the processes from the manager's down to the kernel: the oldest at each level
    for _ in range(getattr(kernel_manager, "kernel_depth", 0)):
        parent = chain[-1] if chain else process.pid
        below = [pid for pid, ppid in parents.items() if ppid == parent]
        if not below:
            return []
        chain.append(min(below, key=lambda pid: (started[pid], pid)))
    return [child for child in tree if child.pid not in chain]


@contextmanager
def _timed(phase):
    tick = time.perf_counter()
    try:
        yield
    finally:
        PHASE_SECONDS[phase] = PHASE_SECONDS.get(phase, 0.0) + time.perf_counter() - tick


class ResilientExecute(Execute):
    """nbgrader's Execute, made robust against one bad cell:

    - when the kernel dies in a cell (os._exit, a segfault, the memory or process limit), it is
      restarted, the cells that ran cleanly before are run again to rebuild the state (the
      outputs of their first run stay), and the cell is tried once more: a cell that died of an
      earlier cell's damage then succeeds; one that kills the kernel itself gets a KernelDied
      error;
    - a cell that leaves processes behind (forks, subprocesses, unreaped children, which hold
      the sandbox's process limit and break the kernel's later messages) is kept as it ran, and
      the kernel is restarted the same way without it;
    - a cell that runs past the timeout and does not stop when interrupted (it ignores SIGINT),
      or whose messages the grader cannot read, gets an error and the kernel is restarted the
      same way; the cell is not tried again;
    - so does a cell whose processes together (the kernel and every child, grandchild and
      daemon it started) use more than `max_cell_cpu_seconds` of CPU time (course.cpu_watch):
      the sandbox's CPU limit holds per process, and each child would get it again;
    - the whole notebook, restarts and replays included, gets `max_seconds` of wall-clock time;
      the cells after that are not run (each gets a CellTimeoutError);
    - every kind of output (streams, displays and their updates, results, errors) counts against
      `max_output_chars` per cell and `max_notebook_output_chars` per notebook; what goes beyond
      is dropped while it arrives, except errors, which are kept, cut short (they decide a test
      cell's points); an error stays even if the cell clears its output afterwards;
    - widget (comm) messages are ignored: nothing in them is graded, and their state would go
      into the notebook's metadata;
    - every code cell runs, whatever its tags: nbclient skips cells tagged `skip-execution`
      (`skip_cells_with_tag`), and a test cell that does not run shows no error and would get its
      points; the tag is set to a new random string for each notebook, which no cell carries;
    - a test cell runs in a scope of its own (course.test_scope, `test_cells_in_own_scope`): what
      it binds cannot be read by the student's functions it calls.
    """

    checks_outside_kernel = Bool(True, help="run test cells in the grader, not in the student's kernel: "
                                            "they read the answers from the kernel as data "
                                            "(course/answer_client.py)").tag(config=True)
    checker_preamble = Unicode("import numpy as np", help="Python code run once before a notebook's test "
                               "cells, where they run outside the kernel: the libraries they "
                               "use").tag(config=True)
    test_cells_in_own_scope = Bool(True, help="run each test cell as a function called at once, so "
                                              "that its names are not the notebook's globals").tag(config=True)
    _answers_client, _checker_globals, _exercises, _stuck, _handed = None, None, None, False, {}
    max_output_chars = Integer(200_000, help="output kept per cell (characters)").tag(config=True)
    max_notebook_output_chars = Integer(2_000_000, help="output kept in the whole notebook "
                                                        "(characters)").tag(config=True)
    max_kernel_deaths = Integer(4, help="kernel restarts before the rest is skipped").tag(config=True)
    max_seconds = Integer(900, help="wall-clock seconds for running the whole notebook").tag(config=True)
    max_cell_cpu_seconds = Float(90.0, help="CPU seconds a cell's processes may use together (the "
                                            "kernel and all it started); 0: no limit").tag(config=True)
    test_cell_seconds = Dict(value_trait=Float(), key_trait=Unicode(),
                             help="seconds of wall-clock and of CPU time for the test cells named here "
                                  "(by grade_id), in place of Execute.timeout and max_cell_cpu_seconds: "
                                  "those that train the answer's model again").tag(config=True)
    interrupt_grace_seconds = Integer(20, help="after a timeout the kernel is interrupted: the "
                                               "seconds its last output may take to come (a cell that "
                                               "will not stop is ended after them)").tag(config=True)
    # each reading lists every process of the machine (psutil): about 6 ms of the grader's CPU
    cpu_watch_interval = Float(1.0, help="seconds between two readings of the kernel's CPU time; "
                                         "a tree may use cores x this past its budget").tag(config=True)

    def reset_execution_trackers(self):
        """Start a notebook: no restarts, no output, `max_seconds` from now."""
        super().reset_execution_trackers()
        PHASE_SECONDS.clear()
        self._clean, self._deaths, self._replaying = [], 0, False
        self._charged, self._total, self._truncated, self._errors = {}, 0, set(), {}
        self._deadline = time.monotonic() + self.max_seconds
        self.skip_cells_with_tag = f"never-skip-{secrets.token_hex(16)}"  # no cell can be skipped
        self._close_answers_client()
        self._checker_globals = self._exercises = None
        self._stuck, self._handed = False, {}

    def on_cell_executed(self, **kwargs):
        """nbgrader's (a timeout's error goes into the cell), then keep in the cell's metadata what
        the kernel put back in the libraries around it (kernel_zygote.LIBRARIES_CHANGED in the
        execute reply); the job flags the submission with it."""
        super().on_cell_executed(**kwargs)
        cell = kwargs["cell"]
        changed = (kwargs.get("execute_reply") or {}).get("content", {}).get(LIBRARIES_CHANGED)
        cell.metadata.pop(LIBRARIES_CHANGED, None)  # a submission's own says nothing
        if changed:
            cell.metadata[LIBRARIES_CHANGED] = [str(name) for name in changed][:20]

    async def async_start_new_kernel(self, **kwargs):
        with _timed("kernel start"):
            await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        with _timed("kernel start"):
            return await super().async_start_new_kernel_client()

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        """nbclient's, with a test cell sent to the kernel in a scope of its own; the notebook
        keeps the cell's own source."""
        if self.checks_outside_kernel and cells.is_test(cell):
            return await self._check_outside(cell, cell_index)
        scoped = in_own_scope(cell.source) if self.test_cells_in_own_scope and cells.is_test(cell) else None
        if scoped is None:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        source, cell.source = cell.source, scoped
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = source

    async def _check_outside(self, cell, cell_index):
        """Run test cell `cell` here, against the answers in the kernel (course/answer_client.py):
        its outputs are the checks' (an error where one failed). Raises DeadKernelError when the
        kernel died meanwhile; a kernel left busy (an answer that ran past the cell's time, or
        that broke off the conversation) is restarted after the cell (`_stuck`)."""
        if self._checker_globals is None:
            self._checker_globals = checker_namespace(self.checker_preamble)
            self._exercises = blank_answer_exercises(self.nb)
        timeout = self._get_timeout(cell)
        deadline = time.monotonic() + (timeout if timeout is not None else self._seconds_left())
        loop = asyncio.get_running_loop()
        drain = asyncio.ensure_future(self._discard_output())
        started = timestamp()  # as nbclient records a cell's timing (record_timing): how long the checks took
        try:
            outputs, reply, handed = await loop.run_in_executor(None, self._run_outside, cell.source, deadline,
                                                                timeout)
        finally:
            drain.cancel()
        if self.record_timing:
            cell.metadata["execution"] = {"iopub.execute_input": started, "shell.execute_reply": timestamp()}
        self._handed[cell_index] = handed
        cell.outputs = outputs
        cell.execution_count = None
        changed = ((reply or {}).get("content") or {}).get(LIBRARIES_CHANGED)
        cell.metadata.pop(LIBRARIES_CHANGED, None)
        if changed:
            cell.metadata[LIBRARIES_CHANGED] = [str(name) for name in changed][:20]
        return cell

    def _run_outside(self, source, deadline, timeout):
        """(outputs, the execute reply of the kernel's side of the conversation or None, what the
        cell handed the kernel: run_test_cell)."""
        process = kernel_process(self.km)
        session = Session(self._answers_client_for_kernel(), deadline,
                          lambda: process is None or process.poll() is None)
        handed = []
        try:
            session.start()
            outputs = run_test_cell(source, session, self._checker_globals, self._exercises)
            handed = session.handed
        except KernelGone:
            raise DeadKernelError("the kernel died while the checks read its answers") from None
        except AnswerTimeout:
            outputs = [_error("CellTimeoutError", CHECK_TIMED_OUT.format(seconds=timeout or self.max_seconds))]
        except AnswersUnreadable as error:
            outputs = [_error("AnswersUnreadable", ANSWERS_UNREADABLE.format(reason=str(error)[:300]))]
        if not session.finish():
            self._stuck = True  # the kernel still runs the answer: restarted after this cell
        return outputs, session.reply, handed

    def _answers_client_for_kernel(self):
        """The blocking client the checks talk to the kernel with (made on first use)."""
        if self._answers_client is None:
            # a session of its own: a client with the grader's session would share its sockets'
            # identity, and the kernel's replies to the grader's cells could come to this one;
            # and, as the grader's, sockets that drop a message part past the sandbox's limit
            context = answers_client_context(getattr(self.km, "max_message_bytes", 64 * 2 ** 20))
            self._answers_client = BlockingKernelClient(context=context)
            self._answers_client._created_context = True  # destroyed with its channels
            self._answers_client.load_connection_info(self.km.get_connection_info())
            self._answers_client.start_channels()
        return self._answers_client

    async def _discard_output(self):
        """Read and drop what the kernel publishes while the checks run outside it (what the
        student's code prints when they call it): left unread, it would pile up in the grader."""
        while True:
            try:
                await ensure_async(self.kc.get_iopub_msg(timeout=1))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 (nothing came, or a message the grader cannot read)
                await asyncio.sleep(0.05)

    def _hand_again(self, handed):
        """After a restart: give the kernel again what a test cell bound (run_test_cell), as data."""
        session = Session(self._answers_client_for_kernel(), time.monotonic() + 30, lambda: True)
        try:
            session.start()
            session.request({"op": "bind", "values": {"~": "dict", "items": handed}})
        except Exception:  # noqa: BLE001 (the data is lost to the kernel; the grading goes on)
            pass
        session.finish()

    def _close_answers_client(self):
        client, self._answers_client = getattr(self, "_answers_client", None), None
        if client is not None:
            client.stop_channels()

    async def _async_cleanup_kernel(self):
        self._close_answers_client()
        await super()._async_cleanup_kernel()

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient's sync names bind its own
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        with _timed("cells" if "setup cell" in PHASE_SECONDS else "setup cell"):
            return self._run_cell(cell, resources, index)

    def _run_cell(self, cell, resources, index):
        for attempt in range(2):
            skipped = self._skip_reason()
            if skipped:
                cell.outputs = [skipped]
                return cell, resources
            self._errors.pop(index, None)  # a retried cell is judged by its last run
            self._total -= self._charged.pop(index, 0)  # and its outputs replace the dead run's
            self._truncated.discard(index)
            failure = None
            self._iopub_seconds = self.iopub_timeout
            with self._cpu_watch(cell) as watch:
                try:
                    cell, resources = super().preprocess_cell(cell, resources, index)
                except DeadKernelError:
                    failure = "died"
                except CellTimeoutError:
                    failure = _error("CellTimeoutError", CELL_WOULD_NOT_STOP)
                except Exception as error:  # noqa: BLE001 (whatever a hostile kernel sends costs one cell)
                    failure = _error(KERNEL_DIED, UNREADABLE_MESSAGE.format(error=type(error).__name__))
                finally:
                    self.iopub_timeout = self._iopub_seconds
            if self._stuck and failure is None:  # an answer a test cell called still runs
                self._stuck = False
                cell = self._finish(cell, index)
                self._recover()
                return cell, resources
            if watch.fired:  # the watch killed the kernel: whatever nbclient saw, the cell is done
                failure = _error("CellTimeoutError", CELL_CPU_LIMIT.format(
                    seconds=f"{self._own_seconds(cell) or self.max_cell_cpu_seconds:g}", used=f"{watch.used:.1f}"))
            if failure == "died":
                self._recover()
                if self.checks_outside_kernel and cells.is_test(cell):
                    # the answer the checks called killed the kernel: a second run would only
                    # spend another of the notebook's restarts (round 15: two such cells used all 4)
                    cell.outputs.append(_error(KERNEL_DIED, KERNEL_DIED_IN_CELL))
                    return self._finish(cell, index), resources
                continue
            if failure is not None:
                cell.outputs.append(failure)
                self._recover()
                return self._finish(cell, index), resources
            if attempt:
                cell.outputs.insert(0, NotebookNode(output_type="stream", name="stdout",
                                                    text=KERNEL_RESTARTED + "\n"))
            cell = self._finish(cell, index)
            left = processes_left(self.km)
            if left:
                cell.outputs.append(NotebookNode(output_type="stream", name="stdout",
                                                 text=PROCESSES_LEFT.format(count=len(left)) + "\n"))
                self._recover()
            elif not any(output.output_type == "error" for output in cell.outputs):
                self._clean.append(index)
            return cell, resources
        cell.outputs.append(_error(KERNEL_DIED, KERNEL_DIED_IN_CELL))
        return self._finish(cell, index), resources

    def _finish(self, cell, index):
        """Put back errors the cell cleared, and the note that output was dropped."""
        errors = self._errors.pop(index, [])
        if errors and not any(output.output_type == "error" for output in cell.outputs):
            cell.outputs += errors
        if index in self._truncated and not any(
                output.output_type == "stream" and OUTPUT_TRUNCATED in str(output.get("text", ""))
                for output in cell.outputs):
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=OUTPUT_TRUNCATED))
        return cell

    def _skip_reason(self):
        if self._deaths >= self.max_kernel_deaths:
            return _error(KERNEL_DIED, SKIPPED_AFTER_DEATHS.format(deaths=self._deaths))
        if time.monotonic() >= self._deadline:
            return _error("CellTimeoutError", NOTEBOOK_TIME_LIMIT.format(seconds=self.max_seconds))
        return None

    def _own_seconds(self, cell):
        """The seconds test_cell_seconds gives `cell`, or None."""
        return self.test_cell_seconds.get(cells.grade_id(cell)) if cells.is_test(cell) else None

    def _cpu_watch(self, cell):
        """A CpuWatch over the kernel's process tree, with `cell`'s CPU budget."""
        process = kernel_process(self.km)
        return CpuWatch(process.pid if process is not None else None,
                        self._own_seconds(cell) or self.max_cell_cpu_seconds, self.cpu_watch_interval)

    def _seconds_left(self):
        return max(1, math.ceil(self._deadline - time.monotonic()))

    async def _async_handle_timeout(self, timeout, cell=None):
        """nbclient's: the kernel is interrupted and the cell gets nbgrader's timeout error; then
        nbclient waits `iopub_timeout` (set long for a loaded machine) for the cell's last output,
        which a cell that will not stop never sends: it waits `interrupt_grace_seconds` instead."""
        reply = await super()._async_handle_timeout(timeout, cell)
        self.iopub_timeout = min(self.iopub_timeout, self.interrupt_grace_seconds)
        return reply

    def _get_timeout(self, cell):
        timeout = (self._own_seconds(cell) if cell is not None else None) or super()._get_timeout(cell)
        return self._seconds_left() if timeout is None else min(timeout, self._seconds_left())

    def _recover(self):
        """Restart the kernel and replay the clean cells; a replay that fails (the kernel dies
        or hangs again) costs another restart. Out of restarts or of time, the kernel is only
        stopped: the cells after this one are skipped."""
        while self._deaths < self.max_kernel_deaths and time.monotonic() < self._deadline:
            self._deaths += 1
            try:
                run_sync(self._restart_and_replay)()
                return
            except Exception:  # noqa: BLE001 (the replay failed: restart again)
                continue
        run_sync(self._stop_kernel)()

    async def _stop_kernel(self):
        if await ensure_async(self.km.is_alive()):
            await ensure_async(self.km.shutdown_kernel(now=True, restart=True))

    async def _restart_and_replay(self):
        await ensure_async(self.km.restart_kernel(now=True))
        self._close_answers_client()
        self._stuck = False
        # A new client: the old one's sockets may have dropped their connection (a message over
        # the sandbox's max_message_bytes does that) and would never hear from the kernel again.
        await ensure_async(self.kc.stop_channels())
        self.kc = self.km.client()
        await ensure_async(self.kc.start_channels())
        await ensure_async(self.kc.wait_for_ready(timeout=min(self.startup_timeout, self._seconds_left())))
        self.kc.allow_stdin = False
        self._replaying = True
        try:
            for index in self._clean:
                graded = self.nb.cells[index]
                if self.checks_outside_kernel and cells.is_test(graded):
                    if self._handed.get(index):  # it ran outside the kernel: only what it bound is here
                        await asyncio.get_running_loop().run_in_executor(None, self._hand_again,
                                                                         self._handed[index])
                    continue
                try:
                    with self._cpu_watch(graded):  # a replay past the budget dies: restarted again
                        await self.async_execute_cell(copy.deepcopy(graded), index, store_history=False)
                finally:
                    self.nb.cells[index] = graded  # nbclient stores the copy it ran
        finally:
            self._replaying = False

    def process_message(self, msg, cell, cell_index):
        msg_type = msg["msg_type"]
        if msg_type.startswith("comm"):
            return None
        if msg_type == "stream" and msg["content"].get("name") == "stderr" and cells.is_test(cell):
            # nbgrader gives 0 to a test cell with any stderr output: a library's warning
            # (or a print to stderr in the student's function) must not cost its points
            msg = {**msg, "content": {**msg["content"], "name": "stdout"}}
        if msg_type in OUTPUT_MESSAGES:
            if self._replaying:
                return None  # the replayed cells' outputs were kept the first time
            msg = self._within_limits(msg, cell_index)
            if msg is None:
                return None
        output = super().process_message(msg, cell, cell_index)
        if msg_type == "error" and output is not None:
            self._errors.setdefault(cell_index, []).append(output)
        return output

    def _within_limits(self, msg, cell_index):
        """The message if its output fits what is left of the cell's and the notebook's
        allowance (charging it), a stream cut to fit, an error cut short; else None."""
        msg_type, content = msg["msg_type"], msg["content"]
        copies = 0 if msg_type == "update_display_data" else 1
        display_id = (content.get("transient") or {}).get("display_id")
        if display_id:  # the data replaces every output shown under that id so far
            copies += sum(map(len, self._display_id_map.get(display_id, {}).values()))
        size = output_size(content) * max(copies, 1)
        used = self._charged.get(cell_index, 0)
        room = min(self.max_output_chars - used, self.max_notebook_output_chars - self._total)
        if cell_index not in self._truncated and size <= room:
            self._charge(cell_index, size)
            return msg
        self._truncated.add(cell_index)
        if msg_type == "error":
            if self._errors.get(cell_index):
                return None  # the cell's first error decides its points; later ones add nothing
            ename, evalue = str(content.get("ename", ""))[:200], str(content.get("evalue", ""))[:2000]
            short = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
            self._charge(cell_index, output_size(short))
            return {**msg, "content": short}
        if msg_type == "stream" and isinstance(content.get("text"), str):
            cut = {**content, "text": ""}
            keep = room - output_size(cut)
            while keep > 0:
                cut["text"] = content["text"][:keep]
                excess = output_size(cut) - room
                if excess <= 0:
                    self._charge(cell_index, output_size(cut))
                    return {**msg, "content": cut}
                keep -= max(excess // ESCAPE_WEIGHT, 1)
        return None

    def _charge(self, cell_index, size):
        self._charged[cell_index] = self._charged.get(cell_index, 0) + size
        self._total += size


def _error(ename, message):
    return NotebookNode(output_type="error", ename=ename, evalue=message,
                        traceback=[f"{ename}: {message}"])
