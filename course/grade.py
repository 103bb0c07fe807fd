"""`course grade`: autograde submitted/, write feedback and the grades CSV, show the scores."""
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from nbgrader.plugins.export import CsvExportPlugin
from tqdm import tqdm

from course.nbgrader_api import gradebook, make_api, submission_score
from course.paths import lesson_ids

GRADES_CSV = "grades.csv"


@dataclass
class Result:
    student: str
    lesson: str
    status: str  # "graded" or "failed"
    reason: str = ""


def find_submissions(root, students=None, lessons=None):
    """(student, lesson) pairs present in submitted/, filtered by the names given."""
    known = set(lesson_ids(root))
    pairs = []
    for folder in sorted((Path(root) / "submitted").glob("*/*")):
        student, lesson = folder.parent.name, folder.name
        if folder.is_dir() and lesson in known:
            if (not students or student in students) and (not lessons or lesson in lessons):
                pairs.append((student, lesson))
    return pairs


def _reason(result):
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["unknown error"])[-1][:300]


def grade(root, students=None, lessons=None, progress=True):
    """Autograde and write feedback for each submission; export grades.csv. Returns results."""
    root = Path(root)
    pairs = find_submissions(root, students, lessons)
    if not pairs:
        raise SystemExit(f"nothing to grade in {root / 'submitted'} "
                         "(expected submitted/<student>/<lesson>/<lesson>.ipynb)")
    api = make_api(root)
    results = []
    for student, lesson in tqdm(pairs, desc="autograde", unit="submission", disable=not progress):
        outcome = api.autograde(lesson, student, force=True, create=True)
        if outcome["success"]:
            feedback = api.generate_feedback(lesson, student, force=True)
            if not feedback["success"]:
                outcome = feedback
        results.append(Result(student, lesson, "graded" if outcome["success"] else "failed",
                              "" if outcome["success"] else _reason(outcome)))
    export_csv(root)
    return results


def export_csv(root):
    path = Path(root) / GRADES_CSV
    with gradebook(root) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def score_table(root, results):
    """Students as rows, lessons as columns, "score / max" in each cell, and a total."""
    rows = {}
    for r in results:
        score = submission_score(root, r.lesson, r.student)
        rows.setdefault(r.student, {})[r.lesson] = (
            f"{score[0]:g} / {score[1]:g}" if r.status == "graded" and score else "실패 (failed)"
        )
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    table.index.name = "student"
    return table.fillna("-")
