"""Where a course directory keeps what: nbgrader's layout plus the lesson list."""
import re
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
LESSON_ID = re.compile(r"^\d\d_[a-z0-9_]+$")


def course_root(path=None):
    """The course directory: the given one, else the current one, else this repository."""
    for candidate in ([Path(path)] if path else [Path.cwd(), REPOSITORY_ROOT]):
        if (candidate / "nbgrader_config.py").is_file():
            return candidate.resolve()
    where = path or f"{Path.cwd()} or {REPOSITORY_ROOT}"
    raise SystemExit(f"nbgrader_config.py not found in {where}: is this a course directory?")


def lesson_ids(root):
    """Lessons in source/, in course order (their ids start with the lesson number)."""
    return sorted(p.name for p in (Path(root) / "source").iterdir()
                  if p.is_dir() and LESSON_ID.match(p.name))


def source_notebook(root, lesson):
    return Path(root) / "source" / lesson / f"{lesson}.ipynb"


def release_notebook(root, lesson):
    return Path(root) / "release" / lesson / f"{lesson}.ipynb"


def submitted_notebook(root, student, lesson):
    return Path(root) / "submitted" / student / lesson / f"{lesson}.ipynb"


def feedback_html(root, student, lesson):
    return Path(root) / "feedback" / student / lesson / f"{lesson}.html"


def wrong_answers_file(root, lesson):
    return Path(root) / "source" / lesson / "wrong_answers.toml"


def select_lessons(root, wanted=None):
    known = lesson_ids(root)
    unknown = sorted(set(wanted or []) - set(known))
    if unknown:
        raise SystemExit(f"unknown lesson(s) {', '.join(unknown)}; lessons: {', '.join(known)}")
    return [lesson for lesson in known if not wanted or lesson in wanted]
