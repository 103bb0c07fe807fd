"""course.grade beyond the bad class: one student's lessons graded side by side, and the reason
given when nbgrader itself fails."""
import pytest

from course import submissions
from course.demo import make_course
from course.grade import _init_gradebook, _nbgrader_reason, grade
from course.nbgrader_api import gradebook
from course.paths import REPOSITORY_ROOT
from course.release import release
from course.sandbox import sandbox_problem

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
    assert _nbgrader_reason(NBGRADER_FAILURE) == (
        "sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: student.id")


def test_without_a_traceback_the_last_specific_error_is_given():
    log_only = {"error": "", "log": NBGRADER_FAILURE["log"]}
    assert _nbgrader_reason(log_only).endswith("error processing assignment: /c/.grading/submitted/s/01")


LESSONS = ["02_activations", "03_perceptron"]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = make_course(REPOSITORY_ROOT, tmp_path_factory.mktemp("two_lessons"), LESSONS)
    release(root, LESSONS, update_readme=False)
    return root


@pytest.mark.slow
@pytest.mark.xdist_group("two_lessons")
def test_students_are_in_the_gradebook_before_the_workers_start(released):
    """Two workers adding the same new student at once collide on the gradebook's unique key."""
    _init_gradebook(released, [("cy", LESSONS[0]), ("cy", LESSONS[1]), ("di", LESSONS[0])])
    with gradebook(released) as gb:
        assert {"cy", "di"} <= {student.id for student in gb.students}


@pytest.mark.slow
@pytest.mark.xdist_group("two_lessons")
def test_one_students_lessons_are_graded_side_by_side(released):
    for student in ("ada", "bo"):
        for lesson in LESSONS:
            submissions.submit(released, student, lesson, submissions.answered(released, lesson))
    results = grade(released, students=["ada", "bo"], jobs=2, sandbox=sandbox_problem() is None,
                    progress=False)
    assert [(r.student, r.lesson, r.status, r.score == r.max_score > 0) for r in results] == [
        (student, lesson, "graded", True) for student in ("ada", "bo") for lesson in LESSONS]
