"""Reproduce the widget stall of issue 14: run the lessons' `interact` cells headless with
nbclient many times and count runs in which a cell took far longer than it should.

Each run starts a fresh kernel on a small notebook built from one lesson: its setup cell, the
earlier cells the widget cells need (found from the names they use), then `--repeat` times every
widget cell of the lesson, each followed by the lesson's next code cell. Every cell has the short
`--timeout` (the setup cell gets `--startup-timeout`, for TensorFlow's import). A cell whose
client-side wall time exceeds `--threshold` is a stall.

Runs use the course's kernel client (course/kernel_client.py, the fix); `--stock-client` uses
jupyter_client's own AsyncKernelClient, as before the fix.

    python benchmarks/widget_stall.py                       # every lesson, 2 parallel runs
    python benchmarks/widget_stall.py --runs 60 --repeat 4 --load 2 02_activations
    python benchmarks/widget_stall.py --log-dir /tmp/stall  # nbclient + kernel debug logs
    python benchmarks/widget_stall.py --stock-client        # without the fix

Prints one line per stall and at the end: runs, widget-cell executions, stalls (runs with a
cell over the threshold), how many stalled cells show the issue's signature (they lasted the
whole timeout and still ended without a timeout error), and the max cell times. Exit status 1
if any run stalled.
"""
import argparse
import ast
import builtins
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course.kernel_client import kernel_client_config
from course.paths import REPOSITORY_ROOT, select_lessons, source_notebook

BUILTINS = set(dir(builtins))


def _names(source):
    """(names a cell binds at module level, names it reads anywhere), from its syntax tree.
    Reads inside functions are counted too (a superset: a local may pull in an extra cell)."""
    tree = ast.parse(source)
    defined, used = set(), set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            defined.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in statement.names)
        else:
            defined.update(node.id for node in ast.walk(statement)
                           if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            used.add(node.id)
    return defined, used - BUILTINS


def is_widget_cell(source):
    """True for a code cell that shows an ipywidgets control (interact, interactive, ...)."""
    return "interact" in source and "widgets" in source


def widget_notebook(path, repeat=1):
    """A small notebook: setup cell, the cells the widget cells need, then `repeat` times each
    widget cell followed by the lesson's next code cell. Returns (notebook, labels) with one
    label per code cell: "setup", "dependency", "widget <i>" or "after <i>" (i: cell index in
    the lesson)."""
    nb = nbformat.read(path, as_version=4)
    code = [(i, c.source) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip()]
    setup = next(i for i, s in code if "import ipywidgets" in s)
    widgets = [i for i, s in code if i != setup and is_widget_cell(s)]
    following = {w: next((i for i, s in code if i > w and not is_widget_cell(s)), None)
                 for w in widgets}
    names = {i: _names(s) for i, s in code}
    wanted, needed = set(), set()
    for w in widgets + [f for f in following.values() if f is not None]:
        needed |= names[w][1] - names[w][0]
        for i, _ in reversed(code):  # walk back from the cell, taking the latest definition
            if i >= w or i == setup:
                continue
            defined, used = names[i]
            if defined & needed:
                wanted.add(i)
                needed |= used - defined
    cells, labels = [nb.cells[setup]], ["setup"]
    for i in sorted(wanted - set(widgets)):
        cells.append(nb.cells[i])
        labels.append("dependency")
    for _ in range(repeat):
        for w in widgets:
            cells.append(nb.cells[w])
            labels.append(f"widget {w}")
            if following[w] is not None:
                cells.append(nb.cells[following[w]])
                labels.append(f"after {following[w]}")
    small = nbformat.v4.new_notebook(metadata=nb.metadata)
    small.cells = [nbformat.v4.new_code_cell(c.source) for c in cells]
    return small, labels


def run_once(task):
    """Run one small notebook in a fresh kernel; [(label, seconds, error)] per code cell."""
    lesson, repeat, timeout, startup_timeout, log_dir, stock_client, number = task
    path = source_notebook(REPOSITORY_ROOT, lesson)
    nb, labels = widget_notebook(path, repeat)
    log = logging.getLogger(f"widget_stall.{number}")
    kernel_stderr = None
    extra = []
    if log_dir:
        log.setLevel(logging.DEBUG)
        handler = logging.FileHandler(Path(log_dir) / f"run{number:04d}-client.log")
        handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(message)s",
                                               "%H:%M:%S"))
        log.addHandler(handler)
        kernel_stderr = open(Path(log_dir) / f"run{number:04d}-kernel.log", "w")
        extra = ["--debug"]
    setup_cell = nb.cells[0]
    client = NotebookClient(nb, timeout=timeout, startup_timeout=startup_timeout,
                            allow_errors=True, log=log, extra_arguments=extra,
                            timeout_func=lambda c: startup_timeout if c is setup_cell else timeout,
                            resources={"metadata": {"path": str(path.parent)}},
                            config=None if stock_client else kernel_client_config())
    results = []

    async def run():
        kwargs = {"stderr": kernel_stderr} if kernel_stderr else {}
        async with client.async_setup_kernel(**kwargs):
            for index, (cell, label) in enumerate(zip(nb.cells, labels)):
                start = time.perf_counter()
                error = ""
                try:
                    await client.async_execute_cell(cell, index)
                except Exception as e:  # noqa: BLE001 (a timeout is a result here)
                    error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                errors = [o.ename for o in cell.outputs if o.output_type == "error"]
                results.append((label, time.perf_counter() - start, error or ",".join(errors)))
                log.debug("cell %d (%s) took %.2f s %s", index, label, results[-1][1], error)
    run_sync(run)()
    if kernel_stderr:
        kernel_stderr.close()
    return lesson, number, results


