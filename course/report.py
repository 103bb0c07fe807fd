"""The grade report after `course grade`: tables, a score histogram and one HTML page, in reports/."""
import base64
import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from course.nbgrader_api import cell_scores  # noqa: E402
from course.paths import feedback_html  # noqa: E402

REPORTS = "reports"


def status_table(results):
    return pd.DataFrame([{"student": r.student, "lesson": r.lesson, "status": r.status,
                          "score": r.score, "max_score": r.max_score, "details": r.reason,
                          "seconds": round(r.seconds, 1)} for r in results])


def exercise_table(root, results):
    """Per lesson and graded cell: its points and the share of students with full points."""
    rows = {}
    for r in results:
        for cell, (score, maximum) in cell_scores(root, r.lesson, r.student).items():
            row = rows.setdefault((r.lesson, cell), {"points": maximum, "graded": 0, "full": 0})
            row["graded"] += 1
            row["full"] += score >= maximum
    table = pd.DataFrame([{"lesson": lesson, "exercise": cell, "points": row["points"],
                           "students": row["graded"],
                           "passing (%)": round(100 * row["full"] / row["graded"], 1)}
                          for (lesson, cell), row in sorted(rows.items())])
    return table


def score_histogram(results, path):
    lessons = sorted({r.lesson for r in results})
    figure, axes = plt.subplots(1, len(lessons), figsize=(3.2 * len(lessons), 2.8), squeeze=False)
    for axis, lesson in zip(axes[0], lessons):
        scores = [r.score for r in results if r.lesson == lesson]
        maximum = max([r.max_score for r in results if r.lesson == lesson] + [1])
        axis.hist(scores, bins=min(20, int(maximum) + 1), range=(0, maximum), color="tab:blue")
        axis.set_title(lesson, fontsize=9)
        axis.set_xlabel(f"score (of {maximum:g})")
    axes[0][0].set_ylabel("students")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _table_html(frame):
    return frame.to_html(index=False, border=0, classes="table", escape=True, na_rep="")


def write_report(root, results):
    """reports/status.csv, exercises.csv, scores.png and report.html; returns the HTML path."""
    out = Path(root) / REPORTS
    out.mkdir(exist_ok=True)
    statuses = status_table(results)
    statuses.to_csv(out / "status.csv", index=False)
    exercises = exercise_table(root, results)
    exercises.to_csv(out / "exercises.csv", index=False)
    picture = score_histogram(results, out / "scores.png")
    image = base64.b64encode(picture.read_bytes()).decode("ascii")

    scores = statuses.pivot_table(index="student", columns="lesson", values="score",
                                  aggfunc="first").fillna(0)
    counts = statuses["status"].value_counts().rename_axis("status").reset_index(name="submissions")
    links = statuses.assign(feedback=[
        f'<a href="{html.escape(str(feedback_html(root, s, l).relative_to(root)))}">feedback</a>'
        if feedback_html(root, s, l).is_file() else ""
        for s, l in zip(statuses.student, statuses.lesson)])
    page = f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>채점 보고서 (grade report)</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} .table {{ border-collapse: collapse; }}
.table td, .table th {{ border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }}
</style></head><body>
<h1>채점 보고서 (grade report)</h1>
<p>{len(results)} submissions, {statuses.student.nunique()} students, lessons:
{", ".join(sorted(statuses.lesson.unique()))}. Grades CSV: <code>grades.csv</code>.</p>
<h2>상태 (status)</h2>{_table_html(counts)}
<h2>점수 (scores)</h2>{scores.to_html(border=0, classes="table")}
<h2>점수 분포 (score histogram)</h2><img alt="score histogram" src="data:image/png;base64,{image}">
<h2>문제별 (per exercise)</h2>{_table_html(exercises)}
<h2>제출별 상태 (per submission)</h2>
{links.to_html(index=False, border=0, classes="table", escape=False, na_rep="",
               formatters={"details": html.escape})}
</body></html>"""
    (out / "report.html").write_text(page, encoding="utf-8")
    return out / "report.html"
