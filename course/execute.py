"""Run a notebook top to bottom with nbclient, timing it and each of its cells."""
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course.kernel_client import kernel_client_config


def _seconds(cell):
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))
            ).total_seconds()


def execute(path, timeout=120, allow_errors=False):
    """(executed notebook, wall seconds including kernel start, [(cell index, seconds)])."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}},
                            config=kernel_client_config())
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells = [(i, _seconds(cell)) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    return nb, wall, cells


def errors(nb):
    """[(cell index, 'Name: message')] of every error output in an executed notebook."""
    return [(i, f"{out.ename}: {out.evalue}") for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" for out in cell.get("outputs", [])
            if out.output_type == "error"]
