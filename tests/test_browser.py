"""The browser (issue 15, item 10b): a release notebook with sliders, answered with the solutions,
opened in JupyterLab in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright), run
with Run > Run All Cells as a student would: the slider is a rendered widget, not the text
"interactive(...)", and no cell shows an error. A screenshot is kept in artifacts/browser/."""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from course import submissions
from course.paths import REPOSITORY_ROOT

LESSON = "01_parameters"  # section 1's slider: widgets.interact(draw_line, w=..., b=...)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPOSITORY_ROOT / "artifacts" / "browser"
SETTINGS = {
    # every cell in the page, so that waiting for the last prompt sees every cell
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no "receive Jupyter news?" toast over the screenshot
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
# This environment has nbgrader (the instructor's); a student's (environments/student.txt) has not:
# its server and JupyterLab extensions are turned off, so the page is what a student sees.
CONFIG = {
    "jupyter_server_config.json": {"ServerApp": {"jpserver_extensions": {
        f"nbgrader.server_extensions.{name}": False
        for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")}}},
    "labconfig/page_config.json": {"disabledExtensions": {"@jupyter/nbgrader": True}},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url, server, log, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer {url} within {seconds} s")


@pytest.fixture
def jupyterlab(tmp_path):
    """(base URL, token, notebook folder): JupyterLab serving a scratch folder on a free port,
    with its own settings, runtime and config folders; stopped afterwards."""
    notebooks, home = tmp_path / "notebooks", tmp_path / "jupyter"
    notebooks.mkdir()
    for folder, files in (("settings", SETTINGS), ("config", CONFIG)):
        for name, values in files.items():
            (home / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (home / folder / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the kernel starts as a student's does
    with open(tmp_path / "jupyterlab.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
             "--allow-root"],  # CI runs as root
            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", server, tmp_path / "jupyterlab.log")
        yield base, token, notebooks
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.slow
def test_the_slider_renders_as_a_widget_in_jupyterlab(jupyterlab):
    base, token, notebooks = jupyterlab
    nbformat.write(submissions.answered(REPOSITORY_ROOT, LESSON), notebooks / f"{LESSON}.ipynb")
    # a folded cell (the check helpers: jupyter.source_hidden) shows a placeholder, not its prompt
    shown_code_cells = sum(cell.cell_type == "code" and not cell.metadata.get("jupyter", {}).get("source_hidden")
                           for cell in nbformat.read(notebooks / f"{LESSON}.ipynb", 4).cells)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{LESSON}.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/lab/tree/{LESSON}.ipynb?token={token}")
            # Run All before the kernel is connected clears the prompts and runs nothing: wait for
            # the status bar's "Python 3 (ipykernel) | Idle"
            page.locator(".jp-StatusBar-Widget").get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=180_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # every code cell's prompt shows its execution number ("[12]:"); Run All stops at an error
            try:
                page.wait_for_function(
                    """count => {
                        const prompts = [...document.querySelectorAll('.jp-CodeCell')]
                            .filter(cell => !cell.querySelector('.jp-InputPlaceholder'))
                            .map(cell => cell.querySelector('.jp-InputPrompt'));
                        return prompts.length === count && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
                    }""", arg=shown_code_cells, timeout=400_000)
            except PlaywrightTimeout:
                page.screenshot(path=screenshot)
                prompts = page.locator(".jp-CodeCell:not(:has(.jp-InputPlaceholder)) .jp-InputPrompt").all_inner_texts()
                raise AssertionError(f"not every cell ran: prompts {prompts}; screenshot {screenshot}") from None
            interact_cell = page.locator(".jp-CodeCell", has_text="widgets.interact(").first
            try:  # the widget manager draws the sliders after the cell has run
                interact_cell.locator(".jupyter-widgets.widget-slider").first.wait_for(timeout=30_000)
            except PlaywrightTimeout:
                pass  # counted below
            sliders = interact_cell.locator(".jp-OutputArea-output .jupyter-widgets.widget-slider").count()
            interact_cell.scroll_into_view_if_needed()
            page.screenshot(path=screenshot)
            print(f"screenshot: {screenshot}")
            outputs = page.locator(".jp-OutputArea-output")
            as_text = [text for text in outputs.all_inner_texts() if "interactive(" in text or "Slider(" in text]
            shown_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            error_texts = shown_errors.all_inner_texts()
        finally:
            browser.close()
    assert not as_text, f"a slider shown as text, not as a widget: {as_text}"
    assert sliders == 2, f"draw_line's sliders w and b: {sliders} rendered"
    assert not error_texts, f"error or stderr output in JupyterLab: {error_texts}"

