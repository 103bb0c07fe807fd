"""Job functions for tests of the worker pool (importable by spawned worker processes). They
import nothing heavier than course.result, so that a worker starts in a fraction of a second
(a grading worker imports nbgrader: seconds each)."""
import os

from course.result import Result
from course.status import Status


def exit_for_killer(root, student, lesson):
    """A job that ends its worker process for the student "killer" and grades everyone else."""
    if student == "killer":
        os._exit(1)
    return Result(student, lesson, Status.GRADED, score=1.0, max_score=1.0)


def where_am_i(root, student, lesson):
    """A job whose notes are the worker's COURSE_TEST_MARK variable, directory and module path."""
    import sys
    return Result(student, lesson, Status.GRADED,
                  notes=[os.environ.get("COURSE_TEST_MARK"), os.getcwd(), list(sys.path)])


def raise_past_the_guard(root, student, lesson):
    """A job that raises what no job should for "quitter" (SystemExit, as nbgrader's apps do) and
    "crasher" (an exception), and grades everyone else."""
    if student == "quitter":
        raise SystemExit(3)
    if student == "crasher":
        raise RuntimeError("disk on fire")
    return Result(student, lesson, Status.GRADED, score=1.0, max_score=1.0)


def broken_setup(root, overrides):
    """A worker set-up that fails, as init_worker does on a course whose config cannot be read."""
    raise RuntimeError("nbgrader_config.py: broken")
