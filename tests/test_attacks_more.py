"""More hostile submissions for issue 13, the variants tests/test_sandbox_attacks.py and
tests/test_integrity.py do not try. Each test here is an attack that worked on main when it was
written: it fails until the grader holds against it. Each says what the attack must not achieve
(a forged point, a hidden line, a foreign file, unbounded resources) and the status it gets:
code a beginner's course never needs (linecache, os.memfd_create, os.posix_spawn) is flagged,
and a flagged submission is graded all the same, its score withheld until `course review`.

Most run `course grade` (sandbox on) on TensorFlow-free courses: tests/tiny_course.py (plain
`assert` test cells), and a "helpers" course built here whose test cells call the real check
helpers (course/checks.py, inlined by `course release` as in every lesson). Lesson 01 is graded
only to show what two of the forgeries and some honest alternatives get in a real lesson.
"""
import html
import os
import re
import shutil
from pathlib import Path

import html5lib
import nbformat
import pytest
import tiny_course
from conftest import needs_bubblewrap
from lean_notebooks import lean
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from playwright.sync_api import sync_playwright
from test_browser import CHROMIUM

from course import cells, gradebook, submissions
from course.demo import make_course
from course.grade import grade
from course.integrity import review
from course.nbgrader_plugins import ResilientExecute, squeeze
from course.paths import REPOSITORY_ROOT, release_notebook
from course.release import release
from course.report import printable
from course.status import CELL_CPU_LIMIT, Note, Status


def slow(test):
    """Starts sandboxed kernels: slow, on one xdist worker (the module's graded classes are
    built once), and only where bubblewrap runs."""
    return pytest.mark.slow(pytest.mark.xdist_group("attacks_more")(needs_bubblewrap(test)))


DISK = 32 * 2**20
TIMEOUT = {"Execute": {"timeout": 45}}

# ---- a TensorFlow-free course whose test cells use the real check helpers ---------------------
HELPERS = "01_helpers"
HELPERS_MARKER = "HIDDEN_HELPER_LINE_c41d"
HELPERS_SOLUTIONS = {"add": "def add(a, b):\n    return a + b",
                     "scale": "def scale(xs, k):\n    return np.asarray(xs, dtype=float) * k",
                     "sub": "def sub(a, b):\n    return a - b"}
HELPERS_POINTS = {"add": 2, "scale": 2, "sub": 1}
HELPERS_TESTS = {
    "add": ('check_equal("add(1, 2)", add(1, 2), 3)', 'check_equal("add(20, 22)", add(20, 22), 42)'),
    "scale": ('check_array("scale([1, 2], 3)", scale([1, 2], 3), [3.0, 6.0])',
              'check_array("scale([7], 6)", scale([7.0], 6), [42.0])'),
    "sub": ('check_equal("sub(5, 2)", sub(5, 2), 3)', 'check_equal("sub(50, 8)", sub(50, 8), 42)'),
}
WRONG = {"add": "def add(a, b):\n    return 0",
         "scale": "def scale(xs, k):\n    return np.zeros(len(xs))",
         "sub": "def sub(a, b):\n    return 0"}


