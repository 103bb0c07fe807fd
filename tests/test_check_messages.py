"""What a student sees when a check fails or an exercise is blank, in an IPython shell (no
kernel) that ran the release's checks cell first, as a student's notebook does: one Korean line
and the line of the cell, no traceback; the cell still ends in an error (the grader's zero)."""
import pytest

from course.nbgrader_plugins import inline_checks_source

EXERCISES = {"sigmoid": "문제 2", "AND": "문제 3"}
STUB = "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()"


@pytest.fixture
def run():
    """run(cell) -> (the exception the cell ended in or None, [(ename, evalue, lines shown)]).
    IPython hands what it shows for an error to _showtraceback; ipykernel sends the same as the
    cell's error output (ename, evalue, traceback)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shown = []
    shell._showtraceback = lambda etype, evalue, stb: shown.append((etype.__name__, str(evalue), stb))
    assert shell.run_cell(inline_checks_source(EXERCISES)).success

    def run_cell(cell):
        shown.clear()
        result = shell.run_cell(cell)
        return result.error_in_exec, list(shown)

    yield run_cell
    InteractiveShell.clear_instance()


def test_a_failed_check_shows_its_korean_message_and_line_only(run):
    cell = ("def dense_params(inputs, units):\n    return inputs * units\n\n\n"
            "check_equal('dense_params(1, 4)', dense_params(1, 4), 4)\n"
            "check_equal('dense_params(4, 2)', dense_params(4, 2), 10, hint='유닛마다 b 하나')\n")
    error, shown = run(cell)
    message = "`dense_params(4, 2)`: 기대한 값은 10, 실제 값은 8입니다.\n힌트: 유닛마다 b 하나"
    assert isinstance(error, AssertionError) and type(error).__name__ == "CheckFailed"
    assert shown == [("CheckFailed", message, [f"CheckFailed: {message}", "(이 셀의 6번째 줄)"])]


def test_a_check_inside_a_helper_names_the_cells_line(run):
    error, shown = run("def check_twice(x):\n    check_equal('x', x, 2)\n\n\ncheck_twice(2)\ncheck_twice(3)\n")
    assert type(error).__name__ == "CheckFailed" and shown[0][2][-1] == "(이 셀의 6번째 줄)"


def test_an_unanswered_function_names_itself_and_its_exercise(run):
    assert run(f"def sigmoid(x):\n    {STUB.replace(chr(10), chr(10) + '    ')}\n") == (None, [])
    error, shown = run("import numpy as np\ncheck_array('sigmoid(0)', sigmoid(0.0), 0.5)\n")
    message = ("`sigmoid` 함수에 아직 답을 쓰지 않았습니다: 문제 2의 `raise NotImplementedError()` 줄을 지우고 "
               "답을 쓴 뒤, 그 셀과 이 셀을 다시 실행하세요.")
    assert type(error) is NotImplementedError
    assert shown == [("NotImplementedError", message, [f"NotImplementedError: {message}", "(이 셀의 2번째 줄)"])]


def test_an_unanswered_cell_says_so(run):
    error, shown = run(f"w = 1\n{STUB}\n")
    message = "이 셀에 아직 답을 쓰지 않았습니다: `raise NotImplementedError()` 줄을 지우고 답을 쓴 뒤 이 셀을 다시 실행하세요."
    assert type(error) is NotImplementedError
    assert shown == [("NotImplementedError", message, [f"NotImplementedError: {message}", "(이 셀의 3번째 줄)"])]


def test_a_name_a_blank_exercise_defines_names_the_exercise(run):
    error, shown = run("x = 1\nAND(1, 1)\n")
    message = "`AND`이(가) 아직 없습니다: 문제 3의 답을 쓰고 그 셀을 실행한 뒤 이 셀을 다시 실행하세요."
    assert type(error) is NameError
    assert shown == [("NameError", message, [f"NameError: {message}", "(이 셀의 2번째 줄)"])]


@pytest.mark.parametrize(("cell", "kind"), [
    pytest.param("x = 1\nOR(1, 1)\n", NameError, id="other-name"),
    pytest.param("import asyncio\nasyncio.AbstractEventLoop().run_forever()\n", NotImplementedError,
                 id="library-not-implemented"),
    pytest.param("raise NotImplementedError('직접 쓴 메시지')\n", NotImplementedError, id="own-message"),
    pytest.param("x = 1\n1 / 0\n", ZeroDivisionError, id="other-error"),
])
def test_other_errors_keep_ipythons_message_and_traceback(run, cell, kind):
    error, shown = run(cell)
    (ename, evalue, lines), = shown
    assert type(error) is kind and ename == kind.__name__ and evalue == str(error)
    assert "이 셀" not in evalue and len(lines) > 2, "IPython's own traceback"


def test_the_checks_cell_runs_outside_ipython():
    namespace = {}
    exec(inline_checks_source(EXERCISES), namespace)  # plain Python: nothing to install
    assert "check_array" in namespace
