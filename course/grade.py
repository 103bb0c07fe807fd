"""`course grade`: autograde submitted/ in parallel worker processes, each student's kernel
in the sandbox; feedback, grades.csv and a status for every submission.

A job is one (student, lesson). It takes the submission in (course.intake) to a staging copy,
drops any earlier score for that pair from the gradebook, then runs nbgrader's autograde and
generate_feedback on the copy. Whatever happens, the gradebook ends with this run's result or
no score at all, and submitted/ is never written.
"""
import fcntl
import multiprocessing
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,
                                    LimitOutput, SaveAutoGrades)
from nbgrader.plugins.export import CsvExportPlugin
from tqdm import tqdm

from course import nbgrader_plugins
from course.intake import take_in
from course.nbgrader_api import gradebook, load_config, make_api, result_lines
from course.paths import lesson_ids
from course.sandbox import SandboxedKernelManager, sandbox_problem

GRADES_CSV = "grades.csv"
STAGING = ".grading"  # nbgrader's submitted_directory during a run: cleaned copies


class GradingRefused(Exception):
    pass


@dataclass
class Result:
    student: str
    lesson: str
    status: str  # graded, failed, missing, empty, corrupt
    score: float = 0.0
    max_score: float = 0.0
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)  # seconds spent in autograde and feedback

    @property
    def reason(self):
        return "; ".join(self.notes)


def default_jobs():
    """Two autogrades per core held up in the measurements; more than four outran the cell
    timeout while TensorFlow imported. One per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def find_submissions(root, students=None, lessons=None):
    """(student, lesson) pairs present in submitted/, each once, filtered by the names given."""
    known = set(lesson_ids(root))
    pairs = []
    for folder in sorted((Path(root) / "submitted").glob("*/*")):
        student, lesson = folder.parent.name, folder.name
        if folder.is_dir() and lesson in known:
            if (not students or student in students) and (not lessons or lesson in lessons):
                pairs.append((student, lesson))
    return pairs


@contextmanager
def course_lock(root):
    """One `course grade` at a time per course directory (two would grade the same pairs)."""
    path = Path(root) / STAGING / "lock"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GradingRefused(f"another `course grade` is running on {root}; wait for it") from None
        yield


# ---- one job, in a worker process -------------------------------------------------------

_api = None


def _init_worker(root, sandbox, timeout):
    global _api
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    config = load_config(root)
    config.CourseDirectory.submitted_directory = f"{STAGING}/submitted"
    if timeout:
        config.Execute.timeout = timeout
    config.Autograde.autograde_preprocessors = [  # nbgrader 0.9.6's list, Execute replaced
        nbgrader_plugins.ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    if sandbox:
        config.Execute.kernel_manager_class = SandboxedKernelManager
    _api = make_api(root, config)


def _forget(root, student, lesson):
    """No score, autograded copy or feedback of an earlier run stays behind."""
    with gradebook(root) as gb:
        try:
            gb.remove_submission(lesson, student)
        except MissingEntry:
            pass
    for step in ("autograded", "feedback"):
        shutil.rmtree(Path(root) / step / student / lesson, ignore_errors=True)


def _stage(root, student, lesson, notebook):
    staged = Path(root) / STAGING / "submitted" / student / lesson
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    nbformat.write(notebook, staged / f"{lesson}.ipynb")
    timestamp = Path(root) / "submitted" / student / lesson / "timestamp.txt"
    if timestamp.is_file():
        shutil.copy(timestamp, staged / "timestamp.txt")
    return staged


EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Z]\w*: \S")  # "sqlite3.IntegrityError: ..."


def _nbgrader_reason(result):
    """The exception behind a failed nbgrader call: the last traceback line naming one, else
    the last error logged other than nbgrader's "Please see the above traceback"."""
    lines = [line.strip() for line in result_lines(result)]
    exceptions = [line for line in lines if EXCEPTION_LINE.match(line)]
    errors = [line for line in lines if "ERROR" in line and "above traceback" not in line]
    return (exceptions or errors or lines or ["unknown error"])[-1][:300]


def grade_one(root, student, lesson):
    start = time.perf_counter()
    intake = take_in(root, student, lesson)
    _forget(root, student, lesson)
    result = Result(student, lesson, intake.status, notes=list(intake.notes))
    if intake.notebook is not None:
        staged = _stage(root, student, lesson, intake.notebook)
        tick = time.perf_counter()
        outcome = _api.autograde(lesson, student, force=True, create=True)
        result.phases["autograde"] = time.perf_counter() - tick
        if outcome["success"]:
            tick = time.perf_counter()
            feedback = _api.generate_feedback(lesson, student, force=True)
            result.phases["feedback"] = time.perf_counter() - tick
            if not feedback["success"]:
                result.notes.append(f"피드백 생성 실패 (feedback failed): {_nbgrader_reason(feedback)}")
            result.status = "graded"
            result.notes += cell_problems(root, student, lesson)
        else:
            _forget(root, student, lesson)
            result.status = "failed"
            result.notes.append(_nbgrader_reason(outcome))
        shutil.rmtree(staged, ignore_errors=True)
    result.score, result.max_score = _score(root, student, lesson)
    result.seconds = time.perf_counter() - start
    return result


