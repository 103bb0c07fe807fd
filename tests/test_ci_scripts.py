"""The CI's own scripts. `.ci/start_postgres` must come back with the URL when it had to start the
server: the CI reads its output with $(...), which waits until every holder of the pipe has closed
it, and a server that kept the pipe made one CI run wait until its 90 minutes were up (.ci/run
now reads the URL from a file as well)."""
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow
START_POSTGRES = Path(__file__).resolve().parents[1] / ".ci" / "start_postgres"


def _why_not_here():
    if shutil.which("pg_ctlcluster") is None:
        return "Debian's PostgreSQL (pg_ctlcluster) is not installed"
    if os.geteuid() != 0:
        return ".ci/start_postgres runs as root"
    return None


def test_starting_the_server_returns_the_url_and_leaves_no_pipe_open():
    why = _why_not_here()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    cluster = f"ci_test_{uuid.uuid4().hex[:8]}"
    version = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
    try:
        started = subprocess.run(  # through a pipe, as `$(...)` would read it
            ["bash", str(START_POSTGRES)], env={**os.environ, "COURSE_CI_PG_CLUSTER": cluster},
            capture_output=True, text=True, timeout=90)
        assert started.returncode == 0, started.stderr
        url = make_url(started.stdout.strip())
        assert url.port and url.username == "course_ci", started.stdout
        with psycopg.connect(host=url.host, port=url.port, user=url.username,
                             password=url.password, dbname=url.database) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, cluster],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
