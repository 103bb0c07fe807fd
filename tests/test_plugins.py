"""The course's nbgrader preprocessors on notebooks in memory, without a kernel: InlineChecks,
ColabBadge, HideHiddenTests, and ResilientExecute's output cap and kernel-death handling (with
nbconvert's cell execution replaced by a script of what the kernel does)."""
import copy

import pytest
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ExecutePreprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell
from tiny_lesson import answer_cell, cell, error, graded_cell, lesson, locked_cell, released, stream

from course.nbgrader_plugins import (
    BADGE_IMAGE,
    CHECKS_IMPORT,
    ColabBadge,
    HideHiddenTests,
    InlineChecks,
    ResilientExecute,
    exercise_names,
    inline_checks_source,
)
from course.paths import REPOSITORY_ROOT
from course.status import (
    CELL_CPU_LIMIT,
    FEEDBACK_PLAIN,
    HIDDEN_LINE_REMOVED,
    HIDDEN_TESTS_PLACEHOLDER,
    KERNEL_DIED,
    KERNEL_DIED_IN_CELL,
    KERNEL_RESTARTED,
    SKIPPED_AFTER_DEATHS,
)

# ---- InlineChecks ---------------------------------------------------------------------------


def test_inline_checks_replaces_exactly_the_import_cell():
    nb = lesson(new_markdown_cell(f"Run `{CHECKS_IMPORT}` first, or this line:\n{CHECKS_IMPORT}"),
                new_code_cell("from course.checks import check_equal"),
                locked_cell("checks", f"# 채점 도우미\n{CHECKS_IMPORT}"),
                new_code_cell(f"x = 1  # {CHECKS_IMPORT}"))
    before = copy.deepcopy(nb)
    InlineChecks().preprocess(nb, {})
    changed = [i for i, (old, new) in enumerate(zip(before.cells, nb.cells)) if old != new]
    assert changed == [3]
    module = (REPOSITORY_ROOT / "course" / "checks.py").read_text(encoding="utf-8").rstrip()
    assert inline_checks_source() == module and "def check_equal" in module
    assert nb.cells[3].source == inline_checks_source({})
    assert nb.cells[3].source.startswith(f"{module}\n") and nb.cells[3].source.endswith("explain_blank_answers({\n})")


def test_a_checks_cell_that_imports_the_training_record_gets_its_code_after_the_checks():
    more = "from course.training_record import *"
    nb = lesson(locked_cell("checks", f"# 채점 도우미\n{CHECKS_IMPORT}\n{more}"))
    InlineChecks().preprocess(nb, {})
    checks, record = ((REPOSITORY_ROOT / "course" / name).read_text(encoding="utf-8").rstrip()
                      for name in ("checks.py", "training_record.py"))
    assert nb.cells[1].source == inline_checks_source({}, [more])
    assert nb.cells[1].source.startswith(f"{checks}\n\n\n{record}\n") and "import *" not in nb.cells[1].source
    compile(nb.cells[1].source, "checks", "exec")


def test_exercise_names_are_the_answers_names_that_other_cells_use():
    nb = lesson(new_markdown_cell("### 문제 1. 두 배 (2점)"),
                answer_cell("double", "def _helper(x):\n    return x\n\n\ndef double(x):\n    ### BEGIN SOLUTION\n"
                                      "    return 2 * _helper(x)\n    ### END SOLUTION"),
                graded_cell("test_double", "assert double(2) == 4"),
                new_markdown_cell("## 정리\n\n### 문제 2. 반과 상수 (1점)\n설명"),
                answer_cell("halve", "### BEGIN SOLUTION\nHALF = 0.5\nSECRET = 3\n"
                                     "halve = lambda x: x * HALF\n### END SOLUTION"),
                graded_cell("test_halve", "assert halve(4) == 2 and HALF\n### BEGIN HIDDEN TESTS\n"
                                          "assert SECRET\n### END HIDDEN TESTS"),
                new_code_cell("print(double(HALF))"))
    # _helper and SECRET (read by a hidden test only) are no one's business; the label is the
    # last "문제 N" heading above the answer cell
    assert exercise_names(nb) == {"double": "문제 1", "HALF": "문제 2", "halve": "문제 2"}
    nb.cells.insert(1, locked_cell("checks", CHECKS_IMPORT))
    InlineChecks().preprocess(nb, {})
    assert nb.cells[1].source == inline_checks_source({"double": "문제 1", "HALF": "문제 2", "halve": "문제 2"})
    assert nb.cells[1].source.endswith(
        "explain_blank_answers({\n    'double': '문제 1',\n    'HALF': '문제 2',\n    'halve': '문제 2',\n})")
    compile(nb.cells[1].source, "checks", "exec")


