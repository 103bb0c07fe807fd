"""course.diagnose without a kernel: the notes on an autograded notebook (built in memory with the
outputs a kernel or the grader would have written) and the reason behind a failed nbgrader call."""
import pytest
from nbformat.v4 import new_code_cell
from tiny_lesson import answer_cell, error, graded_cell, lesson, stream

from course.diagnose import cell_problems, nbgrader_reason
from course.nbgrader_api import result_lines
from course.status import KERNEL_DIED, KERNEL_DIED_IN_CELL, KERNEL_RESTARTED, OUTPUT_TRUNCATED, Note


def _answer(*outputs, grade_id="double"):
    code = answer_cell(grade_id, "def double(x):\n    return 2 * x")
    code.outputs = list(outputs)
    return code


def _test(*outputs, grade_id="test_double"):
    code = graded_cell(grade_id, "assert double(2) == 4")
    code.outputs = list(outputs)
    return code


def test_a_clean_notebook_has_no_problem():
    nb = lesson(_answer(stream("ok\n")), _test(), new_code_cell("print(1)"))
    assert cell_problems(nb) == []


@pytest.mark.parametrize(("ename", "note"), [
    ("SyntaxError", Note.SYNTAX_ERROR.say()),
    ("IndentationError", Note.SYNTAX_ERROR.say()),
    ("NotImplementedError", Note.NOT_ANSWERED.say()),
    ("ZeroDivisionError", Note.EXCEPTION.say(ename="ZeroDivisionError")),
    ("MemoryError", Note.MEMORY.say()),
    ("CellTimeoutError", Note.TIMEOUT.say()),
    ("KeyboardInterrupt", Note.TIMEOUT.say()),
    (KERNEL_DIED, Note.KERNEL_DIED.say()),
])
def test_an_error_in_an_answer_cell_is_noted_with_the_cell(ename, note):
    nb = lesson(_answer(stream("before\n"), error(ename, "boom")), _test())
    assert cell_problems(nb) == [f"{note}: double"]


@pytest.mark.parametrize("ename", ["AssertionError", "CheckFailed", "NameError", "NotImplementedError",
                                   "KeyboardInterrupt"])
def test_a_failed_check_in_a_test_cell_is_not_noted(ename):
    """A test cell failing is the test doing its job (the score says so); a KeyboardInterrupt in
    it comes with the CellTimeoutError that is noted."""
    assert cell_problems(lesson(_answer(), _test(error(ename, "no")))) == []


@pytest.mark.parametrize(("ename", "note"), [
    ("CellTimeoutError", Note.TIMEOUT), (KERNEL_DIED, Note.KERNEL_DIED), ("MemoryError", Note.MEMORY)])
def test_what_stopped_the_grader_in_a_test_cell_is_noted(ename, note):
    nb = lesson(_answer(), _test(error(ename, KERNEL_DIED_IN_CELL)))
    assert cell_problems(nb) == [f"{note.say()}: test_double"]


def test_a_timeout_is_noted_once_per_cell_and_once_in_all():
    """The timeout interrupts the cell (KeyboardInterrupt) and nbgrader adds CellTimeoutError."""
    timed_out = (error("KeyboardInterrupt"), error("CellTimeoutError"))
    nb = lesson(_answer(*timed_out), _test(*timed_out),
                _answer(error("KeyboardInterrupt"), grade_id="halve"))
    assert cell_problems(nb) == [f"{Note.TIMEOUT.say()}: double, test_double, halve"]


def test_different_errors_get_a_note_each_in_order_of_appearance():
    nb = lesson(_answer(error("ValueError")), _answer(error("SyntaxError"), grade_id="halve"),
                _answer(error("ValueError"), grade_id="third"))
    assert cell_problems(nb) == [f"{Note.EXCEPTION.say(ename='ValueError')}: double, third",
                                 f"{Note.SYNTAX_ERROR.say()}: halve"]


def test_cells_without_a_grade_id_are_named_by_their_position():
    """Position among all cells, from 1, the title cell included."""
    plain = new_code_cell("1 / 0", outputs=[error("ZeroDivisionError")])
    nb = lesson(_answer(), plain)
    assert cell_problems(nb) == [f"{Note.EXCEPTION.say(ename='ZeroDivisionError')}: cell 3"]


def test_truncated_output_and_kernel_restarts_are_noted_with_their_cells():
    nb = lesson(_answer(stream("spam " * 10), stream(OUTPUT_TRUNCATED, name="stderr")),
                _test(stream(KERNEL_RESTARTED + "\n", name="stderr")),
                new_code_cell("x", outputs=[stream("a line that only mentions output truncated\n")]))
    assert cell_problems(nb) == [Note.OUTPUT_TRUNCATED.say("double"),
                                 Note.KERNEL_RESTARTED.say("test_double")]


# ---- nbgrader_reason ------------------------------------------------------------------------

NBGRADER_FAILURE = {
    "success": False,
    "error": """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/nbgrader/api.py", line 1445, in update_or_create_student
    student = self.find_student(student_id)
nbgrader.api.MissingEntry: No such student: student00

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py", line 1192, in do_execute
    cursor.execute(statement, parameters)
sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: student.id
[SQL: INSERT INTO student (id, first_name, last_name, email, lms_user_id) VALUES (?, ?, ?, ?, ?)]
""",
    "log": "[AutogradeApp | ERROR] There was an error processing assignment: /c/.grading/submitted/s/01\n"
           "[AutogradeApp | ERROR] Please see the the above traceback for details on the specific "
           "errors on the above failures.\n",
}


def test_a_failed_nbgrader_call_is_explained_by_its_exception():
    assert nbgrader_reason(result_lines(NBGRADER_FAILURE)) == (
        "sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: student.id")


def test_without_a_traceback_the_last_specific_error_is_given():
    log_only = {"error": "", "log": NBGRADER_FAILURE["log"]}
    assert nbgrader_reason(result_lines(log_only)).endswith(
        "error processing assignment: /c/.grading/submitted/s/01")


def test_without_an_error_line_the_last_line_is_given_and_without_any_line_a_placeholder():
    assert nbgrader_reason(["starting", "  something odd happened  ", ""]) == "something odd happened"
    assert nbgrader_reason([]) == "unknown error"


def test_the_reason_is_cut_to_300_characters():
    assert nbgrader_reason(["ValueError: " + "x" * 500]) == ("ValueError: " + "x" * 500)[:300]
