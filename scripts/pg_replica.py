#!/usr/bin/env python3
"""A private PostgreSQL primary and its streaming replica, for integration runs.

    python scripts/pg_replica.py start [--dir DIR] [--dbname guelaguetza]
                                          # prints the URLs, the pids and DIR
    python scripts/pg_replica.py stop --dir DIR      # stops both (by pid) and removes DIR

Both servers run from DIR (a new temporary directory by default) on spare ports of
127.0.0.1, with trust authentication: they are throwaway test engines, never a
deployment. The replica is made the way production ones are: ``pg_basebackup -R -X
stream`` from the running primary, then started as a hot standby that streams the
primary's WAL. The shared PostgreSQL on 5432 is never touched (its pg_hba allows no
replication, and re-configuring it would disturb everyone using it).

PostgreSQL refuses to run as root: when started as root, the servers run as the
``postgres`` OS user (runuser) and DIR is handed to that user. The binaries come from
PG_BINDIR, else ``pg_config --bindir``, else /usr/lib/postgresql/<newest>/bin.

tests/test_db_replicas.py imports this file (start_pair / stop_pair).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BINARIES = ("initdb", "pg_ctl", "pg_basebackup", "postgres", "psql")


def bindir() -> Path | None:
    """The directory holding every binary of BINARIES, or None."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout
        candidates.append(Path(out.strip()))
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(root.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
        candidates.extend(v / "bin" for v in reversed(versions))
    for candidate in candidates:
        if all((candidate / name).is_file() for name in BINARIES):
            return candidate
    return None


def missing_reason() -> str | None:
    """Why a pair cannot be started here (a missing binary or user), else None."""
    if bindir() is None:
        return f"PostgreSQL server binaries ({', '.join(BINARIES)}) not found; set PG_BINDIR"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        return "running as root without runuser or a postgres OS user to run PostgreSQL as"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Pair:
    dir: str
    primary_port: int
    replica_port: int
    primary_pid: int
    replica_pid: int

    def url(self, port: int, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{dbname}"

    def primary_url(self, dbname: str = "postgres") -> str:
        return self.url(self.primary_port, dbname)

    def replica_url(self, dbname: str = "postgres") -> str:
        return self.url(self.replica_port, dbname)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


def _conf(data: Path, lines: list[str]) -> None:
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# scripts/pg_replica.py\n" + "\n".join(lines) + "\n")


def _pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split("\n", 1)[0])


def _start(bin_: Path, data: Path) -> int:
    _run([str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "start"])
    return _pid(data)


def start_pair(base: Path | None = None) -> Pair:
    """initdb a primary, start it, pg_basebackup a replica from it and start that."""
    bin_ = bindir()
    if bin_ is None:
        raise RuntimeError(missing_reason())
    base = Path(base or tempfile.mkdtemp(prefix="gc-pg-replica-"))
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    primary, replica = base / "primary", base / "replica"
    primary_port, replica_port = free_port(), free_port()
    _run([str(bin_ / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--locale=C", "--no-sync"])  # fmt: skip
    common = [
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{base}'",
        # Throwaway data: durability only slows the tests down.
        "fsync = off",
        "full_page_writes = off",
        "shared_buffers = 16MB",
        "max_connections = 40",
    ]
    _conf(primary, [*common, f"port = {primary_port}", "wal_level = replica",
                    "max_wal_senders = 4", "wal_keep_size = 64MB"])  # fmt: skip
    # initdb's trust pg_hba already allows replication from 127.0.0.1.
    primary_pid = _start(bin_, primary)
    try:
        _run([str(bin_ / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
              "-U", "postgres", "-D", str(replica), "-R", "-X", "stream", "-c", "fast",
              "--no-sync"])  # fmt: skip
        # The copied postgresql.conf names the primary's port: the last setting wins.
        _conf(replica, [f"port = {replica_port}", "hot_standby = on"])
        replica_pid = _start(bin_, replica)
    except BaseException:
        _stop_pid(primary_pid)
        raise
    return Pair(str(base), primary_port, replica_port, primary_pid, replica_pid)


def _stop_pid(pid: int, timeout: float = 30.0) -> None:
    """Fast shutdown (SIGINT) of one postmaster, waiting until it has exited."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def stop_server(data: Path) -> None:
    """Stop the postmaster of one data directory, if it runs."""
    with contextlib.suppress(FileNotFoundError, ValueError):
        _stop_pid(_pid(data))


def start_server(data: Path) -> int:
    bin_ = bindir()
    if bin_ is None:
        raise RuntimeError(missing_reason())
    return _start(bin_, data)


def stop_pair(pair: Pair, remove: bool = True) -> None:
    base = Path(pair.dir)
    stop_server(base / "replica")
    stop_server(base / "primary")
    if remove:
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--dbname", default="guelaguetza", help="database name in the URLs")
    args = parser.parse_args(argv)
    if args.action == "start":
        reason = missing_reason()
        if reason:
            print(reason, file=sys.stderr)
            return 2
        pair = start_pair(args.dir)
        (Path(pair.dir) / "pair.json").write_text(json.dumps(asdict(pair)))
        urls = {"primary_url": pair.primary_url(args.dbname),
                "replica_url": pair.replica_url(args.dbname)}  # fmt: skip
        print(json.dumps({**asdict(pair), **urls}, indent=2))
        return 0
    if args.dir is None:
        parser.error("stop needs --dir")
    pair = Pair(**json.loads((args.dir / "pair.json").read_text()))
    stop_pair(pair)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