def helpers_source():
    """The instructor's notebook: a setup cell, the locked check-helper cell (`from course.checks
    import *`, inlined at release), then per exercise an answer cell and a test cell calling
    check_equal or check_array, with a hidden check under a marker line."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"},
                                "language_info": {"name": "python"}})
    nb.cells = [new_markdown_cell("# 01. 도우미 (helpers)\n\n채점기 시험용 강의입니다."),
                new_code_cell("import numpy as np"),
                new_code_cell("from course.checks import *", metadata=tiny_course.nbgrader_metadata("checks"))]
    for name, body in HELPERS_SOLUTIONS.items():
        head, answer = body.split("\n", 1)
        nb.cells.append(new_markdown_cell(f"### `{name}` ({HELPERS_POINTS[name]}점)"))
        nb.cells.append(new_code_cell(f"{head}\n    ### BEGIN SOLUTION\n{answer}\n    ### END SOLUTION",
                                      metadata=tiny_course.nbgrader_metadata(name, solution=True)))
        visible, hidden = HELPERS_TESTS[name]
        nb.cells.append(new_code_cell(
            f"{visible}\n### BEGIN HIDDEN TESTS\n# {HELPERS_MARKER}\n{hidden}\n### END HIDDEN TESTS",
            metadata=tiny_course.nbgrader_metadata(f"test_{name}", grade=True, points=HELPERS_POINTS[name])))
    return nb


def make_helpers_course(root):
    root = Path(root)
    (root / "source" / HELPERS).mkdir(parents=True)
    shutil.copy(REPOSITORY_ROOT / "nbgrader_config.py", root)
    nbformat.write(helpers_source(), root / "source" / HELPERS / f"{HELPERS}.ipynb")
    release(root, [HELPERS], update_readme=False)
    return root


def helpers_answered(root, replace=None):
    answers = {**HELPERS_SOLUTIONS, **(replace or {})}
    nb = nbformat.read(Path(root) / "release" / HELPERS / f"{HELPERS}.ipynb", as_version=4)
    for cell in nb.cells:
        if cells.is_answer(cell) and cells.grade_id(cell) in answers:
            cell.source = answers[cells.grade_id(cell)]
    return nb


def tag_test_cells(nb, tag):
    for cell in nb.cells:
        if cells.is_test(cell):
            cell.metadata["tags"] = [tag]
    return nb


def submit(root, lesson, student, nb):
    folder = Path(root) / "submitted" / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{lesson}.ipynb")


# ---- kind 1: forged scores, none of them flagged ---------------------------------------------
# Every one of these goes with wrong answers; an honest wrong submission gets 0.
PEEK = '''import logging, operator


def _peek(self, *args):
    return operator.attrgetter("f_back.f_locals")(logging.currentframe())["expected"]


def _peek_array(self, *args):
    return np.asarray(operator.attrgetter("f_back.f_back.f_locals")(logging.currentframe())["expected"])


Sly = type("Sly", (int,), {"__int__": _peek})
SlyArray = type("SlyArray", (), {"numpy": _peek_array})
'''
EMPTY_LATER_CELLS = "get_ipython().input_transformers_post.append(lambda lines: [])"
FORGERIES = {  # student: the answers ({grade_id: code}), wrong ones where not given
    # rebinding the check helpers by statements the intake does not read as rebinding
    "walrus": {"add": "(check_equal := (check_array := lambda *a, **k: None))\n" + WRONG["add"]},
    "for_target": {"add": "for check_equal in [lambda *a, **k: None]:\n    pass\n"
                          "for check_array in [print]:\n    pass\n" + WRONG["add"]},
    "nested_global_def": {"add": "def setup():\n    global check_equal, check_array\n\n"
                                 "    def check_equal(*a, **k):\n        pass\n\n"
                                 "    def check_array(*a, **k):\n        pass\n\n\nsetup()\n" + WRONG["add"]},
    "star_import_from_own_file": {"add": "with open('tools.py', 'w') as f:\n"
                                         "    f.write('def check_equal(*a, **k):\\n    pass\\n"
                                         "check_array = check_equal\\n')\nfrom tools import *\n" + WRONG["add"]},
    # patching a helper or numpy without assignment to a module attribute
    "helper_defaults": {"scale": "check_array.__defaults__ = (1e300, 1e300, '')\n" + WRONG["scale"]},
    "numpy_dunder_setattr": {"scale": "np.__setattr__('all', lambda *a, **k: True)\n" + WRONG["scale"]},
    # IPython's machinery, behind a line magic (the intake skips %-lines), a string or a file
    "time_magic": {"add": f"%time {EMPTY_LATER_CELLS}\n" + WRONG["add"]},
    "timeit_string": {"add": "import timeit\ntimeit.timeit('from IPython import get_ipython as g; "
                             "g().input_transformers_post.append(lambda lines: [])', number=1)\n" + WRONG["add"]},
    "own_module_file": {"add": "with open('helper.py', 'w') as f:\n"
                               "    f.write('from IPython import get_ipython\\n"
                               "get_ipython().input_transformers_post.append(lambda lines: [])\\n')\n"
                               "import helper\n" + WRONG["add"]},
    # patching numpy from inside the answer while the test cell calls it, through a name the
    # reading takes for the student's own object (round 8: 7/16 in lesson 02, unflagged)
    "self_rebound": {"scale": "class Tidy:\n    def keep(self, where, value):\n        self = where\n"
                              "        self.all = value\n\n\ndef scale(xs, k):\n"
                              "    Tidy().keep(np, lambda *a, **kw: True)\n    return np.zeros(len(xs))"},
    "nested_self": {"scale": "class Tidy:\n    def maker(self):\n        def keep(self, value):\n"
                             "            self.all = value\n        return keep\n\n\nkeep = Tidy().maker()\n\n\n"
                             "def scale(xs, k):\n    keep(np, lambda *a, **kw: True)\n    return np.zeros(len(xs))"},
    "unbound_method": {"scale": "class Tidy:\n    def keep(self, value):\n        self.all = value\n\n\n"
                                "def scale(xs, k):\n    Tidy.keep(np, lambda *a, **kw: True)\n"
                                "    return np.zeros(len(xs))"},
    # answers that read the expected value from the checker's frame: nothing patched
    "frame_peek": {"add": PEEK + "\n\ndef add(a, b):\n    return Sly(0)",
                   "scale": "def scale(xs, k):\n    return SlyArray()",
                   "sub": "def sub(a, b):\n    return Sly(0)"},
}


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    root = make_helpers_course(tmp_path_factory.mktemp("forged"))
    submit(root, HELPERS, "honest", helpers_answered(root))
    submit(root, HELPERS, "wrong", helpers_answered(root, WRONG))
    for student, answers in FORGERIES.items():
        submit(root, HELPERS, student, helpers_answered(root, {**WRONG, **answers}))
    # no code at all: nbclient does not run a cell tagged skip-execution, and a test cell
    # without an error output gets its points
    submit(root, HELPERS, "skip_execution_tag", tag_test_cells(helpers_answered(root, WRONG), "skip-execution"))
    # kind 6: right answers, one test cell's nbgrader metadata changed
    tampered = helpers_answered(root)
    next(c for c in tampered.cells if cells.grade_id(c) == "test_sub").metadata["nbgrader"]["grade"] = False
    submit(root, HELPERS, "test_cell_grade_false", tampered)
    return root, {r.student: r for r in grade(root, overrides=TIMEOUT, progress=False)}


@pytest.mark.parametrize("student", [*FORGERIES, "skip_execution_tag"])
@slow
def test_kind1_no_forged_point(forged, student):
    """Wrong answers get what an honest wrong submission gets, unless the submission is flagged
    (its score is then withheld)."""
    _, results = forged
    assert results["honest"].score == 5 and results["wrong"].score == 0  # the course works
    result = results[student]
    assert result.status is Status.FLAGGED or result.score <= results["wrong"].score, \
        (str(result.status), result.score, result.reason)


@pytest.mark.parametrize("student", ["self_rebound", "nested_self", "unbound_method"])
@slow
def test_kind1_a_library_changed_while_a_test_cell_ran_flags_the_submission(forged, student):
    """What student code changed in numpy while a test cell called it is put back after that
    cell, and the kernel's reply names it: the submission is flagged with that evidence, by
    whatever route the change was made (the reading flags only the unbound method call)."""
    root, results = forged
    result = results[student]
    assert result.status is Status.FLAGGED, (str(result.status), result.score, result.reason)
    assert Note.CHANGED_LIBRARIES.say("test_scale: numpy.all") in result.notes, result.notes
    read = review(helpers_answered(root, FORGERIES[student]),
                  nbformat.read(root / "release" / HELPERS / f"{HELPERS}.ipynb", as_version=4))
    assert bool(read) is (student == "unbound_method"), read
    with gradebook.gradebook(root) as gb:
        assert gradebook.is_withheld(gb, HELPERS, student)
    assert not any(Note.CHANGED_LIBRARIES.value in note for note in results["honest"].notes)


@slow
def test_kind6_a_changed_test_cell_flag_costs_only_that_exercise(forged):
    """Right answers; test_sub's metadata says grade: false. nbgrader raises 'Inconsistent
    checksums' and the whole submission is failed 0/5."""
    result = forged[1]["test_cell_grade_false"]
    assert result.score >= 5 - HELPERS_POINTS["sub"], (str(result.status), result.score, result.reason)


