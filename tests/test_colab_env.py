"""Colab's package versions (issue 15, item 10a): every release notebook, answered with the
instructor's solutions, runs top to bottom without an error in a kernel of environments/colab.txt
(Python 3.11 here, not Colab's 3.13: see that file). .ci/run builds that environment in
.venv-colab; the fixture builds it where it is missing or stale.

The six notebooks run one after another in one kernel (TensorFlow imported once, not six times:
about 50 s of CPU), each after `%reset -f`, which empties the namespace the previous one left, so
a name a notebook uses but does not define still fails; what stays is what a kernel keeps
across notebooks anyway: the imported modules at their versions, which is what is checked here."""
import asyncio
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


@pytest.fixture(scope="module")
def colab_runs(colab_kernels, tmp_path_factory):
    """{lesson: its answered release notebook, run in the one Colab kernel, with a last cell
    that prints the versions of colab.txt's packages}."""
    folder = tmp_path_factory.mktemp("colab_run")  # where a student's copy would be
    wanted = sorted(pins(COLAB))
    notebooks = {}
    for lesson in LESSONS:
        nb = submissions.answered(REPOSITORY_ROOT, lesson)
        nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
        nb.cells.append(nbformat.v4.new_code_cell(f"NAMES = {wanted!r}\n{VERSIONS}"))
        nbformat.write(nb, folder / f"{lesson}.ipynb")
        notebooks[lesson] = nb
    manager = AsyncKernelManager(kernel_name="colab", config=kernel_client_config(),
                                 kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(colab_kernels)]))

    async def run_all():
        kernel_client = None
        try:
            for nb in notebooks.values():
                client = NotebookClient(nb, km=manager, kc=kernel_client, timeout=180, allow_errors=True,
                                        resources={"metadata": {"path": str(folder)}})
                await client.async_execute()
                kernel_client = client.kc
        finally:
            if kernel_client is not None:
                kernel_client.stop_channels()
            if manager.has_kernel:
                await manager.shutdown_kernel(now=True)

    asyncio.run(run_all())
    return notebooks


# One group of their own, not each lesson's: pytest-xdist sends the larger groups first, so these
# start after the lessons' gradings, when .ci/run's background build of .venv-colab is done, and
# no worker sits idle at the start waiting for it (both did, about 140 s).
COLAB_LESSONS = [pytest.param(lesson, marks=pytest.mark.xdist_group("colab_env"), id=lesson)
                 for lesson in LESSONS]


@pytest.mark.slow
@pytest.mark.parametrize("lesson", COLAB_LESSONS)
def test_the_answered_release_runs_on_colabs_versions(lesson, colab_runs):
    nb = colab_runs[lesson]
    assert not errors(nb), f"{lesson} on Colab's versions: {errors(nb)}"
    unrun = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.execution_count is None]
    assert not unrun, f"cells {unrun} did not run"
    shown = json.loads(nb.cells[-1].outputs[0].text)
    assert shown == pins(COLAB), "the kernel is not the Colab environment's"
