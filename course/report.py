"""The grade report after `course grade`, in reports/: status.csv, exercises.csv, scores.png
and report.html (a Jinja2 template, every value escaped); and the score table it prints."""
import base64
from pathlib import Path

import jinja2
import markupsafe

from course.gradebook import cell_scores
from course.nbgrader_api import course_directory
from course.paths import feedback_page
from course.spreadsheet import safe_frame
from course.status import Status

REPORTS = "reports"
SCORED = (Status.GRADED, Status.MANUAL)  # statuses whose score comes from autograde
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("course", "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined,
    # values shown as text (not markup the templates made) with control characters escaped
    finalize=lambda value: value if isinstance(value, markupsafe.Markup) or not isinstance(value, str)
    else printable(value))


def status_table(results):
    """One row per submission: student, lesson, status, score, max_score, details, seconds."""
    import pandas as pd  # in each table's function: it takes a second to load, and `course grade`
    # needs this module's status_line long before any table
    return pd.DataFrame([{"student": r.student, "lesson": r.lesson, "status": str(r.status),
                          "score": r.score, "max_score": r.max_score, "details": r.reason,
                          "seconds": round(r.seconds, 1)} for r in results],
                        columns=["student", "lesson", "status", "score", "max_score", "details",
                                 "seconds"])


def exercise_table(root, results):
    """Per lesson and graded cell: its points and the share of students with full points."""
    import pandas as pd

    rows = {}
    for r in results:
        for cell, (score, maximum) in cell_scores(root, r.lesson, r.student).items():
            row = rows.setdefault((r.lesson, cell), {"points": maximum, "graded": 0, "full": 0})
            row["graded"] += 1
            row["full"] += score >= maximum
    return pd.DataFrame([{"lesson": lesson, "exercise": cell, "points": row["points"],
                          "students": row["graded"],
                          "passing (%)": round(100 * row["full"] / row["graded"], 1)}
                         for (lesson, cell), row in sorted(rows.items())],
                        columns=["lesson", "exercise", "points", "students", "passing (%)"])


def score_table(results):
    """Students as rows, lessons as columns, "score / max" (or "0 (status)") in each cell."""
    import pandas as pd

    rows = {}
    for r in results:
        score = f"{r.score:g} / {r.max_score:g}"
        rows.setdefault(r.student, {})[r.lesson] = (
            score if r.status in SCORED else f"{score} (flagged)" if r.status is Status.FLAGGED
            else f"0 ({r.status})")
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    table.index = table.index.map(printable)
    table.index.name = "student"
    return table.fillna("-")


def printable(text):
    """Text for a terminal: control characters (a folder name may hold escape sequences) shown
    as Python escapes."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def status_line(result):
    """The line `course grade` prints when a submission is done."""
    score = f"{result.score:g}/{result.max_score:g}"
    line = f"{printable(result.student):20s} {result.lesson:18s} {score:>9s}  {result.status}"
    return line + (f": {printable(result.reason)}" if result.notes else "")


def score_histogram(results, path):
    """One histogram panel of scores per lesson, as a PNG at `path`."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure list

    lessons = sorted({r.lesson for r in results})
    figure = Figure(figsize=(3.2 * len(lessons), 2.8))
    axes = figure.subplots(1, len(lessons), squeeze=False)
    for axis, lesson in zip(axes[0], lessons):
        scores = [r.score for r in results if r.lesson == lesson]
        maximum = max([r.max_score for r in results if r.lesson == lesson] + [1])
        axis.hist(scores, bins=min(20, int(maximum) + 1), range=(0, maximum), color="tab:blue")
        axis.set_title(lesson, fontsize=9)
        axis.set_xlabel(f"score (of {maximum:g})")
    axes[0][0].set_ylabel("students")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def write_report(root, results):
    """reports/status.csv, exercises.csv, scores.png and report.html; returns the HTML path."""
    out = Path(root) / REPORTS
    out.mkdir(exist_ok=True)
    flagged_first = sorted(results, key=lambda r: r.status is not Status.FLAGGED)
    statuses = status_table(flagged_first)
    safe_frame(statuses).to_csv(out / "status.csv", index=False)
    exercises = exercise_table(root, results)
    safe_frame(exercises).to_csv(out / "exercises.csv", index=False)
    picture = score_histogram(results, out / "scores.png")

    scores = statuses.pivot_table(index="student", columns="lesson", values="score",
                                  aggfunc="first").fillna(0).reset_index()
    counts = statuses["status"].value_counts().rename_axis("status").reset_index(name="submissions")
    counts["meaning"] = counts["status"].map({str(status): status.text for status in Status})
    coursedir = course_directory(root)
    links = []
    for student, lesson in zip(statuses.student, statuses.lesson):
        page = feedback_page(coursedir, student, lesson)
        links.append(page.relative_to(root).as_posix() if page.is_file() else None)
    page = TEMPLATES.get_template("report.html.j2").render(
        submissions=len(results), students=statuses.student.nunique(),
        lessons=sorted(statuses.lesson.unique()), counts=counts, scores=scores,
        exercises=exercises, statuses=statuses,
        rows=zip(statuses.itertuples(index=False), links),
        histogram=base64.b64encode(picture.read_bytes()).decode("ascii"))
    (out / "report.html").write_text(page, encoding="utf-8")
    return out / "report.html"