# ---- kinds 2, 3, 5 and 7 on the tiny course --------------------------------------------------
HIDDEN = tiny_course.HIDDEN_MARKER
LESSON_TINY = tiny_course.LESSON
DUMP_TEST_CELLS = '''import linecache
_cells = ["".join(entry[2]) for entry in list(linecache.cache.values()) if "assert" in "".join(entry[2])]
'''
LEAKS = {  # after test_add and test_mul ran, or (leak_error) from inside test_sub
    "leak_spaced_print": {"sub": DUMP_TEST_CELLS + "for _text in _cells:\n    print(_text.replace(' ', '  '))\n"
                                 + tiny_course.SOLUTIONS["sub"]},
    "leak_html_entities": {"sub": DUMP_TEST_CELLS + "display({'text/html': '<pre>' + ''.join(_cells).replace("
                                  "' ', '&#32;') + '</pre>', 'text/plain': 'x'}, raw=True)\n"
                                  + tiny_course.SOLUTIONS["sub"]},
    "leak_zero_width": {"sub": DUMP_TEST_CELLS + "for _text in _cells:\n    print('\\u200b'.join(_text))\n"
                               + tiny_course.SOLUTIONS["sub"]},
    "leak_error_of_last_test": {"sub": "def sub(a, b):\n    import linecache\n"
                                       "    mine = [''.join(e[2]) for e in list(linecache.cache.values()) "
                                       "if 'sub(' in ''.join(e[2])]\n"
                                       "    raise ValueError(mine[-1].replace(' ', '  '))\n"},
}
MARKDOWN_BOMB = "[a]: http://x/" + "a" * 10_000 + "\n\n" + "[x][a] " * 2000  # 24 kB, 20 MB of HTML
ERROR_FLOOD = '''ip = get_ipython()
for _ in range(3000):
    try:
        raise ValueError("e" * 3000)
    except ValueError:
        ip.showtraceback()
'''
FLOODS = {  # kind 5: student -> what the output limits let through
    "error_flood": {"add": tiny_course.SOLUTIONS["add"] + "\n" + ERROR_FLOOD},
    "markdown_output_bomb": {"add": tiny_course.SOLUTIONS["add"]
                             + f"\ndisplay({{'text/markdown': {MARKDOWN_BOMB!r}, 'text/plain': 'md'}}, raw=True)\n"},
}
ANSI_PRINT = 'print("\\x1b[31m<\\x1b[32m>" * 16000)'  # 192 000 characters, under the cell limit
ODD_NAMES = [".dotted", "new\nline", "kim ", "\u200bhonest", "\u3164honest"]  # the last two showed as 'honest' in grades.csv
# HTML of the student's that the feedback page would run (the instructor opens it from the report)
SCRIPT_OUTPUT = ("\nfrom IPython.display import display\n"
                 "display({'text/html': \"<script>document.title='RAN'</script><b>raw</b>\", 'text/plain': 'raw'}, raw=True)\n"
                 # two outputs harmless alone: the first leaves a quote open, the page's markup and the
                 # second output's attributes become one <img> (review)
                 "display({'text/html': \"<img alt='\", 'text/plain': '-'}, raw=True)\n"
                 "display({'text/html': \"' src=x onerror=document.title='RAN2'>\", 'text/plain': '-'}, raw=True)\n"
                 # the HTML standard's parser drops an <img> in a <select>; Chromium keeps it (round 7)
                 "display({'text/html': '<select><img src=x onerror=\"document.title=`RAN3`\"></select>', "
                 "'text/plain': 'table'}, raw=True)\n")