# ---- ColabBadge -----------------------------------------------------------------------------

RESOURCES = {"nbgrader": {"assignment": "01_tiny", "notebook": "01_tiny"}}
URL = "https://colab.research.google.com/github/me/course/blob/{branch}/release/01_tiny/01_tiny.ipynb"


def _badge(nb, repository="me/course", branch="main"):
    ColabBadge(repository=repository, branch=branch).preprocess(nb, copy.deepcopy(RESOURCES))
    return nb


def test_the_badge_goes_right_after_the_title_line():
    nb = _badge(lesson(new_markdown_cell("## second markdown cell")), branch="spring")
    assert nb.cells[0].source.splitlines() == [
        "# 01. 작은 강의 (A tiny lesson)", "", f"[![Open In Colab]({BADGE_IMAGE})]({URL.format(branch='spring')})", "",
        "**학습 목표**: 테스트"]
    assert nb.cells[1].source == "## second markdown cell"


def test_an_old_badge_is_replaced_not_duplicated():
    once = _badge(lesson(), branch="old-branch")
    twice = _badge(copy.deepcopy(once))
    assert twice.cells[0].source.count(BADGE_IMAGE) == 1
    assert URL.format(branch="main") in twice.cells[0].source and "old-branch" not in twice.cells[0].source
    assert _badge(copy.deepcopy(twice)) == twice, "releasing a released notebook again changes nothing"
    assert twice == _badge(lesson()), "the same as a badge put on the notebook without one"


def test_the_badge_needs_a_repository():
    with pytest.raises(ValueError, match="repository is not set"):
        _badge(lesson(), repository="")


def test_the_badge_needs_a_markdown_cell():
    nb = lesson(new_code_cell("x = 1"))
    nb.cells.pop(0)
    with pytest.raises(ValueError, match="markdown title cell"):
        _badge(nb)


# ---- HideHiddenTests ------------------------------------------------------------------------

HIDDEN_TEST = ("check(halve(4), 2)\n"
               "### BEGIN HIDDEN TESTS\nsecret = [0, 8]\ncheck(halve(8), 4)\n### END HIDDEN TESTS\n"
               "print('visible end')\n"
               "    ### BEGIN HIDDEN TESTS\n    check(halve(-2), -1)\n    ### END HIDDEN TESTS")
TRACEBACK = ["\x1b[0;31m---------------------------------------------------------------------------",
             "\x1b[0;32m      2\x1b[0m secret = [0, 8]\n\x1b[0;32m----> 3\x1b[0m check(halve(8), 4)",
             "\x1b[0;31mCheckFailed\x1b[0m: halve(8): 기대한 값은 4, 실제 값은 0입니다."]


def _feedback(nb):
    HideHiddenTests().preprocess(nb, {})
    return nb