def busy(stop):
    """Keep one core busy until `stop` is set (the load of a second grading job)."""
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*")
    parser.add_argument("--runs", type=int, default=12, help="kernels started (default 12)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="times each widget cell runs in one kernel (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the runs")
    parser.add_argument("--timeout", type=int, default=15, help="seconds per cell (default 15)")
    parser.add_argument("--startup-timeout", type=int, default=180)
    parser.add_argument("--threshold", type=float, default=None,
                        help="a cell slower than this is a stall (default: 0.8 x timeout)")
    parser.add_argument("--log-dir", help="write nbclient DEBUG and kernel --debug logs here")
    parser.add_argument("--stock-client", action="store_true",
                        help="jupyter_client's AsyncKernelClient instead of the course's (no fix)")
    args = parser.parse_args(argv)
    threshold = args.threshold or 0.8 * args.timeout
    lessons = select_lessons(REPOSITORY_ROOT, args.lessons)
    lessons = [lesson for lesson in lessons if any(label.startswith("widget") for label in
                                        widget_notebook(source_notebook(REPOSITORY_ROOT, lesson))[1])]
    if args.log_dir:
        Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    tasks = [(lessons[n % len(lessons)], args.repeat, args.timeout, args.startup_timeout,
              args.log_dir, args.stock_client, n) for n in range(args.runs)]
    stop = multiprocessing.Event()
    load = [multiprocessing.Process(target=busy, args=(stop,), daemon=True)
            for _ in range(args.load)]
    for p in load:
        p.start()
    runs = stalls = widget_runs = lost_replies = 0
    slowest = (0.0, "")
    slowest_widget = 0.0
    start = time.perf_counter()
    try:
        with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
            for lesson, number, results in pool.imap_unordered(run_once, tasks):
                runs += 1
                stalled = False
                for index, (label, seconds, error) in enumerate(results):
                    widget_runs += label.startswith("widget")
                    if label == "setup":
                        continue
                    if label.startswith("widget"):
                        slowest_widget = max(slowest_widget, seconds)
                    if seconds > slowest[0]:
                        slowest = (seconds, f"{lesson} run {number} cell {index} ({label})")
                    if seconds > threshold or "Timeout" in error:
                        stalled = True
                        # The signature of issue 14: the whole timeout passed, yet no timeout
                        # error, because the reply had arrived and only the poll's timer saw it.
                        lost = seconds >= args.timeout and "Timeout" not in error
                        lost_replies += lost
                        print(f"STALL {lesson} run {number}: cell {index} ({label}) "
                              f"{seconds:.2f} s {error or 'no error'}"
                              f"{' (reply found at the timeout)' if lost else ''}", flush=True)
                stalls += stalled
                if runs % 10 == 0:
                    print(f"... {runs} runs, {stalls} stalls, {time.perf_counter() - start:.0f} s",
                          flush=True)
    finally:
        stop.set()
    client = "stock AsyncKernelClient" if args.stock_client else "CourseKernelClient"
    print(f"{client}, lessons {' '.join(lessons)}, repeat {args.repeat}, timeout {args.timeout} s, "
          f"threshold {threshold:g} s, {args.jobs} jobs, {args.load} busy processes, "
          f"{time.perf_counter() - start:.0f} s")
    print(f"runs: {runs}  widget-cell executions: {widget_runs}  stalls: {stalls} "
          f"(cells ended by the timer with the reply waiting: {lost_replies})  "
          f"max widget-cell time: {slowest_widget:.2f} s  "
          f"max cell time (setup excluded): {slowest[0]:.2f} s ({slowest[1]})")
    return 1 if stalls else 0


if __name__ == "__main__":
    sys.exit(main())