SCRIPT_MARKDOWN = ("메모 <img src=x onerror=\"document.title='RAN'\">\n\n"
                   "노트: <select><img src=y onerror=\"document.title='RAN4'\"></select>")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tiny_course.make_tiny_course(tmp_path_factory.mktemp("tiny"))
    tiny_course.submit(root, "honest", tiny_course.answered(root))
    for student, answers in {**LEAKS, **FLOODS}.items():
        tiny_course.submit(root, student, tiny_course.answered(root, answers))
    bomb_cell = tiny_course.answered(root)
    bomb_cell.cells.insert(2, new_markdown_cell(MARKDOWN_BOMB))
    tiny_course.submit(root, "markdown_cell_bomb", bomb_cell)
    ansi = tiny_course.answered(root)
    ansi.cells[2:2] = [new_code_cell(ANSI_PRINT) for _ in range(11)]
    tiny_course.submit(root, "ansi_colours", ansi)
    scripts = tiny_course.answered(root, {"add": tiny_course.SOLUTIONS["add"] + SCRIPT_OUTPUT})
    scripts.cells.insert(2, new_markdown_cell(SCRIPT_MARKDOWN))
    tiny_course.submit(root, "scripts", scripts)
    links = {"hardlink_to_source": root / "source" / LESSON_TINY / f"{LESSON_TINY}.ipynb",
             "hardlink_to_other": root / "submitted" / "honest" / LESSON_TINY / f"{LESSON_TINY}.ipynb"}
    for student, target in links.items():
        folder = root / "submitted" / student / LESSON_TINY
        folder.mkdir(parents=True)
        os.link(target, folder / f"{LESSON_TINY}.ipynb")
    for student in ODD_NAMES:
        tiny_course.submit(root, student, tiny_course.answered(root))
    overrides = {**TIMEOUT, "SandboxedKernelManager": {"workdir_bytes": DISK, "tmp_bytes": DISK}}
    return root, {r.student: r for r in grade(root, overrides=overrides, progress=False)}