def test_hidden_regions_become_the_placeholder_and_a_test_cell_shows_only_its_message():
    test = graded_cell("test_halve", HIDDEN_TEST)
    test.outputs = [stream("visible\n"), error("CheckFailed", "halve(8): 기대한 값은 4, 실제 값은 0입니다.", TRACEBACK)]
    _feedback(lesson(test))
    assert test.source == (f"check(halve(4), 2)\n{HIDDEN_TESTS_PLACEHOLDER}\nprint('visible end')\n"
                           f"{HIDDEN_TESTS_PLACEHOLDER}")
    assert len(test.outputs) == 1, "what a test cell printed (the student's code may print anything) is not shown"
    assert test.outputs[0].traceback == ["CheckFailed: halve(8): 기대한 값은 4, 실제 값은 0입니다."]
    assert (test.outputs[0].ename, test.outputs[0].evalue) == (
        "CheckFailed", "halve(8): 기대한 값은 4, 실제 값은 0입니다.")


def test_answer_and_ordinary_cells_are_left_alone():
    answer = answer_cell("halve", HIDDEN_TEST)
    answer.outputs = [error("ValueError", "x", TRACEBACK)]
    plain = new_code_cell(HIDDEN_TEST, outputs=[error("ValueError", "x", TRACEBACK)])
    nb = lesson(answer, plain, new_markdown_cell(HIDDEN_TEST))
    before = copy.deepcopy(nb)
    assert _feedback(nb) == before


@pytest.mark.parametrize("shown", [
    "check(halve(8), 4)", "check( halve(8),\t4 )",
    "\u200b".join("check(halve(8), 4)"),  # zero-width spaces between the letters
    "\u00ad".join("check(halve(8), 4)"),  # soft hyphens
    "".join(c + "\u0332" for c in "check(halve(8), 4)"),  # a combining underline on each
    "ｃｈｅｃｋ（ｈａｌｖｅ（８），　４）",  # full-width forms
])
def test_a_hidden_line_printed_in_any_disguise_is_removed(shown):
    """What a student's cell prints is compared with the hidden lines in NFKC form, without
    whitespace or characters that show nothing (the page would still read as the line)."""
    printer = new_code_cell("print(leaked)", outputs=[stream(f"before\n{shown}\nafter\n")])
    _feedback(lesson(graded_cell("test_halve", HIDDEN_TEST), printer))
    assert printer.outputs[0].text == f"before\n{HIDDEN_LINE_REMOVED}\nafter\n"


def test_a_test_cell_without_hidden_tests_keeps_its_source():
    nb = released()
    before = cell(nb, "test_double").source
    _feedback(nb)
    assert cell(nb, "test_double").source == before
    assert HIDDEN_TESTS_PLACEHOLDER in cell(nb, "test_halve").source


# ---- ResilientExecute (its output limits: test_output_limits.py) ----------------------------

def _executor(**settings):
    """A ResilientExecute in the state its preprocess() (and nbclient, before each cell) sets up."""
    executor = ResilientExecute(**settings)
    executor.reset_execution_trackers()
    executor.clear_before_next_output = False
    return executor


def _message(msg_type, content):
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {"msg_id": "run"},
            "content": content}


def _printed(text):
    return _message("stream", {"name": "stdout", "text": text})


# ---- ResilientExecute: a cell that kills the kernel -----------------------------------------

class Kernel:
    """What the kernel does with each cell, in place of nbconvert's execution of one cell:
    `script` {cell index: [step of each run]}, a step being "ok", "error", "die", ("print", n
    characters), ("print, then die", n), "spin" (the CPU watch kills the kernel: nbclient sees
    it die) or "spin, reply" (the watch kills it as the cell's reply arrives)."""

    def __init__(self, script):
        self.script = {index: list(steps) for index, steps in script.items()}
        self.runs, self.restarts, self.replayed = [], 0, []
        self.spun = False

    def execute(self, executor, code, resources, index):
        self.runs.append(index)
        step = self.script[index].pop(0)
        code.outputs = []  # as nbclient does before each run
        self.spun = step.startswith("spin") if isinstance(step, str) else False
        if step in ("die", "spin"):
            raise DeadKernelError("Kernel died")
        if step == "error":
            code.outputs.append(error("ValueError", "bad"))
        elif isinstance(step, tuple):
            executor.process_message(_printed("p" * step[1]), code, index)
            if step[0] == "print, then die":
                raise DeadKernelError("Kernel died")
        else:
            code.outputs.append(stream(f"ran {index}\n"))
        return code, resources

    def restart_kernel(self, now):
        self.restarts += 1

    def wait_for_ready(self, timeout):
        pass

    def client(self):
        return self

    def start_channels(self):
        pass

    def stop_channels(self):
        pass

    async def execute_cell(self, code, index, store_history=True):
        self.replayed.append(index)
        code.outputs = [stream("replayed\n")]


