"""nbgrader's Python API on a course directory, and what its gradebook holds."""
import logging
import os
import sys
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader


def load_config(root):
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def _tools_on_path():
    """nbgrader runs `alembic` (and kernels run `python`) from PATH: use this environment's,
    also when `course` is called as .venv/bin/course without activating the environment."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def make_api(root, config=None):
    _tools_on_path()
    api = NbGraderAPI(config=config or load_config(root))
    api.log.setLevel(logging.WARNING)
    return api


def result_lines(result):
    """The non-blank lines of what an NbGraderAPI call reported (its traceback, then its log)."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    return [line for line in text.splitlines() if line.strip()]


def gradebook(root):
    coursedir = CourseDirectory(config=load_config(root))
    return Gradebook(coursedir.db_url, coursedir.course_id)


def cell_scores(root, lesson, student):
    """{grade_id: (score, max_score)} of one autograded submission; {} if there is none."""
    with gradebook(root) as gb:
        try:
            notebook = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:
            return {}
        return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}


def submission_score(root, lesson, student):
    """(score, max_score) of one submission, or None if it was never autograded."""
    with gradebook(root) as gb:
        try:
            submission = gb.find_submission(lesson, student)
        except MissingEntry:
            return None
        return submission.score, submission.max_score
