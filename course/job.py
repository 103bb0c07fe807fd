"""One grading job: a student's submission of one lesson, graded in a worker process.

The job takes the submission in (course.intake) to a staging copy, drops any earlier score of
that pair from the gradebook, then runs nbgrader's autograde and generate_feedback on the copy,
configured by nbgrader_config.py. Whatever happens, the gradebook ends with this run's result or
no score at all, submitted/ is never written, and the job returns a Result: an exception inside
it becomes the status FAILED with the exception as its note, and so does a job that runs past
its wall-clock limit (its kernels are killed).
"""
import asyncio
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import nbformat
from jupyter_core.utils import ensure_event_loop

from course import gradebook
from course.diagnose import cell_problems, libraries_changed, nbgrader_reason
from course.engine import GradeEngine
from course.intake import stage, take_in
from course.nbgrader_api import course_directory, load_config, make_api, result_lines
from course.nbgrader_plugins import PHASE_SECONDS, ResilientExecute
from course.paths import notebook
from course.result import Result
from course.sandbox import kill_kernels
from course.status import Note, Status

_worker = {}


class JobTimeLimit(Exception):
    """A job ran past its wall-clock limit."""


def job_seconds(config):
    """The wall-clock limit of one job in seconds: the notebook's time
    (ResilientExecute.max_seconds), a kernel start (Execute.startup_timeout) and
    GradeEngine.job_margin_seconds."""
    execute = ResilientExecute(config=config)
    return execute.max_seconds + execute.startup_timeout + GradeEngine(config=config).job_margin_seconds


@contextmanager
def time_limit(seconds):
    """Raise JobTimeLimit in this (main) thread after `seconds` of wall-clock time. Yields a
    namespace whose `expired` says afterwards whether that happened (nbgrader catches every
    exception of an autograde and reports a failure instead). Does nothing in another thread,
    where no signal can be received."""
    state = SimpleNamespace(expired=False)
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def expire(signum, frame):
        state.expired = True
        raise JobTimeLimit(f"{seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def init_worker(root, overrides=None):
    """Set up a worker process: the course's config with `overrides`, autograde reading the
    staged copies."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    config = load_config(root, overrides)
    _worker["coursedir"] = course_directory(root, config)  # reads submitted/ as configured
    _worker["seconds"] = job_seconds(config)
    _worker["staged"] = GradeEngine(config=config).staged_submitted_directory
    staged = load_config(root, overrides)
    staged.CourseDirectory.submitted_directory = _worker["staged"]
    _worker["api"] = make_api(root, staged)


def grade_one(root, student, lesson):
    """Grade one submission in this (initialised) worker; never raises."""
    if "setup_error" in _worker:
        return Result(student, lesson, Status.FAILED,
                      notes=[Note.JOB_FAILED.say(f"the worker's set-up: {_worker['setup_error']}")])
    start = time.perf_counter()
    try:
        with time_limit(_worker["seconds"]) as limit:
            result = _grade(root, student, lesson)
        if limit.expired:  # raised inside nbgrader, which made it a failed autograde
            raise JobTimeLimit(f"{_worker['seconds']:g} s")
    except (Exception, SystemExit) as error:  # noqa: BLE001 (one job's failure must not end the class run;
        # nbgrader's apps call sys.exit)
        if isinstance(error, JobTimeLimit):
            _abandon_kernels()
            note = Note.TIME_LIMIT.say(str(error))
        else:
            note = Note.JOB_FAILED.say(f"{type(error).__name__}: {error}"[:300])
        result = Result(student, lesson, Status.FAILED, notes=[note])
        try:
            gradebook.forget(root, _worker["coursedir"], student, lesson)
        except Exception as cleanup:  # noqa: BLE001 (the gradebook may be what failed)
            result.notes.append(Note.JOB_FAILED.say(f"{type(cleanup).__name__}: {cleanup}"[:300]))
        result.score, result.max_score = 0.0, _max_score(root, lesson)
    result.seconds = time.perf_counter() - start
    return result


def _abandon_kernels():
    """After a job was stopped in the middle: kill its kernels, cancel what nbclient left waiting."""
    kill_kernels()
    for task in asyncio.all_tasks(ensure_event_loop()):  # the loop nbclient's calls run in
        task.cancel()


def _max_score(root, lesson):
    try:
        return gradebook.score(root, "", lesson)[1]
    except Exception:  # noqa: BLE001 (the gradebook itself may be what failed)
        return 0.0


def _grade(root, student, lesson):
    coursedir, api = _worker["coursedir"], _worker["api"]
    intake = take_in(root, coursedir, student, lesson)
    gradebook.forget(root, coursedir, student, lesson)
    result = Result(student, lesson, intake.status, notes=list(intake.notes))
    if intake.notebook is not None:
        staged = stage(coursedir, _worker["staged"], student, lesson, intake.notebook)
        try:
            _autograde(api, coursedir, result)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    result.score, result.max_score = gradebook.score(root, student, lesson)
    return result


def _autograde(api, coursedir, result):
    student, lesson = result.student, result.lesson
    tick = time.perf_counter()
    PHASE_SECONDS.clear()
    outcome = api.autograde(lesson, student, force=True, create=True)
    result.phases["autograde"] = time.perf_counter() - tick
    result.phases.update(PHASE_SECONDS)  # the parts of it spent in the kernel
    if not outcome["success"]:
        gradebook.forget(coursedir.root, coursedir, student, lesson)
        result.status = Status.FAILED
        result.notes.append(nbgrader_reason(result_lines(outcome)))
        return
    tick = time.perf_counter()
    feedback = api.generate_feedback(lesson, student, force=True)
    result.phases["feedback"] = time.perf_counter() - tick
    if not feedback["success"]:
        result.notes.append(Note.FEEDBACK_FAILED.say(nbgrader_reason(result_lines(feedback))))
    graded = nbformat.read(notebook(coursedir, coursedir.autograded_directory, student, lesson), 4)
    result.notes += cell_problems(graded)
    changed = libraries_changed(graded)
    if changed:
        result.status = Status.FLAGGED
        result.notes.insert(0, Note.CHANGED_LIBRARIES.say("; ".join(changed)[:600]))
    if result.status is Status.FLAGGED:
        gradebook.set_flagged(coursedir.root, student, lesson)