class _Watch:
    """In place of course.cpu_watch.CpuWatch: fired when the kernel's step was a spin."""

    def __init__(self, kernel):
        self.kernel, self.used = kernel, 12.5

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    @property
    def fired(self):
        return self.kernel.spun


def _run(nb, script, monkeypatch, **settings):
    kernel = Kernel(script)
    monkeypatch.setattr(ExecutePreprocessor, "preprocess_cell",
                        lambda self, code, resources, index: kernel.execute(self, code, resources, index))
    monkeypatch.setattr(ResilientExecute, "_cpu_watch", lambda self, cell: _Watch(kernel))
    executor = _executor(**settings)
    executor.nb, executor.km, executor.kc = nb, kernel, kernel
    executor.async_execute_cell = kernel.execute_cell
    for index, code in enumerate(nb.cells):
        executor.preprocess_cell(code, {}, index)
    return kernel, executor


def _cells(count):
    return lesson(*(new_code_cell(f"x{i} = {i}") for i in range(count)))


def test_a_cell_that_died_of_earlier_damage_is_rerun_after_a_restart_and_a_replay(monkeypatch):
    nb = _cells(4)
    kernel, executor = _run(nb, {1: ["ok"], 2: ["error"], 3: ["die", "ok"], 4: ["ok"]}, monkeypatch)
    assert kernel.runs == [1, 2, 3, 3, 4], "markdown is not run; the dead cell runs twice"
    assert (kernel.restarts, kernel.replayed) == (1, [1]), "only the clean cells are replayed"
    assert nb.cells[1].outputs == [stream("ran 1\n")], "a replay keeps the first outputs"
    assert nb.cells[3].outputs == [stream(KERNEL_RESTARTED + "\n", name="stdout"), stream("ran 3\n")]
    assert executor._clean == [1, 3, 4]


def test_a_cell_that_kills_the_kernel_itself_gets_an_error_and_the_rest_runs(monkeypatch):
    nb = _cells(2)
    kernel, executor = _run(nb, {1: ["die", "die"], 2: ["ok"]}, monkeypatch)
    assert kernel.runs == [1, 1, 2] and kernel.restarts == 2
    assert [(out.output_type, out.get("ename"), out.get("evalue")) for out in nb.cells[1].outputs] == [
        ("error", KERNEL_DIED, KERNEL_DIED_IN_CELL)]
    assert nb.cells[2].outputs == [stream("ran 2\n")]
    assert executor._clean == [2]


def test_after_too_many_kernel_deaths_the_remaining_cells_are_skipped(monkeypatch):
    nb = _cells(4)
    kernel, _ = _run(nb, {1: ["die", "die"], 2: ["die"], 3: ["ok"], 4: ["ok"]}, monkeypatch,
                     max_kernel_deaths=3)
    assert kernel.runs == [1, 1, 2], "the third death ends the running"
    skipped = SKIPPED_AFTER_DEATHS.format(deaths=3)
    for code in nb.cells[2:]:
        assert [(out.ename, out.evalue) for out in code.outputs] == [(KERNEL_DIED, skipped)]