def _outputs_text(root, student):
    """Every text in the outputs of the student's autograded notebook (not the feedback)."""
    nb = nbformat.read(root / "autograded" / student / LESSON_TINY / f"{LESSON_TINY}.ipynb", as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts += [str(output.get("text", "")), str(output.get("evalue", ""))]
            parts += [str(value) for value in output.get("data", {}).values()]
    return "\n".join(parts)


def _feedback(root, student):
    return (root / "feedback" / student / LESSON_TINY / f"{LESSON_TINY}.html").read_text(encoding="utf-8")


HIDDEN_CHECKS = ("assert add(20, 22) == 42", "assert mul(6, 7) == 42", "assert sub(50, 8) == 42")
VISIBLE_CHECKS = ("assert add(1, 2) == 3", "assert mul(2, 3) == 6", "assert sub(5, 2) == 3")


def _squeezed(text):
    return squeeze(html.unescape(re.sub(r"<[^>]*>", "", text)))


@pytest.mark.parametrize("student", LEAKS)
@slow
def test_kind2_no_hidden_test_line_in_feedback(tiny, student):
    """The test cells' source was in the kernel (linecache), and the feedback's filter looked for
    each hidden line verbatim: doubled spaces or HTML entities got past it. linecache is flagged;
    now no test cell is ever sent to the kernel (course/answer_client.py), so the attack finds
    not even the visible checks (it found them while the test cells ran in the kernel); the
    feedback's filter is tried on its own in tests/test_plugins.py. Neither the autograded copy
    nor the feedback holds a line of a test cell."""
    root, results = tiny
    assert results[student].status is Status.FLAGGED, (str(results[student].status), results[student].reason)
    shown = _squeezed(_outputs_text(root, student))  # in the instructor's autograded copy
    assert not any(_squeezed(check) in shown for check in VISIBLE_CHECKS), \
        "a test cell's line reached the kernel"
    page = html.unescape(_feedback(root, student))
    squeezed = re.sub(r"\s+", " ", page)
    assert HIDDEN not in page and HIDDEN not in _outputs_text(root, student)
    for hidden_check in HIDDEN_CHECKS:
        assert _squeezed(hidden_check) not in shown, f"{hidden_check} reached the kernel's outputs"
        assert hidden_check not in squeezed and _squeezed(hidden_check) not in _squeezed(page), hidden_check


@slow
def test_kind3_a_hard_link_to_the_source_notebook_is_refused_like_a_symlink(tiny):
    """A hard link is a link: the source notebook (solutions) was graded as this student's, 5/5,
    with the source's '### BEGIN SOLUTION' lines in the feedback."""
    root, results = tiny
    result = results["hardlink_to_source"]
    assert result.status is Status.CORRUPT and result.score == 0, (str(result.status), result.score)
    assert "hard link" in result.reason, result.reason
    folder = root / "feedback" / "hardlink_to_source"
    assert not folder.exists() or "BEGIN SOLUTION" not in _feedback(root, "hardlink_to_source")


@slow
def test_kind3_a_hard_linked_submission_is_flagged_and_its_owner_loses_nothing(tiny):
    """hardlink_to_other's notebook is honest's file under a second name: it was graded as its
    own, 5/5. Now both are graded and flagged, each naming the other, their scores withheld;
    honest's file is not changed, and once the instructor accepts, honest has every point."""
    root, results = tiny
    pairs = (("hardlink_to_other", "honest"), ("honest", "hardlink_to_other"))
    for student, other in pairs:
        result = results[student]
        assert result.status is Status.FLAGGED, (student, str(result.status), result.reason)
        assert f"same file as {other}'s submission (hard link)" in result.reason, result.reason
        with gradebook.gradebook(root) as gb:
            assert gradebook.is_withheld(gb, LESSON_TINY, student)
    submitted = root / "submitted" / "honest" / LESSON_TINY / f"{LESSON_TINY}.ipynb"
    assert nbformat.read(submitted, as_version=4) == tiny_course.answered(root)
    assert gradebook.review(root, "honest", LESSON_TINY, accept=True) == tiny_course.FULL


@pytest.mark.parametrize("student", [*FLOODS, "markdown_cell_bomb", "ansi_colours"])
@slow
def test_kind5_outputs_and_feedback_stay_small(tiny, student):
    """The bound tests/test_sandbox_attacks.py sets: autograded notebook < 2x and feedback page
    < 4x max_notebook_output_chars. Every error is kept (3000 tracebacks: 12 MB); markdown
    reference links expand quadratically in the feedback (24 kB give 20 MB); ANSI colours
    become HTML spans (2 MB of output, 13 MB of feedback)."""
    root = tiny[0]
    limit = ResilientExecute.class_traits()["max_notebook_output_chars"].default()
    notebook = root / "autograded" / student / LESSON_TINY / f"{LESSON_TINY}.ipynb"
    feedback = root / "feedback" / student / LESSON_TINY / f"{LESSON_TINY}.html"
    sizes = (notebook.stat().st_size, feedback.stat().st_size)
    assert sizes[0] < 2 * limit and sizes[1] < 4 * limit, sizes


@slow
def test_kind7_every_student_folder_is_graded_or_reported(tiny):
    """'.dotted' and 'new\\nline' were in no result, grades.csv or report (nbgrader's glob and
    regex skip them); 'kim ' failed as nbgrader's error: nbgrader strips the id and looks in
    submitted/kim/. nbgrader cannot keep any of them, so each is reported, refused with a
    reason that says to rename the folder."""
    root, results = tiny
    missing = [name for name in ODD_NAMES if name not in results]
    assert not missing, missing
    report = (root / "reports" / "report.html").read_text(encoding="utf-8")
    for name in ODD_NAMES:
        result = results[name]
        assert result.status is Status.FAILED, (name, str(result.status), result.reason)
        assert Note.NAME_NOT_USABLE.say(repr(name)) in result.notes and "rename the folder" in result.reason
        # the name as the report shows text: escaped for HTML, control characters as escapes
        assert html.escape(printable(name), quote=False) in report, name


@slow
def test_kind7_the_feedback_page_runs_nothing_of_the_students(tiny):
    """A <script> shown with display(..., raw=True) and an <img onerror> in a markdown cell were
    in the feedback page as written (review): they are shown as text, and the points are kept."""
    root, results = tiny
    assert results["scripts"].score == results["honest"].score, results["scripts"].reason
    page = _feedback(root, "scripts")
    assert "<script>document.title" not in page and "<img src=x onerror" not in page
    assert "<img alt='" not in page
    handlers = [(element.tag, name) for element in html5lib.parse(page, namespaceHTMLElements=False).iter()
                for name in element.attrib if str(name).lower().startswith("on")]
    assert not handlers, handlers
    assert "onerror=\"document.title='RAN'\"" in html.unescape(page), "the markdown cell is shown as text"
    # and in a real browser, which mends HTML its own way: the page loads and nothing sets the title
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            tab = browser.new_page()
            tab.route(re.compile(r"^https?://"), lambda route: route.abort())  # no network here or in CI
            tab.goto((root / "feedback" / "scripts" / LESSON_TINY / f"{LESSON_TINY}.html").as_uri())
            tab.wait_for_timeout(1500)  # images that fail to load fire onerror by then
            title = tab.title()
        finally:
            browser.close()
    assert "RAN" not in title, title


# ---- kinds 4 and 6: limits that hold per process, not per kernel -----------------------------
MEMFD_FILES = 6
MEMFD = f'''import os
_files, _stopped = [], None
for _ in range({MEMFD_FILES}):
    try:
        _files.append(os.memfd_create("x"))
        for _ in range(48):
            os.write(_files[-1], b"x" * 2**20)
    except OSError as error:
        _stopped = error.strerror
print("memfd sizes", *[os.fstat(f).st_size for f in _files], "stopped:", _stopped)
'''
SPIN = ("import os, time\\nstart, shown = time.process_time(), 0\\n"
        "while time.process_time() - start < 5:\\n"
        "    if time.process_time() - start > shown + 0.25:\\n"
        "        shown = time.process_time() - start\\n"
        "        print('spun', os.getpid(), round(shown, 2), flush=True)\\n")
CPU = f'''import os, sys
_children = [os.posix_spawn(sys.executable, [sys.executable, "-c", "{SPIN}"], dict(os.environ)) for _ in range(2)]
for _pid in _children:
    os.waitpid(_pid, 0)
_times = os.times()
print("children cpu", _times.children_user + _times.children_system)
'''
RESOURCE_LIMITS = {"memory_bytes": 2**30, "cpu_seconds": 8, "workdir_bytes": DISK, "tmp_bytes": DISK}
CELL_CPU = 4  # max_cell_cpu_seconds here: the two children would spin 10 s together
CPU_WATCH_INTERVAL = 0.25  # the tree may use up to 2 cores x this past CELL_CPU


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    root = tiny_course.make_tiny_course(tmp_path_factory.mktemp("resources"))
    tiny_course.submit(root, "memfd", tiny_course.answered(root, {"add": MEMFD + tiny_course.SOLUTIONS["add"]}))
    tiny_course.submit(root, "cpu", tiny_course.answered(root, {"add": CPU + tiny_course.SOLUTIONS["add"]}))
    overrides = {"Execute": {"timeout": 120}, "SandboxedKernelManager": RESOURCE_LIMITS,
                 "ResilientExecute": {"max_cell_cpu_seconds": CELL_CPU,
                                      "cpu_watch_interval": CPU_WATCH_INTERVAL}}
    return root, {r.student: r for r in grade(root, overrides=overrides, progress=False)}


def _cell(root, student, grade_id):
    nb = nbformat.read(root / "autograded" / student / LESSON_TINY / f"{LESSON_TINY}.ipynb", as_version=4)
    return next(c for c in nb.cells if cells.grade_id(c) == grade_id)


def _printed(root, student, grade_id):
    return "".join(str(o.get("text", "")) for o in _cell(root, student, grade_id).outputs)


@slow
def test_kind4_memory_backed_files_are_refused(resources):
    """memfd_create files are tmpfs outside any size limit and, never mapped, outside RLIMIT_AS:
    1.25 GiB was held in the host's memory with memory_bytes 1 GiB and 2 x 32 MiB of disk.
    prlimit --fsize then stopped each at 32 MiB, not their number; the kernels' seccomp filter
    (course/syscall_filter.py) now refuses memfd_create itself. os.memfd_create is flagged; the
    cell runs on and the answer keeps its points."""
    root, results = resources
    result = results["memfd"]
    assert result.status is Status.FLAGGED and "memfd_create" in result.reason, (str(result.status), result.reason)
    printed = _printed(root, "memfd", "add")
    sizes = re.search(r"memfd sizes(.*)stopped", printed).group(1).split()
    assert sizes == [], sizes
    assert "stopped: Operation not permitted" in printed, printed
    assert result.score == tiny_course.FULL, result.reason


@slow
def test_kind6_cpu_time_is_bounded_across_the_kernels_processes(resources):
    """RLIMIT_CPU is per process: two spawned children spun 5 s each with cpu_seconds 8, and 512
    of them could hold the cores for every other student's kernel (whose cells then time out).
    The grader now adds up the CPU time of the kernel's whole process tree during a cell and
    ends it past max_cell_cpu_seconds: the cell gets an error and the kernel is restarted, as
    at a timeout; the other exercises keep their points. os.posix_spawn is flagged."""
    root, results = resources
    result = results["cpu"]
    assert result.status is Status.FLAGGED and "posix_spawn" in result.reason, (str(result.status), result.reason)
    cell = _cell(root, "cpu", "add")
    errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0][0] == "CellTimeoutError", errors
    assert errors[0][1].startswith(CELL_CPU_LIMIT.split("{seconds}")[0]), errors
    spun = {}  # what each child said it had spun (CPU seconds), its last word
    for pid, seconds in re.findall(r"spun (\d+) ([\d.]+)", _printed(root, "cpu", "add")):
        spun[pid] = float(seconds)
    assert len(spun) == 2 and min(spun.values()) > 0.5, spun  # both children ran: the watch saw them
    assert sum(spun.values()) <= CELL_CPU + 2 * CPU_WATCH_INTERVAL, spun  # 10 s without the watch
    assert "children cpu" not in _printed(root, "cpu", "add")
    assert result.score == tiny_course.FULL - tiny_course.POINTS["add"], result.reason


