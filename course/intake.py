"""Taking in one submission before nbgrader sees it: find the notebook, read it, and note
what the student did to the graded cells. submitted/ is only read, never changed."""
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.paths import release_notebook

IGNORED_FILES = {"timestamp.txt", ".ipynb_checkpoints"}


@dataclass
class Intake:
    status: str                      # "ok", "missing", "empty" or "corrupt"
    notes: list = field(default_factory=list)
    notebook: object = None          # the notebook to grade (a cleaned copy), if any


def _nbgrader_id(cell):
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") or meta.get("solution") or meta.get("locked"):
        return meta.get("grade_id")
    return None


def _find_notebook(folder, lesson, notes):
    expected = folder / f"{lesson}.ipynb"
    if expected.is_file():
        return expected
    others = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if len(others) == 1:
        notes.append(f"이름이 다른 노트북을 채점함 (renamed notebook graded): {others[0].name}")
        return others[0]
    if others:
        notes.append(f"{lesson}.ipynb가 없고 노트북이 여러 개입니다 (several notebooks, none named "
                     f"{lesson}.ipynb): {', '.join(p.name for p in others)}")
    return None


def _read(path, intake):
    raw = path.read_bytes()
    if not raw.strip():
        intake.status = "empty"
        intake.notes.append("빈 파일입니다 (empty notebook file)")
        return None
    try:
        return nbformat.reads(raw.decode("utf-8"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        problem = f"JSON이 아닙니다 (not JSON: {str(error)[:80]})"
    except Exception as error:  # noqa: BLE001 (nbformat raises many kinds for a broken notebook)
        problem = f"노트북 형식이 아닙니다 (not a notebook: {type(error).__name__})"
    intake.status = "corrupt"
    intake.notes.append(problem)
    return None


def _check_graded_cells(nb, released, notes):
    """Strip nbgrader metadata nbgrader would trip over, and say what was changed."""
    known = {_nbgrader_id(c): c for c in released.cells if _nbgrader_id(c)}
    seen = Counter()
    for cell in nb.cells:
        grade_id = _nbgrader_id(cell)
        if grade_id is None:
            continue
        if grade_id not in known:
            cell.metadata.pop("nbgrader")
            notes.append(f"바뀐 grade_id '{grade_id}'는 일반 셀로 실행함 (unknown grade_id)")
            continue
        seen[grade_id] += 1
        if seen[grade_id] > 1:
            cell.metadata.pop("nbgrader")
            notes.append(f"복제된 셀 '{grade_id}'는 일반 셀로 실행함 (duplicated graded cell)")
            continue
        original = known[grade_id]
        if original.metadata["nbgrader"].get("locked") and cell.source != original.source:
            notes.append(f"수정된 잠긴 셀 '{grade_id}'를 원래대로 되돌림 (edited locked cell restored)")
    for grade_id, original in known.items():
        if not seen[grade_id]:
            if original.metadata["nbgrader"].get("grade") and original.metadata["nbgrader"].get("locked"):
                notes.append(f"지워진 채점 셀 '{grade_id}'를 되살려 채점함 (deleted test cell restored)")
            else:
                notes.append(f"지워진 셀 '{grade_id}' (deleted cell)")


def take_in(root, student, lesson):
    folder = Path(root) / "submitted" / student / lesson
    intake = Intake(status="ok")
    path = _find_notebook(folder, lesson, intake.notes) if folder.is_dir() else None
    if path is None:
        intake.status = "missing"
        intake.notes.insert(0, f"제출된 노트북이 없습니다 (no {lesson}.ipynb submitted)")
        return intake
    extra = sorted(p.name for p in folder.iterdir() if p != path and p.name not in IGNORED_FILES)
    if extra:
        intake.notes.append(f"다른 파일은 무시함 (extra files ignored): {', '.join(extra[:5])}"
                            + (" ..." if len(extra) > 5 else ""))
    nb = _read(path, intake)
    if nb is None:
        return intake
    _check_graded_cells(nb, nbformat.read(release_notebook(root, lesson), as_version=4),
                        intake.notes)
    intake.notebook = nb
    return intake