@pytest.mark.parametrize("step", ["spin", "spin, reply"])
def test_a_cell_past_its_cpu_budget_costs_that_cell_as_a_timeout_does(monkeypatch, step):
    """The watch killed the kernel's tree: the cell gets an error (whether nbclient saw the
    kernel die or the reply came first), is not run again, and the rest runs after a restart."""
    nb = _cells(3)
    kernel, executor = _run(nb, {1: ["ok"], 2: [step], 3: ["ok"]}, monkeypatch, max_cell_cpu_seconds=10)
    assert kernel.runs == [1, 2, 3] and (kernel.restarts, kernel.replayed) == (1, [1])
    cpu_limit = CELL_CPU_LIMIT.format(seconds="10", used="12.5")
    assert [(out.get("ename"), out.get("evalue")) for out in nb.cells[2].outputs
            if out.output_type == "error"] == [("CellTimeoutError", cpu_limit)]
    assert nb.cells[3].outputs == [stream("ran 3\n")]
    assert executor._clean == [1, 3]


def test_a_rerun_cell_gets_the_whole_output_cap_again(monkeypatch):
    """The outputs of the run the kernel died in are gone (nbclient clears them); what the
    cell prints when it is run again is capped on its own."""
    nb = _cells(1)
    _run(nb, {1: [("print, then die", 80), ("print", 80)]}, monkeypatch, max_output_chars=100)
    assert [out.text for out in nb.cells[1].outputs] == [KERNEL_RESTARTED + "\n", "p" * 80]


# ---- processes a cell leaves behind ----------------------------------------------------------

class _Manager:
    """A kernel manager whose kernel is `kernel_depth` processes below `process`."""

    def __init__(self, process, kernel_depth=0):
        self.provisioner = type("Provisioner", (), {"process": process})()
        self.kernel_depth = kernel_depth


def _wait_for_children(process, count):
    import time

    import psutil
    for _ in range(100):
        if len(psutil.Process(process.pid).children(recursive=True)) >= count:
            return
        time.sleep(0.05)


def test_processes_under_the_kernel_are_found_and_the_kernels_own_chain_is_not():
    import subprocess
    import sys

    from course.nbgrader_plugins import processes_left
    # A stand-in for bwrap -> its init -> the kernel, where the kernel left two children.
    kernel = "import subprocess, time; [subprocess.Popen(['sleep', '30']) for _ in range(2)]; time.sleep(30)"
    init = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {kernel!r}])"
    process = subprocess.Popen([sys.executable, "-c", init])
    try:
        _wait_for_children(process, 3)
        assert len(processes_left(_Manager(process, kernel_depth=1))) == 2
        assert len(processes_left(_Manager(process, kernel_depth=0))) == 3
    finally:
        import psutil
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
        process.kill()
        process.wait()


def test_no_process_is_found_without_a_kernel_process():
    from course.nbgrader_plugins import processes_left
    assert processes_left(_Manager(None)) == []
    assert processes_left(object()) == []


def test_feedback_pages_after_the_first_use_the_compiled_templates(monkeypatch):
    """nbgrader makes a new exporter for every feedback page: the second one renders the same
    page without compiling a template again."""
    from jinja2 import Environment

    from course.nbgrader_plugins import FeedbackExporter

    nb = lesson(new_markdown_cell("# 제목"), new_code_cell("print(1)"))
    first, _ = FeedbackExporter().from_notebook_node(copy.deepcopy(nb))
    compiled = []
    original = Environment.compile
    monkeypatch.setattr(Environment, "compile", lambda self, *a, **k: compiled.append(a) or original(self, *a, **k))
    second, _ = FeedbackExporter().from_notebook_node(copy.deepcopy(nb))
    assert compiled == [] and "제목" in second
    assert second.count("print") == first.count("print")



