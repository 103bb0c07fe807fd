"""Code a forged score needs is flagged at intake, by reading it (no kernel); honest code never
is; a flagged submission's score is withheld until the instructor accepts or rejects it."""
import csv

import nbformat
import pytest
from conftest import LESSONS

from course import cells, gradebook, submissions
from course.cli import main
from course.demo import make_course
from course.grade import NO_SANDBOX, grade
from course.integrity import review
from course.paths import REPOSITORY_ROOT, release_notebook
from course.status import Status

LESSON = "01_parameters"

ATTACKS = {  # kind 1 of the integrity issue, in several spellings each
    "rebind a check helper": "def check_equal(*a, **k):\n    pass",
    "rebind with assignment": "check_array = lambda *a, **k: None",
    "rebind the private helper": "_fail = print",
    "rebind the exception": "class CheckFailed(Exception):\n    pass",
    "rebind numpy": "import numpy as np\nnp = type('np', (), {'allclose': staticmethod(lambda *a, **k: True)})",
    "patch numpy": "import numpy as np\nnp.allclose = lambda *a, **k: True",
    "patch numpy via alias": "import numpy\nnumpy.isclose = lambda *a, **k: True",
    "patch keras": "import keras\nkeras.layers.Layer.count_params = lambda self: 9",
    "patch by setattr": "import numpy as np\nsetattr(np, 'all', lambda *a: True)",
    "patch a model's method": "def nine():\n    return 9\nmodel.count_params = nine",
    "input transformer": "get_ipython().input_transformers_post.append(lambda lines: [])",
    "cleanup transformer": "ip = get_ipython()\nip.input_transformers_cleanup.insert(0, lambda l: [])",
    "ast transformer": "from IPython import get_ipython\nget_ipython().ast_transformers.append(object())",
    "custom exception handler": "get_ipython().set_custom_exc((Exception,), lambda *a, **k: [])",
    "post_run_cell hook": "get_ipython().events.register('post_run_cell', lambda r: None)",
    "ExecutionResult": "from IPython.core.interactiveshell import ExecutionResult\nExecutionResult.success = True",
    "frame reading __int__": "import sys\nclass Sly:\n    def __int__(self):\n        return sys._getframe(1).f_locals['expected']",
    "frame reading numpy()": "import inspect\nclass Sly:\n    def numpy(self):\n        return inspect.stack()[1].frame.f_locals['expected']",
    "comparison hook": "class Always:\n    def __eq__(self, other):\n        return True",
    "dynamic import": "frames = getattr(__import__('sy' + 's'), '_get' + 'frame')",
    "eval": "eval('get' + '_ipython()')",
    "globals": "globals()['check_equal'] = print",
    "builtins": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "sys.modules": "import sys\nsys.modules['numpy'].allclose = lambda *a, **k: True",
    "ignore SIGINT": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
    "a thread that prints later": "import threading\nthreading.Timer(5, print, ['x']).start()",
    "read the gc": "import gc\nleak = gc.get_objects()",
    "script in the feedback": "from IPython.display import Javascript, display\ndisplay(Javascript('alert(1)'))",
    "update a display": "from IPython.display import display, update_display\nupdate_display('x', display_id='d')",
    "input history": "print(In[-1])",
    "numbered input": "print(_i12)",
    "history list": "for source in _ih:\n    print(source)",
}

HONEST = {  # other ways to write a right answer: never flagged
    "loop": "def dense_params(inputs, units):\n    total = 0\n    for _ in range(units):\n        total += inputs + 1\n    return total",
    "helper function": "def _one_unit(inputs):\n    return inputs + 1\n\ndef dense_params(inputs, units):\n    return _one_unit(inputs) * units",
    "np.where and float32": "import numpy as np\nx = np.float32([1, -2])\nprint(np.where(x > 0, x, 0.0))",
    "functional API": "import keras\ninputs = keras.Input(shape=(3,))\nout = keras.layers.Dense(1)(inputs)\nmodel = keras.Model(inputs, out)\nmodel.summary()",
    "settings and prints": "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\nimport numpy as np\nnp.set_printoptions(precision=3)\nprint('hi')",
    "model attributes": "model.trainable = False\nlayer = model.layers[0]\nw, b = layer.get_weights()",
    "class with __init__": "class Net:\n    def __init__(self, units):\n        self.units = units",
    "comprehensions": "squares = {n: n * n for n in range(4)}\nvalues = [v for v in squares.values() if v]",
    "plots": "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (4, 3)\nplt.plot([1, 2])",
    "magics": "%matplotlib inline\n!pip list",
    "display a table": "from IPython.display import display, Markdown\nimport pandas as pd\n"
                       "display(Markdown('**표**'), pd.DataFrame({'a': [1, 2]}))",
}


