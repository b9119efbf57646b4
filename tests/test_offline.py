"""The app never touches the network: it is used offline, in classrooms.

Two checks:

- statically, no module of ``vg_desktop`` imports a networking module (Python's or Qt's);
- dynamically, ``python -m vg_desktop --self-test`` (the real window, offscreen, training several
  networks) runs in a subprocess whose Python socket layer is booby-trapped: every attempt to
  resolve a name, connect, send a datagram or open an internet socket is recorded and refused.
  The run must pass and record nothing. Unix-domain sockets are local IPC, not network, and
  pass: the fork server that starts the training processes listens on one.

Qt's own C++ code does not go through Python's ``socket`` module (for instance a D-Bus
connection to the session bus, over a local Unix socket, if a desktop session is present): the
packaging smoke test (``packaging/smoke_test.sh``) covers that by running the installed app in a
network namespace that has no network at all (``unshare -n``).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vg_desktop"

NETWORK_MODULES = {
    "socket", "ssl", "http", "urllib", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib",
    "xmlrpc", "socketserver", "asyncio", "selectors", "webbrowser",
    "requests", "httpx", "aiohttp", "urllib3", "websocket", "websockets",
    "PySide6.QtNetwork", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebSockets", "PySide6.QtWebChannel", "PySide6.QtHttpServer",
}  # fmt: skip

# Runs in the child interpreter before anything else is imported: replace the entry points to the
# network with functions that record the attempt (to the JSON file named by VG_NET_LOG) and raise.
SOCKET_TRAP = textwrap.dedent(
    """
    import json, os, socket, sys, traceback

    LOG = os.environ["VG_NET_LOG"]
    INTERNET = {socket.AF_INET, getattr(socket, "AF_INET6", socket.AF_INET)}

    def record(what, detail):
        stack = "".join(traceback.format_stack(limit=8)[:-2])
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"call": what, "detail": repr(detail), "stack": stack}) + "\\n")
        raise OSError(f"network access blocked by the offline test: {what}({detail!r})")

    def trap(name):
        def blocked(*args, **kwargs):
            record(name, args[:2])
        return blocked

    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "getnameinfo", "getfqdn", "create_server"):
        setattr(socket, name, trap("socket." + name))
    def trap_method(name):
        real = getattr(socket.socket, name)
        def blocked(self, *args, **kwargs):
            if self.family == socket.AF_UNIX:
                return real(self, *args, **kwargs)  # local IPC: the training processes' server
            record("socket.socket." + name, (self, *args)[:2])
        return blocked

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        setattr(socket.socket, name, trap_method(name))

    _socket_init = socket.socket.__init__

    def guarded_init(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and family in INTERNET:
            record("socket.socket", (family, type))
        _socket_init(self, family, type, proto, fileno)

    socket.socket.__init__ = guarded_init

    sys.argv = ["vg-desktop", "--self-test"]
    from vg_desktop.__main__ import main
    sys.exit(main())
    """
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_network_module(name: str) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in NETWORK_MODULES)


def test_no_module_imports_networking():
    offenders = {
        str(path.relative_to(ROOT)): sorted(filter(is_network_module, imported_modules(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert not offenders, f"networking imports in an offline app: {offenders}"


def test_self_test_passes_with_sockets_blocked(tmp_path):
    log = tmp_path / "network-attempts.jsonl"
    env = dict(os.environ)
    env.update(
        VG_NET_LOG=str(log),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),  # a fresh home: no user settings, nothing shared with other runs
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    env.pop("PYTHONSTARTUP", None)
    result = subprocess.run(
        [sys.executable, "-c", SOCKET_TRAP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    attempts = (
        [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        if log.exists()
        else []
    )
    assert not attempts, "the app tried to use the network:\n" + "\n".join(
        f"{a['call']}{a['detail']}\n{a['stack']}" for a in attempts
    )
    assert result.returncode == 0, (
        f"self-test failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    assert "SELF-TEST PASSED" in result.stdout


def test_the_trap_catches_a_connection(tmp_path):
    """The trap itself works: a connection attempt is recorded and refused."""
    log = tmp_path / "network-attempts.jsonl"
    probe = SOCKET_TRAP.split("sys.argv = ")[0] + textwrap.dedent(
        """
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=0.1)  # loopback only
        except OSError as exc:
            print("refused:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "VG_NET_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: network access blocked" in result.stdout
    assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["call"] == (
        "socket.create_connection"
    )
