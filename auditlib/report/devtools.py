"""The DevTools broker: one Chromium's `--remote-debugging-pipe`, shared by forked processes over a private socket.

Why: a DevTools TCP port (`--remote-debugging-port`) has no authentication, so any account on the
host could connect to it and read the report being printed. Chromium started with
`--remote-debugging-pipe` opens no port: it reads the protocol's commands from its fd 3 and writes
answers and events to its fd 4, each message one JSON text followed by a NUL byte (as puppeteer's
and Playwright's PipeTransport). One pipe cannot be shared by the forked children that print
concurrently, so this small process owns it:

- it listens on a Unix socket inside the browser's private folder (tempfile.mkdtemp: mode 0700, so
  no other account can even reach the socket's name) and refuses a peer of another uid (SO_PEERCRED);
- a client speaks to it exactly as to Chromium's pipe: JSON messages, each followed by a NUL byte, in
  both directions (a JSON text has no raw NUL: json escapes one as \\u0000);
- each client command's "id" is rewritten to an id unique towards Chromium and the answer goes back to
  the connection that sent it, with its own id; a connection that closes before its answers came has
  them dropped, and the sessions it attached are detached;
- an event goes to the connection that attached its flatten session (`Target.attachToTarget` with
  `flatten: true`: page commands carry "sessionId"); an event of no such session is dropped.

It is single-threaded (selectors) and a process of its own, not a thread: the browser's owner forks
children, and threads and fork do not mix. It exits when Chromium's pipe closes (Chromium exited),
and dies with its owner (PR_SET_PDEATHSIG, set by the owner before exec); Chromium in turn exits
when its pipe closes. Started as `python -I -S devtools.py LISTEN_FD FROM_CHROMIUM_FD TO_CHROMIUM_FD`,
so this module imports nothing outside the standard library.

`Client` is the other end, used by auditlib.report.pdf in the owner and in its forked children.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import selectors
import signal
import socket
import struct
import sys
import time
from typing import Any

CHUNK = 1 << 20
# a command whose text starts with its id and method (Client writes them so) is rewritten without parsing
# its params (the report's HTML); any other command is parsed. Chromium writes an answer's id first too.
_COMMAND_HEAD = re.compile(rb'\{"id":(\d+),"method":"([A-Za-z.]+)"')
_ANSWER_HEAD = re.compile(rb'\{"id":(\d+)[,}]')


# --- the client ----------------------------------------------------------------------------------------

class Client:
    """One connection to the broker: commands with a deadline, events ignored.

    `error` is the exception class raised when the broker (or Chromium behind it) is gone, refuses
    a command or does not answer before `deadline` (time.monotonic())."""

    def __init__(self, path: str | os.PathLike, deadline: float, error: type[Exception] = ConnectionError):
        self.deadline, self.error = deadline, error
        self.buf, self.scan = bytearray(), 0
        self.ids = itertools.count(1)
        left = self._left()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(left)
            self.sock.connect(os.fspath(path))
        except OSError as exc:
            self.sock.close()
            raise error(f"cannot reach Chromium's DevTools broker at {os.fspath(path)}: {exc}") from None

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.error("Chromium did not answer in time")
        return left

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """The result of one command (on the flatten `session` when given)."""
        i = next(self.ids)
        head = '{"id":%d,"method":%s' % (i, json.dumps(method))
        if session:
            head += ',"sessionId":' + json.dumps(session)
        data = (head + ',"params":' + json.dumps(params or {}) + "}").encode("utf-8") + b"\0"
        try:
            self.sock.settimeout(self._left())
            self.sock.sendall(data)
            while True:
                msg = json.loads(self._receive())
                if isinstance(msg, dict) and msg.get("id") == i:
                    break
        except (OSError, ValueError) as exc:
            raise self.error(f"Chromium stopped answering during {method}: {type(exc).__name__}: {exc}") from None
        if "error" in msg:
            raise self.error(f"Chromium refused {method}: {msg['error'].get('message', msg['error'])}")
        return msg.get("result", {})

    def _receive(self) -> bytes:
        while True:
            end = self.buf.find(b"\0", self.scan)
            if end >= 0:
                msg = bytes(self.buf[:end])
                del self.buf[:end + 1]
                self.scan = 0
                return msg
            self.scan = len(self.buf)
            self.sock.settimeout(self._left())
            chunk = self.sock.recv(CHUNK)
            if not chunk:
                raise ConnectionResetError("the DevTools broker closed the connection (Chromium exited?)")
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the broker ----------------------------------------------------------------------------------------

class _Outbox:
    """Bytes waiting for a non-blocking file descriptor to take them."""

    def __init__(self) -> None:
        self.data, self.sent = bytearray(), 0

    def __bool__(self) -> bool:
        return self.sent < len(self.data)

    def flush(self, write) -> None:
        while self:
            with memoryview(self.data) as view, view[self.sent:] as rest:
                try:
                    n = write(rest)
                except BlockingIOError:
                    return
            self.sent += n
        self.data.clear()
        self.sent = 0


class _Peer:
    def __init__(self, sock: socket.socket):
        self.sock, self.inbox, self.scan, self.out = sock, bytearray(), 0, _Outbox()
        self.sessions: set[str] = set()
        self.closed = False


def _messages(buf: bytearray, scan: int) -> tuple[list[bytes], int]:
    """The complete NUL-terminated messages at the start of `buf` (removed from it), and where to scan next."""
    found, start = [], 0
    end = buf.find(b"\0", scan)
    while end >= 0:
        found.append(bytes(buf[start:end]))
        start = end + 1
        end = buf.find(b"\0", start)
    if start:
        del buf[:start]
    return found, len(buf)


class Broker:
    """The loop: Chromium's pipe on one side, the clients' connections on the other."""

    def __init__(self, listener: socket.socket, from_chromium: int, to_chromium: int):
        self.sel = selectors.DefaultSelector()
        self.listener, self.rfd, self.wfd = listener, from_chromium, to_chromium
        listener.setblocking(False)
        os.set_blocking(from_chromium, False)
        os.set_blocking(to_chromium, False)
        self.inbox, self.scan, self.out = bytearray(), 0, _Outbox()
        self.ids = itertools.count(1)
        # Chromium-side id -> (connection or None for the broker's own, its id, an attachToTarget?)
        self.pending: dict[int, tuple[_Peer | None, int, bool]] = {}
        self.sessions: dict[str, _Peer] = {}
        self.sel.register(listener, selectors.EVENT_READ, "accept")
        self.sel.register(from_chromium, selectors.EVENT_READ, "chromium")
        self.running = True

    def run(self) -> None:
        while self.running:
            for key, mask in self.sel.select():
                if key.data == "accept":
                    self._accept()
                elif key.data == "chromium":
                    self._read_chromium()
                elif key.data == "to-chromium":
                    self._flush_chromium()
                else:
                    peer = key.data
                    if mask & selectors.EVENT_WRITE and not peer.closed:
                        self._flush_peer(peer)
                    if mask & selectors.EVENT_READ and not peer.closed:
                        self._read_peer(peer)
                if not self.running:
                    break

    # Chromium's side
    def _read_chromium(self) -> None:
        try:
            data = os.read(self.rfd, CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:                # Chromium exited: so does the broker, and every client learns it
            self.running = False
            return
        self.inbox += data
        found, self.scan = _messages(self.inbox, self.scan)
        for msg in found:
            self._from_chromium(msg)

    def _to_chromium(self, msg: bytes) -> None:
        pending = bool(self.out)
        self.out.data += msg
        self.out.data += b"\0"
        if not pending:
            self._flush_chromium()

    def _flush_chromium(self) -> None:
        try:
            self.out.flush(lambda view: os.write(self.wfd, view))
        except OSError:             # Chromium closed its end
            self.running = False
            return
        self._want_write(self.wfd, "to-chromium", bool(self.out))

    def _want_write(self, fd: Any, data: Any, write: bool) -> None:
        """Watch `fd` for room to write while it has bytes waiting (only for that)."""
        try:
            key = self.sel.get_key(fd)
        except KeyError:
            if write:
                self.sel.register(fd, selectors.EVENT_WRITE, data)
            return
        if isinstance(data, _Peer):
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
            if key.events != events:
                self.sel.modify(fd, events, data)
        elif not write:
            self.sel.unregister(fd)

    def _from_chromium(self, msg: bytes) -> None:
        head = _ANSWER_HEAD.match(msg)
        obj: Any = None
        if head is None:
            try:
                obj = json.loads(msg)
            except ValueError:
                return
            if not isinstance(obj, dict):
                return
            if "id" not in obj:     # an event: to the connection of its session, if any
                peer = self.sessions.get(str(obj.get("sessionId", "")))
                if peer is not None and not peer.closed:
                    self._to_peer(peer, msg)
                return
            ours = obj["id"]
        else:
            ours = int(head.group(1))
        entry = self.pending.pop(ours, None)
        if entry is None:
            return
        peer, theirs, attach = entry
        if attach:
            session = self._session_of(obj if obj is not None else msg)
            if session and (peer is None or peer.closed):
                self._detach(session)              # attached for a connection gone meanwhile
            elif session and peer is not None:
                self.sessions[session] = peer
                peer.sessions.add(session)
        if peer is None or peer.closed:
            return
        if head is not None:
            self._to_peer(peer, b'{"id":%d' % theirs + msg[head.end(1):])
        else:
            obj["id"] = theirs
            self._to_peer(peer, json.dumps(obj).encode("utf-8"))

    @staticmethod
    def _session_of(answer: Any) -> str:
        try:
            obj = json.loads(answer) if isinstance(answer, bytes) else answer
            return str(obj["result"]["sessionId"])
        except (ValueError, KeyError, TypeError):
            return ""

    def _detach(self, session: str) -> None:
        ours = next(self.ids)
        self.pending[ours] = (None, 0, False)
        self._to_chromium(json.dumps({"id": ours, "method": "Target.detachFromTarget",
                                      "params": {"sessionId": session}}).encode("utf-8"))

    # the clients' side
    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        try:
            _, uid, _ = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                            struct.calcsize("3i")))
        except OSError:
            uid = -1
        if uid != os.getuid():       # the folder's mode already keeps other accounts out: a second wall
            sock.close()
            return
        sock.setblocking(False)
        peer = _Peer(sock)
        self.sel.register(sock, selectors.EVENT_READ, peer)

    def _read_peer(self, peer: _Peer) -> None:
        try:
            data = peer.sock.recv(CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_peer(peer)
            return
        peer.inbox += data
        found, peer.scan = _messages(peer.inbox, peer.scan)
        for msg in found:
            self._from_peer(peer, msg)

    def _from_peer(self, peer: _Peer, msg: bytes) -> None:
        head = _COMMAND_HEAD.match(msg)
        ours = next(self.ids)
        if head is not None:
            theirs, method = int(head.group(1)), head.group(2).decode("ascii")
            out = b'{"id":%d' % ours + msg[head.end(1):]
        else:
            try:
                obj = json.loads(msg)
                theirs, method = obj["id"], obj["method"]
                if not isinstance(theirs, int) or not isinstance(method, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                self._close_peer(peer)             # not the protocol: no guessing where answers go
                return
            obj["id"] = ours
            out = json.dumps(obj).encode("utf-8")
        if method == "Target.detachFromTarget":
            try:
                session = str(json.loads(msg)["params"]["sessionId"])
            except (ValueError, KeyError, TypeError):
                session = ""
            if self.sessions.get(session) is peer:
                del self.sessions[session]
                peer.sessions.discard(session)
        self.pending[ours] = (peer, theirs, method == "Target.attachToTarget")
        self._to_chromium(out)

    def _to_peer(self, peer: _Peer, msg: bytes) -> None:
        pending = bool(peer.out)
        peer.out.data += msg
        peer.out.data += b"\0"
        if not pending:
            self._flush_peer(peer)

    def _flush_peer(self, peer: _Peer) -> None:
        try:
            peer.out.flush(peer.sock.send)
        except OSError:
            self._close_peer(peer)
            return
        self._want_write(peer.sock, peer, bool(peer.out))

    def _close_peer(self, peer: _Peer) -> None:
        """A connection closed (or its process died): its answers are dropped, its sessions detached."""
        if peer.closed:
            return
        peer.closed = True
        self.sel.unregister(peer.sock)
        peer.sock.close()
        peer.out = _Outbox()
        for ours in [k for k, (p, _, attach) in self.pending.items() if p is peer and not attach]:
            del self.pending[ours]                # attaches stay: their session is detached when it comes
        for session in peer.sessions:
            if self.sessions.get(session) is peer:
                del self.sessions[session]
            self._detach(session)
        peer.sessions.clear()


def main(argv: list[str]) -> int:
    listen_fd, from_chromium, to_chromium = (int(a) for a in argv[1:4])
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # the owner decides when the browser stops
    listener = socket.socket(fileno=listen_fd)
    Broker(listener, from_chromium, to_chromium).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