@pytest.fixture(scope="module")
def released():
    return nbformat.read(release_notebook(REPOSITORY_ROOT, LESSON), as_version=4)


def _findings(released, code):
    return review(submissions.answered(REPOSITORY_ROOT, LESSON, {"dense_params": code}), released)


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_is_flagged_with_its_evidence(released, name):
    findings = _findings(released, ATTACKS[name])
    assert findings, name
    assert all(f.cell == "dense_params" and f.line >= 1 and f.rule for f in findings)


@pytest.mark.parametrize("name", HONEST)
def test_honest_code_is_not_flagged(released, name):
    assert _findings(released, HONEST[name]) == []


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_lesson_answer_is_flagged(lesson):
    """The instructor's solutions, every catalogued wrong answer and every alternative answer."""
    released = nbformat.read(release_notebook(REPOSITORY_ROOT, lesson), as_version=4)
    answers = [("solution", {})] + [(w.name, {w.cell: w.code})
                                    for w in submissions.wrong_answers(REPOSITORY_ROOT, lesson)]
    alternatives = getattr(submissions, "alternative_answers", None)
    if alternatives:
        answers += [(a.name, {a.cell: a.code}) for a in alternatives(REPOSITORY_ROOT, lesson)]
    flagged = {name: [str(f) for f in review(submissions.answered(REPOSITORY_ROOT, lesson, code), released)]
               for name, code in answers}
    assert {name: found for name, found in flagged.items() if found} == {}


def test_unchanged_release_cells_are_not_read(released):
    nb = submissions.answered(REPOSITORY_ROOT, LESSON)
    assert any("import os" in c.source for c in nb.cells if c.cell_type == "code")
    assert review(nb, released) == []


@pytest.mark.slow
@pytest.mark.xdist_group("names")
def test_a_flagged_score_is_withheld_until_reviewed(tmp_path, capsys):
    root = make_course(REPOSITORY_ROOT, tmp_path / "course", [LESSON])
    from course.release import release
    release(root, [LESSON], update_readme=False)
    nothing_to_run = submissions.blank(root, LESSON)  # plain Python kernels: no TensorFlow
    for cell in nothing_to_run.cells:
        if cell.cell_type == "code" and not cells.is_test(cell) and cells.grade_id(cell) != "checks":
            cell.source = "pass"
    forged = nbformat.from_dict(nothing_to_run)
    answers = submissions.solutions(root, LESSON)
    for cell in forged.cells:
        if cells.grade_id(cell) == "dense_params":
            cell.source = ATTACKS["rebind a check helper"]
        if cells.grade_id(cell) == "linear_predict":  # right, and NumPy alone: some points to withhold
            cell.source = "import keras\n\n" + answers["linear_predict"]  # the test's oracle needs it
    for student, nb in (("honest", nothing_to_run), ("forger", forged), ("forger2", forged)):
        submissions.submit(root, student, LESSON, nb)
    results = {r.student: r for r in grade(root, jobs=1, overrides=NO_SANDBOX, progress=False)}
    assert results["forger"].status is Status.FLAGGED and "check_equal" in results["forger"].reason
    assert results["honest"].status is Status.GRADED

    def exported():
        with open(root / "grades.csv", newline="") as handle:
            return {row["student_id"]: row["score"] for row in csv.DictReader(handle)}

    assert exported()["forger"] == "" and exported()["honest"] == "0.0"
    report = (root / "reports" / "report.html").read_text(encoding="utf-8")
    assert report.index("forger") < report.index("honest"), "flagged submissions are listed first"
    forged_score = gradebook.submission_score(root, LESSON, "forger")[0]
    assert forged_score > 0
    assert main(["review", "reject", LESSON, "forger", "--root", str(root)]) == 0
    assert main(["review", "accept", LESSON, "forger2", "--root", str(root)]) == 0
    assert exported()["forger"] == "0.0" and float(exported()["forger2"]) == forged_score
    assert main(["review", "accept", LESSON, "honest", "--root", str(root)]) == 2
    assert "not flagged" in capsys.readouterr().err
