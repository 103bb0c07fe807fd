"""nbgrader on a course directory: its configuration, its Python API and its directory layout."""
import logging
import os
import sys
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


def load_config(root, overrides=None):
    """The course's nbgrader_config.py, with `overrides` ({"Section": {"trait": value}}) on top."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.merge(Config(overrides or {}))
    config.CourseDirectory.root = str(root)
    return config


def course_directory(root, config=None):
    """nbgrader's CourseDirectory of a course: where each step keeps each student's work."""
    return CourseDirectory(config=config or load_config(root))


def tools_on_path():
    """nbgrader runs `alembic` (and kernels run `python`) from PATH: use this environment's,
    also when `course` is called as .venv/bin/course without activating the environment."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def make_api(root, config=None):
    """nbgrader's Python API (the calls behind `nbgrader autograde`, ...) on the course."""
    tools_on_path()
    api = NbGraderAPI(config=config or load_config(root))
    api.log.setLevel(logging.WARNING)
    return api


def result_lines(result):
    """The non-blank lines of what an NbGraderAPI call reported (its traceback, then its log)."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    return [line for line in text.splitlines() if line.strip()]
