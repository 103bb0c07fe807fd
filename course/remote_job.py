"""A grading job on a Dask worker: the submission graded in a scratch course of its own, by the
same job code as on the instructor's machine (course.job), and sent back as a shipment.Graded.

The Dask task (`run`) hands the job to a child process of the worker (a spawned process pool,
one process per worker thread, kept between jobs so that nbgrader is imported once): there the
job runs in a main thread, where its wall-clock limit works (course.job.time_limit), each
sandboxed kernel gets the uid of its own grading process, and a job that kills its process
costs that job, not the Dask worker. A job whose process died is tried once more in a new one.
"""
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from course.result import Result
from course.status import Note, Status

_pool = {"executor": None, "lock": threading.Lock()}
PARENT_CHECK_SECONDS = 1.0


def run(kit, submission, overrides=None):
    """The Dask task: grade `submission` (shipment.Submission) of the lesson of `kit`
    (shipment.LessonKit) in a child process; returns a shipment.Graded. Never raises for what
    the submission does; a failed job is a Result with status FAILED."""
    from course.shipment import Graded

    for attempt in range(2):
        executor = _executor(replace=attempt > 0)
        try:
            return executor.submit(grade_shipped, kit, submission, overrides).result()
        except BrokenProcessPool:
            continue
    result = Result(submission.student, submission.lesson, Status.FAILED, notes=[Note.WORKER_DIED.say()])
    return Graded(result, {}, {}, None)


def _executor(replace=False):
    """This worker's process pool (one process per Dask worker thread); a new one if `replace`."""
    with _pool["lock"]:
        if replace or _pool["executor"] is None:
            if _pool["executor"] is not None:
                _pool["executor"].shutdown(wait=False, cancel_futures=True)
            _allow_children()
            _pool["executor"] = ProcessPoolExecutor(_threads(), mp_context=multiprocessing.get_context("spawn"),
                                                    initializer=_exit_with, initargs=(os.getpid(),))
        return _pool["executor"]


def _exit_with(parent):
    """In a child: end it when the Dask worker `parent` (a process id) is gone (its sandboxed
    kernels die with it). A stopped worker does not always shut its pool down, and its children
    would wait for jobs for ever."""
    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-worker").start()


def _threads():
    try:
        from distributed import get_worker
        return max(1, get_worker().state.nthreads)
    except ValueError:  # not in a Dask worker (a test calling run() directly)
        return 1


def _allow_children():
    """A Dask nanny starts its worker as a daemon process (Dask's setting distributed.worker.daemon),
    and multiprocessing refuses to start children from a daemon process. The children here end
    with the worker (_exit_with), so they are allowed."""
    process = multiprocessing.current_process()
    if process.daemon:
        process._config["daemon"] = False


def grade_shipped(kit, submission, overrides=None):
    """Grade `submission` in a new scratch course made from `kit`, with course.job's set-up and
    job, in this process; return the shipment.Graded. The scratch course has its own SQLite
    gradebook (whatever gradebook nbgrader_config.py names) and is removed afterwards."""
    from course import gradebook, job
    from course.gradebook_transfer import submission_record
    from course.paths import step_folder
    from course.sandbox import sandbox_refusal
    from course.shipment import Graded, folder_files

    student, lesson = submission.student, submission.lesson
    with tempfile.TemporaryDirectory(prefix="course-job-") as scratch:
        root, config, coursedir = scratch_course(kit, submission, scratch, overrides)
        refusal = sandbox_refusal(config)
        if refusal:
            note = Note.JOB_FAILED.say(f"the sandbox cannot run on the worker: {refusal}"[:300])
            return Graded(Result(student, lesson, Status.FAILED, notes=[note]), {}, {}, None)
        gradebook.prepare(root, [(student, lesson)])
        job.init_worker(str(root), overrides)
        result = job.grade_one(str(root), student, lesson)
        with gradebook.gradebook(root, coursedir) as gb:
            record = submission_record(gb, lesson, student)
        return Graded(result,
                      folder_files(step_folder(coursedir, coursedir.autograded_directory, student, lesson)),
                      folder_files(step_folder(coursedir, coursedir.feedback_directory, student, lesson)),
                      record)


def scratch_course(kit, submission, scratch, overrides=None):
    """Make a course in the folder `scratch` from `kit` (its config, notebooks and gradebook)
    with `submission` in its submitted/; return (its root, its config with `overrides`, its
    nbgrader CourseDirectory)."""
    from course.nbgrader_api import course_directory, load_config
    from course.paths import notebook
    from course.shipment import unpack_submission

    root = Path(scratch) / "course"
    root.mkdir()
    (root / "gradebook.db").write_bytes(kit.gradebook)
    # Appended to the course's config, so that every reader of it (course.gradebook too) finds
    # this scratch gradebook.
    (root / "nbgrader_config.py").write_bytes(
        kit.config + b"\n\n# course grade on a Dask worker: this scratch course's own gradebook\n"
        + f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}\n".encode())
    config = load_config(root, overrides)
    coursedir = course_directory(root, config)
    for step, data in ((coursedir.source_directory, kit.source), (coursedir.release_directory, kit.release)):
        path = notebook(coursedir, step, ".", kit.lesson)
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
    unpack_submission(submission, coursedir, scratch)
    return root, config, coursedir
