"""Colab's package versions (issue 15, item 10a): every release notebook, answered with the
instructor's solutions, runs top to bottom without an error in a kernel of environments/colab.txt
(Python 3.11 here, not Colab's 3.13: see that file). .ci/run builds that environment in
.venv-colab; the fixture builds it where it is missing or stale."""
import json

import nbformat
import pytest
from conftest import LESSONS
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from pinned_envs import ENVIRONMENTS, build_venv, pins, write_kernelspec

from course import submissions
from course.execute import errors
from course.kernel_client import kernel_client_config
from course.paths import REPOSITORY_ROOT

COLAB = ENVIRONMENTS / "colab.txt"
VERSIONS = """\
import importlib.metadata, json
print(json.dumps({name: importlib.metadata.version(name) for name in NAMES}))"""


@pytest.fixture(scope="session")
def colab_kernels(tmp_path_factory):
    """A kernelspec directory whose kernel "colab" runs the Colab environment's Python."""
    python = build_venv(REPOSITORY_ROOT / ".venv-colab", COLAB)
    return write_kernelspec(tmp_path_factory.mktemp("kernels"), "colab", python)


# One group of their own, not each lesson's: pytest-xdist sends the larger groups first, so these
# start after the lessons' gradings, when .ci/run's background build of .venv-colab is done, and
# no worker sits idle at the start waiting for it (both did, about 140 s).
COLAB_LESSONS = [pytest.param(lesson, marks=pytest.mark.xdist_group("colab_env"), id=lesson)
                 for lesson in LESSONS]


@pytest.mark.slow
@pytest.mark.parametrize("lesson", COLAB_LESSONS)
def test_the_answered_release_runs_on_colabs_versions(lesson, colab_kernels, tmp_path):
    nb = submissions.answered(REPOSITORY_ROOT, lesson)
    wanted = pins(COLAB)
    nb.cells.append(nbformat.v4.new_code_cell(f"NAMES = {sorted(wanted)!r}\n{VERSIONS}"))
    nbformat.write(nb, tmp_path / f"{lesson}.ipynb")  # where a student's copy would be
    manager = AsyncKernelManager(kernel_name="colab", config=kernel_client_config(),
                                 kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(colab_kernels)]))
    NotebookClient(nb, km=manager, timeout=180, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not errors(nb), f"{lesson} on Colab's versions: {errors(nb)}"
    unrun = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.execution_count is None]
    assert not unrun, f"cells {unrun} did not run"
    shown = json.loads(nb.cells[-1].outputs[0].text)
    assert shown == wanted, "the kernel is not the Colab environment's"
