"""`course grade`: every submission in submitted/ graded by parallel worker processes, then
grades.csv and the report, whatever any one submission did.

What each job runs is nbgrader's autograde and generate_feedback as nbgrader_config.py sets
them up (the sandboxed kernel manager, the resilient executor, the feedback preprocessors);
this module adds the intake, the workers, the progress and the report around it.
"""
import fcntl
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from course import gradebook
from course import job as job_module
from course.engine import GradeEngine, grade_on_cluster, scheduler_address
from course.errors import CourseError
from course.intake import find_submissions
from course.job import grade_one, init_worker
from course.nbgrader_api import course_directory, load_config
from course.paths import step_root
from course.report import status_line, write_report
from course.result import Result
from course.sandbox import sandbox_refusal
from course.status import Note, Status

NO_SANDBOX = {"Execute": {"kernel_manager_class": "jupyter_client.manager.AsyncKernelManager"}}


def default_jobs():
    """Two autogrades per core held up in the measurements; more than four outran the cell
    timeout while TensorFlow imported. One per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def course_lock(root, config):
    """One `course grade` at a time per course directory (two would grade the same pairs); the
    lock file is beside the staged submissions."""
    path = Path(root) / Path(GradeEngine(config=config).staged_submitted_directory).parent / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CourseError(f"another `course grade` is running on {root}; wait for it") from None
        yield


def grade(root, students=None, lessons=None, jobs=None, overrides=None, progress=True):
    """Grade every (student, lesson) in submitted/ (or those named) with `jobs` workers; write
    grades.csv and reports/; return the Results sorted by student and lesson.

    `overrides` ({"Section": {"trait": value}}) go on top of nbgrader_config.py, as `course
    grade --no-sandbox` (NO_SANDBOX), `--timeout` and `--scheduler` do. Where the config names a
    Dask scheduler (c.GradeEngine.scheduler_address), its workers grade (course.engine) and
    `jobs` is not used. Raises CourseError, before grading anything, where the sandbox the
    config asks for cannot run here (on a cluster each worker checks its own), where there is
    nothing to grade or a lesson is not released, where another run holds the course, or where
    the scheduler cannot be reached."""
    root = Path(root).resolve()
    config = load_config(root, overrides)
    address = scheduler_address(config)
    refusal = None if address else sandbox_refusal(config)
    if refusal:
        raise CourseError(refusal)
    pairs = find_submissions(root, students, lessons)
    if not pairs:
        coursedir = course_directory(root, config)
        expected = coursedir.format_path(coursedir.submitted_directory, "<student>", "<lesson>") + "/<lesson>.ipynb"
        raise CourseError(f"nothing to grade in {step_root(coursedir, coursedir.submitted_directory)} "
                          f"(expected {expected})")
    with course_lock(root, config):
        gradebook.prepare(root, pairs)
        if address:
            bar, count = _progress(len(pairs), f"grading (Dask: {address})", progress)
            results = grade_on_cluster(root, pairs, address, overrides, on_result=count)
            bar.close()
        else:
            results = _run_jobs(root, pairs, jobs, overrides, progress)
        try:
            gradebook.export_csv(root)
        finally:
            write_report(root, results)
    return results


def _run_jobs(root, pairs, jobs, overrides, progress, job=grade_one, setup=init_worker):
    """Run `job` for every pair in a pool of `jobs` worker processes, each set up by
    `setup(root, overrides)`. A job whose worker process died (which ends the whole pool) is
    tried again alone, in a pool of its own; if it kills that one too, it is FAILED and the
    others go on."""
    jobs = max(1, min(jobs or default_jobs(), len(pairs)))
    bar, count = _progress(len(pairs), f"grading ({jobs} jobs)", progress)
    results, broken = [], []

    def done(result):
        results.append(result)
        count(result)

    for pair, outcome in _pool(root, pairs, jobs, overrides, job, setup):
        broken.append(pair) if isinstance(outcome, BrokenProcessPool) else done(outcome)
    for pair in broken:
        for _, outcome in _pool(root, [pair], 1, overrides, job, setup):
            done(_failed(pair, Note.WORKER_DIED.say()) if isinstance(outcome, BrokenProcessPool)
                 else outcome)
    bar.close()
    return sorted(results, key=lambda r: (r.student, r.lesson))


def _progress(total, description, progress):
    """A progress bar of `total` submissions and a function that counts one Result on it and
    prints the Result's line (neither shows anything unless `progress`)."""
    bar = tqdm(total=total, desc=description, unit="submission", disable=not progress)

    def count(result):
        bar.update()
        if progress:
            bar.write(status_line(result))

    return bar, count


def _pool(root, pairs, jobs, overrides, job, setup):
    """(pair, Result or BrokenProcessPool) for each pair, as the jobs finish. The workers are
    forked from multiprocessing's fork server, which imports nbgrader and the course once for
    every pool of this process (a spawned worker spent about 2 s of CPU importing them)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["course.job"])
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                             initargs=(setup, dict(os.environ), os.getcwd(), list(sys.path),
                                       str(root), overrides)) as pool:
        futures = {pool.submit(job, str(root), *pair): pair for pair in pairs}
        for future in as_completed(futures):
            pair = futures[future]
            try:
                yield pair, future.result()
            except BrokenProcessPool as error:
                yield pair, error
            except (Exception, SystemExit) as error:  # noqa: BLE001 (the job raised past its guard, or could
                # not even be sent or read back)
                yield pair, _failed(pair, Note.JOB_FAILED.say(f"{type(error).__name__}: {error}"[:300]))


def _start_worker(setup, environment, directory, path, root, overrides):
    """A new worker: this process's environment, directory and module path as they are now (a
    forked worker has the fork server's, from when it started), then `setup(root, overrides)`
    unless `setup` is None. Where the set-up raises, the worker stays up and every job it is
    given fails with that reason (a worker that died would be reported as a death instead)."""
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(directory)
    sys.path[:] = path
    if setup is not None:
        try:
            setup(root, overrides)
        except (Exception, SystemExit) as error:  # noqa: BLE001 (said by every job, see job.grade_one)
            job_module._worker["setup_error"] = f"{type(error).__name__}: {error}"[:300]


def _failed(pair, note):
    student, lesson = pair
    return Result(student, lesson, Status.FAILED, notes=[note])
