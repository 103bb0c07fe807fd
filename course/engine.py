"""Where `course grade` runs its jobs: on this machine's worker processes (course.grade, the
default), or on a Dask cluster (distributed) when a scheduler address is set:
`c.GradeEngine.scheduler_address` in nbgrader_config.py, or `course grade --scheduler`.

On a cluster nothing is shared but the network: each job goes to a worker as bytes (the
lesson's shipment.LessonKit, sent once per lesson, and the student's shipment.Submission),
is graded there in a scratch course (course.remote_job), and comes back as a shipment.Graded.
This process alone writes the course: autograded/, feedback/ and the gradebook.
"""
from uuid import uuid4

from traitlets import Float, Unicode
from traitlets.config import Configurable

from course import gradebook
from course.errors import CourseError
from course.gradebook_transfer import store_submission
from course.intake import shared_file_note
from course.nbgrader_api import course_directory, load_config
from course.paths import step_folder
from course.result import Result
from course.shipment import lesson_kit, pack_submission, write_files
from course.status import Note, Status

CONNECT_SECONDS = 30
IN_FLIGHT_PER_THREAD = 2  # jobs queued per worker thread; the rest are packed as those finish


class GradeEngine(Configurable):
    """Settings of `course grade`'s engine (nbgrader_config.py: c.GradeEngine...)."""
    scheduler_address = Unicode(
        "", help="A Dask scheduler (tcp://HOST:PORT) whose workers grade the submissions; "
                 "'' grades them on this machine's worker processes").tag(config=True)
    staged_submitted_directory = Unicode(
        ".grading/submitted", help="where each submission as the intake took it in is written for "
                                   "nbgrader's autograde to read (its submitted_directory); submitted/ "
                                   "is never written").tag(config=True)
    job_margin_seconds = Float(
        120, help="seconds a job may take, for nbgrader's own steps and the feedback, past the "
                  "notebook's time limit and a kernel start").tag(config=True)


def scheduler_address(config):
    """The Dask scheduler address the config (with any `--scheduler` override) names, or ''."""
    return GradeEngine(config=config).scheduler_address


def grade_on_cluster(root, pairs, address, overrides=None, on_result=None):
    """Grade every (student, lesson) of `pairs` on the Dask cluster at `address` and write what
    comes back into the course; return the Results, calling `on_result(result)` as each arrives.
    Raises CourseError where the scheduler cannot be reached or has no worker for
    CONNECT_SECONDS. A job that raised, whose worker was lost, whose submission could not be
    read or whose outcome could not be stored is FAILED with the reason; the others go on."""
    from distributed import Client, as_completed

    from course.remote_job import run

    root = str(root)
    coursedir = course_directory(root, load_config(root, overrides))
    try:
        client = Client(address, timeout=f"{CONNECT_SECONDS}s")
    except OSError as error:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    results, waiting, pending, jobs, kits = [], list(pairs), {}, as_completed(), {}

    def finish(result):
        results.append(result)
        if on_result:
            on_result(result)

    def refill():
        """Send jobs until each worker thread the cluster has now has IN_FLIGHT_PER_THREAD
        (workers may join while it grades); the submissions are read as they are sent."""
        room = max(1, sum(client.nthreads().values())) * IN_FLIGHT_PER_THREAD - len(pending)
        while waiting and room > 0:
            student, lesson = waiting.pop(0)
            try:
                submission = pack_submission(coursedir, student, lesson)
                future = client.submit(run, kits[lesson], submission, overrides, pure=False,
                                       key=f"grade-{lesson}-{student}-{uuid4().hex}")
            except (Exception, SystemExit) as error:  # noqa: BLE001 (unreadable submission, or not sendable)
                finish(_failed(root, coursedir, student, lesson, error))
                continue
            pending[future.key] = (student, lesson, submission.sharing)
            jobs.add(future)
            room -= 1

    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            raise CourseError(f"the Dask scheduler at {address} has no workers (start some with "
                              f"`dask worker {address}`)") from None
        try:
            kits.update({lesson: client.scatter(lesson_kit(root, lesson, coursedir), broadcast=True)
                         for lesson in sorted({lesson for _, lesson in pairs})})
            refill()
            for future in jobs:
                student, lesson, sharing = pending.pop(future.key)
                finish(_outcome(root, coursedir, student, lesson, future, sharing))
                future.release()
                refill()
        except (Exception, SystemExit) as error:  # noqa: BLE001 (the lessons could not be sent, or the cluster
            # went away: the rest are FAILED, the run ends)
            for student, lesson in waiting + [pair[:2] for pair in pending.values()]:
                finish(_failed(root, coursedir, student, lesson, error))
    return sorted(results, key=lambda r: (r.student, r.lesson))


def _outcome(root, coursedir, student, lesson, future, sharing):
    """The Result of one finished job, stored in the course; FAILED with the reason where
    anything in storing it raised."""
    try:
        return _flag_shared(root, _store(root, coursedir, student, lesson, future), sharing)
    except (Exception, SystemExit) as error:  # noqa: BLE001 (one job's failure must not end the class run)
        return _failed(root, coursedir, student, lesson, error)


def _store(root, coursedir, student, lesson, future):
    """Write one job's outcome into the course (its earlier score, autograded copy and feedback
    removed first, as a local job does); return its Result."""
    try:
        gradebook.forget(root, coursedir, student, lesson)
        graded = future.result()
        write_files(step_folder(coursedir, coursedir.autograded_directory, student, lesson), graded.autograded)
        write_files(step_folder(coursedir, coursedir.feedback_directory, student, lesson), graded.feedback)
        if graded.record is not None:
            with gradebook.gradebook(root, coursedir) as gb:
                store_submission(gb, lesson, student, graded.record)
        return graded.result
    except (Exception, SystemExit) as error:  # noqa: BLE001 (raised on the worker, worker lost, or not storable)
        return _failed(root, coursedir, student, lesson, error)


def _flag_shared(root, result, sharing):
    """A graded submission that is the same file as other students' (hard links) is flagged
    with that evidence, as the local intake does (course.intake.take_in)."""
    if sharing and result.status in (Status.GRADED, Status.FLAGGED):
        result.status = Status.FLAGGED
        result.notes.insert(0, shared_file_note(sharing))
        gradebook.set_flagged(root, result.student, result.lesson)
    return result


def _failed(root, coursedir, student, lesson, error):
    """The FAILED Result of a job that did not end in a graded outcome; nothing of it is kept
    (where the gradebook itself fails, that is said too)."""
    notes = [Note.JOB_FAILED.say(f"{type(error).__name__}: {error}"[:300])]
    max_score = 0.0
    try:
        gradebook.forget(root, coursedir, student, lesson)
        max_score = gradebook.score(root, student, lesson)[1]
    except Exception as cleanup:  # noqa: BLE001 (the gradebook may be what failed)
        notes.append(Note.JOB_FAILED.say(f"{type(cleanup).__name__}: {cleanup}"[:300]))
    return Result(student, lesson, Status.FAILED, max_score=max_score, notes=notes)