def _score(root, student, lesson):
    with gradebook(root) as gb:
        try:
            maximum = gb.find_assignment(lesson).max_score
        except MissingEntry:
            maximum = 0.0
        try:
            return gb.find_submission(lesson, student).score, maximum
        except MissingEntry:
            return 0.0, maximum


ERROR_KINDS = {
    "CellTimeoutError": "시간 초과 (timeout)",
    "KeyboardInterrupt": "시간 초과 (timeout)",  # how the timeout stopped a student's cell
    nbgrader_plugins.KERNEL_DIED: "커널 종료 (kernel died)",
    "MemoryError": "메모리 초과 (memory limit)",
    "SyntaxError": "문법 오류 (syntax error)",
    "IndentationError": "문법 오류 (syntax error)",
    "NotImplementedError": "답하지 않음 (not answered)",
}


def cell_problems(root, student, lesson):
    """What went wrong in the student's own cells, read off the autograded notebook."""
    path = Path(root) / "autograded" / student / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    problems, truncated, restarted = {}, [], []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        where = meta.get("grade_id") or f"cell {number}"
        is_test = meta.get("grade") and not meta.get("solution")
        for output in cell.outputs:
            if output.output_type == "stream" and nbgrader_plugins.OUTPUT_TRUNCATED in output.text:
                truncated.append(where)
            if output.output_type == "stream" and nbgrader_plugins.KERNEL_RESTARTED in output.text:
                restarted.append(where)
            if output.output_type != "error":
                continue
            kind = ERROR_KINDS.get(output.ename)
            if kind is None and not is_test:
                kind = f"오류 (exception {output.ename})"
            if kind and (not is_test or output.ename in ("CellTimeoutError", nbgrader_plugins.KERNEL_DIED,
                                                          "MemoryError")):
                problems.setdefault(kind, []).append(where)
    notes = [f"{kind}: {', '.join(dict.fromkeys(cells))}" for kind, cells in problems.items()]
    if truncated:
        notes.append(f"출력이 너무 많아 잘림 (output flood truncated): {', '.join(truncated)}")
    if restarted:
        notes.append(f"커널을 다시 시작해 다시 실행함 (kernel restarted, cell rerun): {', '.join(restarted)}")
    return notes


# ---- the whole class ----------------------------------------------------------------------

def grade(root, students=None, lessons=None, jobs=None, sandbox=True, timeout=None, progress=True):
    """Grade every (student, lesson) in submitted/; write grades.csv; return the results."""
    root = Path(root).resolve()
    if sandbox and sandbox_problem():
        raise GradingRefused(sandbox_problem())
    pairs = find_submissions(root, students, lessons)
    if not pairs:
        raise GradingRefused(f"nothing to grade in {root / 'submitted'} "
                             "(expected submitted/<student>/<lesson>/<lesson>.ipynb)")
    results = []
    with course_lock(root):
        _init_gradebook(root, pairs)
        jobs = max(1, min(jobs or default_jobs(), len(pairs)))
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(str(root), sandbox, timeout)) as pool:
            futures = {pool.submit(grade_one, str(root), s, l): (s, l) for s, l in pairs}
            bar = tqdm(total=len(pairs), desc=f"grading ({jobs} jobs)", unit="submission",
                       disable=not progress)
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                bar.update()
                if progress:
                    bar.write(status_line(result))
            bar.close()
        export_csv(root)
    return sorted(results, key=lambda r: (r.student, r.lesson))


def _init_gradebook(root, pairs):
    """The lessons must be released; the students are added here, before the workers start:
    two workers adding the same student at once would fail on the gradebook's unique key."""
    with gradebook(root) as gb:
        for lesson in sorted({lesson for _, lesson in pairs}):
            try:
                gb.find_assignment(lesson)
            except MissingEntry:
                raise GradingRefused(f"{lesson} is not in the gradebook: run `course release "
                                     f"{lesson}` first") from None
        for student in sorted({student for student, _ in pairs}):
            gb.update_or_create_student(student)


def status_line(result):
    score = f"{result.score:g}/{result.max_score:g}"
    line = f"{result.student:20s} {result.lesson:18s} {score:>9s}  {result.status}"
    return line + (f": {result.reason}" if result.notes else "")


def export_csv(root):
    path = Path(root) / GRADES_CSV
    with gradebook(root) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def score_table(results):
    """Students as rows, lessons as columns, "score / max" (or the status) in each cell."""
    import pandas as pd

    rows = {}
    for r in results:
        rows.setdefault(r.student, {})[r.lesson] = (
            f"{r.score:g} / {r.max_score:g}" if r.status == "graded" else f"0 ({r.status})")
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    table.index.name = "student"
    return table.fillna("-")