def test_a_feedback_page_too_large_is_its_plain_text_escaped():
    """Also for plain `nbgrader generate_feedback`: the bound is the exporter's, set in
    nbgrader_config.py."""
    from nbgrader.converters import GenerateFeedback

    from course.nbgrader_api import load_config
    from course.nbgrader_plugins import FeedbackExporter

    config = load_config(REPOSITORY_ROOT)
    assert GenerateFeedback(config=config).exporter_class is FeedbackExporter
    assert FeedbackExporter(config=config).max_page_chars == 8_000_000
    flood = "<b>x</b>&" * 20_000
    nb = lesson(new_markdown_cell("# 제목"), new_code_cell("print(flood)", outputs=[stream(flood)]))
    small, _ = FeedbackExporter(config=config).from_notebook_node(copy.deepcopy(nb))
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in small and FEEDBACK_PLAIN not in small
    exporter = FeedbackExporter(config=config, max_page_chars=len(small) - 1)
    plain, _ = exporter.from_notebook_node(copy.deepcopy(nb))
    assert FEEDBACK_PLAIN in plain and len(plain) < len(small)
    assert "<b>" not in plain and "&lt;b&gt;x&lt;/b&gt;&amp;" in plain and "<script" not in plain


def test_feedback_page_is_html_exporters_page_without_its_second_parse():
    """FeedbackExporter skips HTMLExporter's BeautifulSoup pass over the finished page and keeps
    highlighted code cells: after that same parse, its page is HTMLExporter's (images without an
    alt text get HTMLExporter's), and a second page, its highlighting remembered, is the same."""
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    from nbformat.v4 import new_output
    from nbgrader.converters import GenerateFeedback

    from course.nbgrader_plugins import NO_ALT_TEXT, FeedbackExporter

    config = GenerateFeedback().config  # the feedback template's settings, as nbgrader sets them
    image = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    nb = lesson(new_markdown_cell("# 제목\n\n![그림](data:image/png;base64,iVBORw0KGgo=) <img src='a.png'>"),
                new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])", outputs=[image]),
                new_code_cell("%%bash\necho 1", metadata={"magics_language": "bash"}),
                new_code_cell("print('<IMG src=x>')", outputs=[stream("<IMG src=x>\n")]),
                new_code_cell(""))
    resources = {"nbgrader": {"notebook": "lesson", "score": 1, "max_score": 2, "late_penalty": 0}}

    def page(exporter_class, render=None):
        exporter = exporter_class(config=config)
        return (render or exporter_class.from_notebook_node)(exporter, copy.deepcopy(nb), copy.deepcopy(resources))[0]

    expected = page(FeedbackExporter, HTMLExporter.from_notebook_node)  # HTMLExporter's own steps
    first, second = page(FeedbackExporter), page(FeedbackExporter)
    assert str(BeautifulSoup(first, features="html.parser")) == expected
    assert second == first
    assert expected.count(f'alt="{NO_ALT_TEXT}"') == first.count(f'alt="{NO_ALT_TEXT}"') == 2


def test_alt_texts_are_added_only_where_missing_and_never_inside_a_script():
    from course.nbgrader_plugins import NO_ALT_TEXT, with_alt_texts
    page = ('<img src="a.png"><IMG\nsrc=b><img alt = "내 그래프" src="c.png"><imgx>'
            '<script>var s = "<img src=x>";</script><img/>')
    assert with_alt_texts(page) == (
        f'<img alt="{NO_ALT_TEXT}" src="a.png"><img alt="{NO_ALT_TEXT}"\nsrc=b>'
        '<img alt = "내 그래프" src="c.png"><imgx><script>var s = "<img src=x>";</script>'
        f'<img alt="{NO_ALT_TEXT}"/>')


def test_remembered_highlighting_is_bounded_by_characters_and_takes_any_formatter_option():
    """A submission of many large cells cannot fill a grading process with highlighted code; an
    option nbconvert accepts (a list) still renders."""
    from course.nbgrader_plugins import _HighlightedCells, _RememberedHighlight
    cache = _HighlightedCells(max_chars=10_000)
    for number in range(50):
        cache.get((f"x = {number}" + " " * 1000, "python", None, "{}"), lambda: "h" * 1000)
    assert cache.chars <= 10_000 and len(cache.cells) < 50
    highlight = _RememberedHighlight(pygments_lexer="ipython3")
    highlight.extra_formatter_options = {"hl_lines": [1]}
    assert "hll" in highlight("x = 1\ny = 2") and highlight("x = 1\ny = 2") == highlight("x = 1\ny = 2")