# ---- lesson 01: honest alternatives flagged, two forgeries at full marks ----------------------
LESSON = "01_parameters"
HONEST_01 = {  # correct answers, written the way students write them
    "dense_params": '''import sys


def dense_params(inputs, units):
    total = (inputs + 1) * units
    print(f"dense_params({inputs}, {units}) = {total}", file=sys.stderr)
    return total
''',
    "build_model": '''def build_model(n_features):
    In = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(4, activation="relu")(In)
    hidden = keras.layers.Dense(2, activation="relu")(hidden)
    Out = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs=In, outputs=Out)
''',
    "forward_pass": '''class DenseLayer:
    def __init__(self, kernel, bias, relu):
        self.kernel, self.bias, self.relu = kernel, bias, relu

    def __call__(self, a):
        z = a @ self.kernel + self.bias
        return np.maximum(0, z) if self.relu else z


def forward_pass(x, weights):
    n_layers = len(weights) // 2
    a, outputs = np.asarray(x, dtype=float), []
    for i in range(n_layers):
        layer = DenseLayer(weights[2 * i], weights[2 * i + 1], relu=i < n_layers - 1)
        a = layer(a)
        outputs.append(a)
    return outputs
''',
    "linear_predict": '''def identity(z):
    return z


class Neuron:
    def __init__(self, w, b):
        self.w = np.asarray(w, dtype=float)
        self.b = b
        self.activation = identity

    def predict(self, X):
        return self.activation(np.asarray(X, dtype=float) @ self.w + self.b)


def linear_predict(X, w, b):
    return Neuron(w, b).predict(X)
''',
}

