"""course.test_scope: a test cell run as a function called at once keeps what it binds to
itself, runs as it would at the notebook's top level otherwise, and keeps multi-line strings."""
import nbformat
import pytest

from course import cells
from course.paths import REPOSITORY_ROOT, lesson_ids, source_notebook
from course.test_scope import HEADER_LINES, in_own_scope


def run(*sources):
    """Run the sources one after the other in one namespace, as a kernel runs cells."""
    namespace = {}
    for source in sources:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


def test_a_student_function_cannot_read_what_the_test_binds():
    student = "def XOR(x1, x2):\n    return expected\n"
    test = ("seen = []\nfor (x1, x2), expected in zip([(0, 1), (1, 1)], [1, 0]):\n"
            "    assert XOR(x1, x2) == expected, 'XOR'\n")
    run(student, test)  # at the top level, the forgery passes
    with pytest.raises(NameError, match="expected"):
        run(student, in_own_scope(test))


@pytest.mark.parametrize("test", [
    "total += 1\n", "for i in range(3):\n    if i:\n        assert last == i - 1\n    last = i\n",
    "while not done:\n    done = True\n", "def f():\n    return later\nlater = 1\nf()\n",
    "del model\n"])
def test_a_cell_that_reads_a_name_before_binding_it_runs_as_written(test):
    assert in_own_scope(test) is None


def test_what_only_the_hidden_tests_bind_stays_the_cells_own():
    """The student's notebook never had those names: a later cell that prints them would put the
    hidden tests' data into the feedback."""
    test = ("rows = [1, 2]\nassert sum(rows) == 3\n### BEGIN HIDDEN TESTS\nX_h = [5, 6]\n"
            "for rng in range(2):\n    assert rng < 2\n### END HIDDEN TESTS\n")
    namespace = run("rng = 'mine'\n", in_own_scope(test))
    assert namespace["rows"] == [1, 2] and "X_h" not in namespace and namespace["rng"] == "mine"
    assert "X_h" in run(in_own_scope(test.replace("### BEGIN HIDDEN TESTS\n", "").replace(
        "### END HIDDEN TESTS\n", "")))


def test_what_the_test_binds_is_the_notebooks_once_the_cell_has_run():
    """As when a student runs the cell: a later cell may use the test's data."""
    student = "epochs = 7\ndef seen():\n    return epochs\n"
    test = "epochs = 100\nassert seen() == 7 and epochs == 100\nrows = [1, 2]\n"
    namespace = run(student, in_own_scope(test), "total = sum(rows)\n")
    assert (namespace["epochs"], namespace["total"], namespace["test_cell"]) == (100, 3, None)
    with pytest.raises(AssertionError):
        run(student, in_own_scope("rows = [1]\nassert False\n"))
    failed = {}
    with pytest.raises(AssertionError):
        exec(compile("epochs = 7\n", "<cell>", "exec"), failed)
        exec(compile(in_own_scope("rows = [1]\nassert False\n"), "<cell>", "exec"), failed)
    assert failed["rows"] == [1]  # also when a check failed


def test_multi_line_strings_keep_their_text_and_errors_their_line():
    test = 'text = """a\nb\n  c"""\nlabel = f"""x\n{1 + 1}\n"""\nassert text == "a\\nb\\n  c" and label == "x\\n2\\n"\n'
    run(in_own_scope(test))
    with pytest.raises(AssertionError) as failed:
        run(in_own_scope("x = 1\n\nassert x == 2, 'two'\n"))
    assert failed.traceback[-1].lineno + 1 == 3 + HEADER_LINES  # the cell's line 3


@pytest.mark.parametrize("source", ["%time x = 1\n", "from math import *\n", "await something()\n",
                                    "global x\nx = 1\n", ""])
def test_what_cannot_run_in_a_function_is_left_as_it_is(source):
    assert in_own_scope(source) is None


@pytest.mark.parametrize("lesson", lesson_ids(REPOSITORY_ROOT))
def test_every_test_cell_of_the_lessons_runs_in_its_own_scope(lesson):
    nb = nbformat.read(source_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    tests = [cell for cell in nb.cells if cells.is_test(cell)]
    assert tests and [cells.grade_id(c) for c in tests if in_own_scope(c.source) is None] == []


def test_a_failed_check_says_the_line_of_the_cell_itself():
    from course import checks, test_scope
    assert (checks.TEST_CELL_FUNCTION, checks.TEST_CELL_HEADER_LINES) == (test_scope.FUNCTION, HEADER_LINES)
    test = "x = 1\n\ncheck_equal('x', x, 2)\n"
    for source in (test, in_own_scope(test)):
        with pytest.raises(checks.CheckFailed) as failed:
            run("from course.checks import check_equal\n", source)
        assert failed.value._render_traceback_()[-1] == "(이 셀의 3번째 줄)"


def test_lines_are_counted_as_ipython_counts_them():
    """IPython drops a cell's leading blank lines before it numbers the lines."""
    scoped = in_own_scope("\n\n  \nx = 1\nassert x == 2\n")
    assert scoped.splitlines()[HEADER_LINES:HEADER_LINES + 2] == ["        x = 1", "        assert x == 2"]


def test_the_cell_and_its_functions_use_pythons_built_ins_whatever_the_notebook_binds():
    """Round 10: after `from numpy import *` (an honest line), a test cell's bool(...) gave
    np.True_ and sum() of a generator raised; the names the student bound stay theirs."""
    namespace = {}
    exec("from numpy import *", namespace)
    source = ("def total(values):\n    return sum(value for value in values)\n\n\n"
              "flag = bool(1)\nresult = (type(flag).__name__, total([1, 2]), max(3, 4))\n")
    exec(compile(in_own_scope(source), "<test cell>", "exec"), namespace)
    assert namespace["result"] == ("bool", 3, 4)
    assert namespace["sum"].__module__.startswith("numpy") and namespace["bool"].__module__.startswith("numpy")
