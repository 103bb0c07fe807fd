"""nbgrader preprocessors that the course adds (registered in nbgrader_config.py).

- InlineChecks (generate_assignment): the source notebooks say `from course.checks import *`;
  the student version gets the module's text instead, so it runs alone in Colab.
- ColabBadge (generate_assignment): an "Open in Colab" badge under the title.
- HideHiddenTests (generate_feedback): hidden tests and the tracebacks of test cells
  stay out of the feedback students receive.
- ResilientExecute (autograde, in place of nbgrader's Execute): one cell that kills the kernel or
  floods the output does not end or sink the whole run.
"""
import copy
import re
from pathlib import Path

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from course import cells
from course.status import (
    HIDDEN_LINE_REMOVED,
    HIDDEN_TESTS_PLACEHOLDER,
    KERNEL_DIED,
    KERNEL_DIED_IN_CELL,
    KERNEL_RESTARTED,
    OUTPUT_TRUNCATED,
    SKIPPED_AFTER_DEATHS,
)

CHECKS_IMPORT = "from course.checks import *"
CHECKS_MODULE = Path(__file__).with_name("checks.py")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(repository, branch, assignment_id, notebook_id):
    return (f"https://colab.research.google.com/github/{repository}/blob/{branch}/"
            f"release/{assignment_id}/{notebook_id}.ipynb")


def colab_badge(repository, branch, assignment_id, notebook_id):
    url = colab_url(repository, branch, assignment_id, notebook_id)
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


def inline_checks_source():
    return CHECKS_MODULE.read_text(encoding="utf-8").rstrip("\n")


class InlineChecks(NbGraderPreprocessor):
    """Replace the cell that imports course.checks with the module's own code."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and CHECKS_IMPORT in cell.source.splitlines():
            cell.source = inline_checks_source()
        return cell, resources


class ColabBadge(NbGraderPreprocessor):
    """Put an "Open in Colab" badge right after the title line of the first markdown cell."""

    repository = Unicode(help="GitHub owner/name that hosts release/").tag(config=True)
    branch = Unicode("main", help="Branch of the repository the badge opens").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.repository:
            raise ValueError("c.ColabBadge.repository is not set in nbgrader_config.py")
        assignment_id = resources["nbgrader"]["assignment"]
        notebook_id = resources["nbgrader"]["notebook"]
        badge = colab_badge(self.repository, self.branch, assignment_id, notebook_id)
        first = next((cell for cell in nb.cells if cell.cell_type == "markdown"), None)
        if first is None:
            raise ValueError(f"{notebook_id}: a lesson starts with a markdown title cell")
        lines = [line for line in first.source.splitlines() if BADGE_IMAGE not in line]
        body = lines[1:]
        while body and not body[0].strip():  # the blank lines after the title (and an old badge)
            body.pop(0)
        first.source = "\n".join(lines[:1] + ["", badge] + ([""] + body if body else []))
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback shows each test cell's visible part and its error message ("Name: message"),
    nothing else of it; and no line of a hidden test anywhere, whatever a cell printed."""

    begin_test_delimeter = ClearHiddenTests.begin_test_delimeter
    end_test_delimeter = ClearHiddenTests.end_test_delimeter
    min_line_length = Integer(8, help="hidden-test lines shorter than this (such as `)` or `else:`) "
                                      "are not looked for in outputs").tag(config=True)

    def preprocess(self, nb, resources):
        hidden = re.compile(
            rf"^[^\n]*{re.escape(self.begin_test_delimeter)}.*?{re.escape(self.end_test_delimeter)}[^\n]*$",
            re.S | re.M,
        )
        self._hidden_lines = {line.strip() for cell in nb.cells if cell.cell_type == "code"
                              and cells.is_test(cell) for region in hidden.findall(cell.source)
                              for line in region.splitlines() if len(line.strip()) >= self.min_line_length}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if cells.is_test(cell):
                cell.source = hidden.sub(HIDDEN_TESTS_PLACEHOLDER, cell.source)
                cell.outputs = [output for output in cell.get("outputs", []) if output.output_type == "error"]
                for output in cell.outputs:
                    output.traceback = [f"{output.ename}: {output.evalue}"]
            for output in cell.get("outputs", []):
                self._scrub(output)
        return nb, resources

    def _clean(self, text):
        lines = text.splitlines(keepends=True)
        return "".join(HIDDEN_LINE_REMOVED + "\n" if any(h in line for h in self._hidden_lines) else line
                       for line in lines)

    def _scrub(self, output):
        if "text" in output:
            output.text = self._clean(output.text)
        if "evalue" in output:
            output.evalue = self._clean(str(output.evalue))
            output.traceback = [self._clean(line) for line in output.get("traceback", [])]
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str):
                output.data[mime] = self._clean(value)


class ResilientExecute(Execute):
    """nbgrader's Execute, made robust against one bad cell:

    - when the kernel dies in a cell (os._exit, a segfault, the memory or process limit), it is
      restarted, the cells that ran cleanly before are run again to rebuild the state (their
      first outputs are kept), and the cell is tried once more: a cell that died of an earlier
      cell's damage then succeeds; one that kills the kernel itself gets a KernelDied error;
      the rest of the notebook runs as usual;
    - output beyond `max_output_chars` per cell is dropped while it arrives, so a flood cannot
      exhaust the grader's memory.
    """

    max_output_chars = Integer(200_000, help="output kept per cell").tag(config=True)
    max_kernel_deaths = Integer(4, help="kernel deaths before the rest is skipped").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._clean, self._deaths, self._output_chars = [], 0, {}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for attempt in range(2):
            if self._deaths >= self.max_kernel_deaths:
                cell.outputs = [self._error(SKIPPED_AFTER_DEATHS.format(deaths=self._deaths))]
                return cell, resources
            self._output_chars.pop(index, None)  # a rerun's outputs replace the dead run's
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._deaths += 1
                run_sync(self._restart_and_replay)()
                continue
            if attempt:
                cell.outputs.insert(0, NotebookNode(output_type="stream", name="stderr",
                                                    text=KERNEL_RESTARTED + "\n"))
            if not any(output.output_type == "error" for output in cell.outputs):
                self._clean.append(index)
            return cell, resources
        cell.outputs.append(self._error(KERNEL_DIED_IN_CELL))
        return cell, resources

    @staticmethod
    def _error(message):
        return NotebookNode(output_type="error", ename=KERNEL_DIED, evalue=message,
                            traceback=[f"{KERNEL_DIED}: {message}"])

    async def _restart_and_replay(self):
        await ensure_async(self.km.restart_kernel(now=True))
        await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))
        for index in self._clean:
            await self.async_execute_cell(copy.deepcopy(self.nb.cells[index]), index,
                                          store_history=False)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content.get("text", ""))) + len(str(content.get("data", "")))
        used = self._output_chars.get(cell_index, 0)
        self._output_chars[cell_index] = used + size
        if used + size <= self.max_output_chars:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_chars:
            outs.append(NotebookNode(output_type="stream", name="stderr", text=OUTPUT_TRUNCATED))
        return None