KERAS2_BUILD_MODEL = '''def build_model(n_features):
    return keras.Sequential([
        keras.layers.Dense(4, activation="relu", input_shape=(n_features,)),
        keras.layers.Dense(2, activation="relu"),
        keras.layers.Dense(1),
    ])
'''


@pytest.mark.parametrize("cell", HONEST_01)
def test_an_honest_alternative_is_not_flagged(cell):
    """print(..., file=sys.stderr); a functional model named In/Out; a layer class with
    __call__; an object holding its activation function."""
    released = nbformat.read(release_notebook(REPOSITORY_ROOT, LESSON), as_version=4)
    nb = submissions.answered(REPOSITORY_ROOT, LESSON, {cell: HONEST_01[cell]})
    assert [str(f) for f in review(nb, released)] == []


@pytest.fixture(scope="module")
def lesson01(tmp_path_factory):
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("lesson01"), [LESSON])
    release(root, [LESSON], update_readme=False)
    # without the demonstration cells no exercise needs (tests/lean_notebooks.py): none of these
    # answers or attacks is about them, and they would train the lesson's models four times more
    submissions.submit(root, "honest_alternatives", LESSON,
                       lean(submissions.answered(root, LESSON, HONEST_01)))
    submissions.submit(root, "keras2_input_shape", LESSON,
                       lean(submissions.answered(root, LESSON, {"build_model": KERAS2_BUILD_MODEL})))
    submissions.submit(root, "skip_execution_tag", LESSON,
                       tag_test_cells(lean(submissions.blank(root, LESSON)), "skip-execution"))
    magic = lean(submissions.blank(root, LESSON))
    answer = next(c for c in magic.cells if cells.grade_id(c) == "dense_params")
    answer.source = f"%time {EMPTY_LATER_CELLS}\n" + answer.source
    submissions.submit(root, "time_magic", LESSON, magic)
    return root, {r.student: r for r in grade(root, progress=False)}


@slow
def test_lesson01_honest_alternatives_score_full_unflagged(lesson01):
    """Flagged for the four styles above, and 9/13: nbgrader gives 0 to a test cell with any
    stderr output, so the print costs test_dense_params and test_stack_params (which calls
    dense_params); the feedback shows no error in either."""
    result = lesson01[1]["honest_alternatives"]
    assert (result.status, result.score) == (Status.GRADED, result.max_score), result.reason


@slow
def test_lesson01_a_library_warning_costs_no_point(lesson01):
    """The Keras 2 way of writing the model (input_shape= on the first Dense layer), right: Keras 3
    warns on stderr while test_build_model runs, and the cell gets 0 (11/13)."""
    result = lesson01[1]["keras2_input_shape"]
    assert (result.status, result.score) == (Status.GRADED, result.max_score), result.reason


@pytest.mark.parametrize("student", ["skip_execution_tag", "time_magic"])
@slow
def test_lesson01_blank_answers_forge_no_point(lesson01, student):
    result = lesson01[1][student]
    assert result.status is Status.FLAGGED or result.score == 0, (str(result.status), result.score)
