"""nbgrader preprocessors that the course adds (registered in nbgrader_config.py).

- InlineChecks (generate_assignment): the source notebooks say `from course.checks import *`;
  the student version gets the module's text instead, so it runs alone in Colab.
- ColabBadge (generate_assignment): an "Open in Colab" badge under the title.
- HideHiddenTests (generate_feedback): hidden tests and the tracebacks of test cells
  stay out of the feedback students receive.
"""
import re
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Unicode

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
        first.source = "\n".join(lines[:1] + ["", badge] + lines[1:])
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback keeps each test cell's visible part and its error message, nothing else."""

    begin_test_delimeter = ClearHiddenTests.begin_test_delimeter
    end_test_delimeter = ClearHiddenTests.end_test_delimeter

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        hidden = re.compile(
            rf"^[^\n]*{re.escape(self.begin_test_delimeter)}.*?{re.escape(self.end_test_delimeter)}[^\n]*$",
            re.S | re.M,
        )
        cell.source = hidden.sub("# (숨겨진 테스트 / hidden tests)", cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
