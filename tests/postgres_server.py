"""A PostgreSQL server for the tests of the gradebook on PostgreSQL: the one named by the
environment variable COURSE_TEST_POSTGRES_URL (.ci/run starts one and sets it: a URL whose user
may create databases), else a scratch server started here with Debian's initdb and pg_ctl
(package postgresql) under an unprivileged user, on a free TCP port of localhost."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

URL_VARIABLE = "COURSE_TEST_POSTGRES_URL"


def server_binaries():
    """The folder of initdb and pg_ctl (Debian: /usr/lib/postgresql/<version>/bin, newest
    version first), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parts[-3]), reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def why_no_server():
    """Why no PostgreSQL server can be had for the tests, or None."""
    if os.environ.get(URL_VARIABLE) or server_binaries():
        return None
    return (f"no PostgreSQL: set {URL_VARIABLE} to a server's URL, or install Debian's package "
            "(`apt-get install postgresql`) so that the tests can start one")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_user(command):
    """`command` run as the unprivileged user `postgres` (Debian's package makes it) or `nobody`
    when we are root (the server refuses to run as root); as ourselves otherwise."""
    if os.geteuid() != 0:
        return command
    user = _server_user()
    return ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}", "--clear-groups",
            *command]


def _server_user():
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        return "nobody"


@contextmanager
def scratch_server():
    """Start a server on a scratch data folder (a new folder in the system's temporary directory,
    which the server's user can reach) and yield an admin URL
    (postgresql+psycopg://grader@127.0.0.1:PORT/postgres, trust authentication, localhost only);
    afterwards the server is stopped and the folder removed. Raises RuntimeError with the tool's
    own message where initdb or pg_ctl fails."""
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sockets):
            shutil.chown(path, _server_user())
    port = _free_port()
    _run([binaries / "initdb", "-D", data, "-U", "grader", "--auth=trust", "-E", "UTF8",
          "--no-instructions"])
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        _run([binaries / "pg_ctl", "-D", data, "-l", folder / "log", "-o", options, "-w", "start"])
        yield f"postgresql+psycopg://grader@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _run(command):
    run = subprocess.run(_as_user([str(part) for part in command]), capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed ({run.returncode}): "
                           f"{(run.stderr or run.stdout)[-2000:]}")


def _connect(url):
    """A psycopg connection (autocommit) to a SQLAlchemy URL."""
    parsed = make_url(url)
    return psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                           password=parsed.password, dbname=parsed.database, autocommit=True)


def new_database(admin_url):
    """A new, empty database on the server of `admin_url`; returns its SQLAlchemy URL."""
    name = f"course_test_{uuid.uuid4().hex[:12]}"
    with _connect(admin_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)


def drop_database(admin_url, url):
    """Drop the database of `url` (made by new_database) from the server of `admin_url`."""
    with _connect(admin_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def query(url, sql):
    """The rows of one SQL query on the database of `url`."""
    with _connect(url) as connection:
        return connection.execute(sql).fetchall()
