"""The environments the lessons are meant to run in, as pinned in environments/*.txt: reading
those files, the packages the release notebooks import, and a kernel in another environment."""
import ast
import fcntl
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course.paths import REPOSITORY_ROOT, lesson_ids, release_notebook

ENVIRONMENTS = REPOSITORY_ROOT / "environments"


def requirements(path):
    """[packaging Requirement] of a requirements file: one per line, `#` lines and blanks skipped
    (the subset that setuptools' `file =` directive and pip both read)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def pins(path):
    """{canonical name: version} of a requirements file; ValueError for a line that is not `==`."""
    result = {}
    for requirement in requirements(path):
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"{path}: {requirement} is not pinned with ==")
        result[canonicalize_name(requirement.name)] = specifiers[0].version
    return result


def installed_closure(names):
    """The canonical names of the distributions `names` need, themselves included, as installed
    here (their own requirements, markers evaluated, no extras), recursively."""
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def imported_modules(nb):
    """Top-level names of the modules a notebook's code cells import, the standard library's left
    out."""
    modules = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def lesson_distributions():
    """{module: canonical distribution name} for every non-standard module a release notebook
    imports, looked up in this environment."""
    owners = importlib.metadata.packages_distributions()
    modules = set().union(*(imported_modules(nbformat.read(release_notebook(REPOSITORY_ROOT, lesson),
                                                           as_version=4))
                            for lesson in lesson_ids(REPOSITORY_ROOT)))
    return {module: canonicalize_name(owners[module][0]) for module in sorted(modules)}


def write_kernelspec(directory, name, python):
    """A kernelspec `name` at directory/name/kernel.json that starts ipykernel with `python`;
    returns `directory` (give it to jupyter_client's KernelSpecManager(kernel_dirs=[...]))."""
    spec = Path(directory) / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python",
        # build_venv compiles no bytecode: the first kernel writes it for the modules it imports
        # (about 16 s of CPU), where compiling all of site-packages took about 55 s
        "env": {"PYTHONDONTWRITEBYTECODE": ""}}))
    return Path(directory)


def build_venv(target, requirements_file):
    """A virtual environment at `target` with exactly `requirements_file` installed (uv when it
    sits beside this Python as CI installs it, else venv and pip; no bytecode compiled: the
    kernels of write_kernelspec write it for what they import).
    Kept while `target`/requirements.txt equals the file; rebuilt when it changed. Several
    processes (pytest-xdist workers) may ask at once: one builds, the others wait (a file lock).
    Returns the environment's python. Raises subprocess.CalledProcessError when an install fails."""
    target, wanted = Path(target), Path(requirements_file).read_text(encoding="utf-8")
    python, stamp = target / "bin" / "python", target / "requirements.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted and python.exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        uv = Path(sys.executable).parent / "uv"
        if uv.exists():
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, target], check=True)
            subprocess.run([uv, "pip", "install", "-q", "--python", python,
                            "-r", requirements_file], check=True)
        else:
            subprocess.run([sys.executable, "-m", "venv", target], check=True)
            subprocess.run([python, "-m", "pip", "install", "-q", "--no-compile", "-r", requirements_file],
                           check=True)
        stamp.write_text(wanted, encoding="utf-8")
        return python


if __name__ == "__main__":
    # .ci/run: python tests/pinned_envs.py TARGET REQUIREMENTS_FILE
    print(build_venv(sys.argv[1], sys.argv[2]))
