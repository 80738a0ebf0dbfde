"""One window per person and profile: a second launch (a file manager's *Open With*, say) hands
its files and folders to the running window over a local socket and exits.

The socket's name is the user's and the profile's: a hash of the user data folder, so two
``XDG_DATA_HOME`` profiles are two instances. Which process is the instance is settled by the
saved review's lock (``tagger.review.saved``), not by the socket: a socket file left by a
crashed instance is removed by the next process that owns the lock.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

from tagger.review.saved import SavedReview
from tagger.text import TextEnum

CONNECT_MS = 1000  # a running window accepts at once; a socket nobody listens on refuses at once
ANSWER_MS = 5000  # the window answers from its event loop, which a moment's work can hold up
OPENED = b"opened\n"
LONGEST_REQUEST = 1 << 20  # bytes: thousands of paths; anything longer is not a launch's
UNIX_SOCKET_PATH_MAX = 107
STARTING_S = 5.0  # how long a launch waits for a window that is starting at the same moment


@dataclass(frozen=True)
class Launch:
    """What one launch asks the window to open: files and folders (absolute), or the demo."""

    paths: tuple[Path, ...] = ()
    demo: bool = False

    @classmethod
    def of(cls, paths: list[Path], demo: bool = False) -> Launch:
        """Paths as given on a command line, made absolute against this process's folder
        (the running window has its own), symlinks kept as named."""
        return cls(tuple(Path(os.path.abspath(p)) for p in paths), demo)

    def to_bytes(self) -> bytes:
        # A name that is not UTF-8 holds lone surrogates, which json escapes and brings back.
        record = {"paths": [str(p) for p in self.paths], "demo": self.demo}
        return json.dumps(record).encode("ascii") + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Launch:
        """ValueError for anything that is not a launch's request."""
        try:
            record = json.loads(data)
            paths, demo = record["paths"], record["demo"]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a launch request ({e})") from None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) or not isinstance(demo, bool):
            raise ValueError("not a launch request (wrong types)")
        return cls(tuple(Path(p) for p in paths), demo)


def server_name(data_folder: Path | None = None) -> str:
    """The local socket of this user's window for the profile whose user data folder is
    ``data_folder`` (the current one by default)."""
    if data_folder is None:
        from platformdirs import user_data_path

        data_folder = user_data_path("genre-tagger", appauthor=False)
    profile = hashlib.sha256(os.fsencode(os.path.abspath(data_folder))).hexdigest()[:16]
    user = str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()
    name = f"genre-tagger-{user}-{profile}"
    # The runtime folder is the user's alone; the temporary folder, Qt's place for a bare
    # name, is shared with every other user.
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isdir(runtime) and len(os.path.join(runtime, name)) <= UNIX_SOCKET_PATH_MAX:
        return os.path.join(runtime, name)
    return name


class HandOver(TextEnum):
    """How handing a launch to the running window went."""

    OPENED = "opened"  # the window took the paths
    NO_WINDOW = "no window"  # nothing listens: this launch may become the window
    NO_ANSWER = "no answer"  # something listens but did not confirm in time


def hand_over(name: str, launch: Launch) -> HandOver:
    """Give ``launch`` to the window listening on ``name``, waiting for its answer."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return HandOver.NO_WINDOW
    try:
        socket.write(launch.to_bytes())
        if not socket.waitForBytesWritten(ANSWER_MS):
            return HandOver.NO_ANSWER
        answer = b""
        while len(answer) < len(OPENED) and socket.waitForReadyRead(ANSWER_MS):
            answer += socket.readAll().data()
        return HandOver.OPENED if answer == OPENED else HandOver.NO_ANSWER
    finally:
        socket.abort()


def find_window(name: str, launch: Launch, saved: SavedReview) -> HandOver:
    """Hand ``launch`` to this profile's running window; NO_WINDOW where there is none, and
    this process owns the saved review (``saved``) unless another process starting at the
    same moment won it and still does not listen after STARTING_S."""
    deadline = time.monotonic() + STARTING_S
    while True:
        handed = hand_over(name, launch)
        if handed is not HandOver.NO_WINDOW:
            return handed
        try:
            if saved.claim():
                return HandOver.NO_WINDOW
        except OSError:  # no lock file, so no owner to wait for; the window says the review is not kept
            return HandOver.NO_WINDOW
        if time.monotonic() > deadline:
            return HandOver.NO_WINDOW
        time.sleep(0.1)  # the owner opens its socket before anything else


class InstanceServer(QObject):
    """The running window's end of the socket: announces each launch handed to it."""

    launched = Signal(object)  # a Launch

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        # Not UserAccessOption: with it Qt swaps its socket in over any other, live or not,
        # where a plain listen refuses a name in use. listen() restricts the file itself.
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Listen on the name, for this user alone; a socket file that a crashed instance
        left is removed first. Call it only as the owner of the saved review: that makes
        any other socket on the name stale."""
        listening = self.server.listen(self.name)
        if not listening and self.server.serverError() is QAbstractSocket.SocketError.AddressInUseError:
            QLocalServer.removeServer(self.name)
            listening = self.server.listen(self.name)
        if listening and os.name == "posix":
            # Where this fails, the runtime folder is the user's alone anyway; elsewhere the umask decides.
            with contextlib.suppress(OSError):
                os.chmod(self.server.fullServerName(), 0o600)  # no other user connects
        return listening

    def error(self) -> str:
        return self.server.errorString()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            received = bytearray()
            socket.readyRead.connect(lambda s=socket, r=received: self._read(s, r))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket, received: bytearray) -> None:
        received += socket.readAll().data()
        if b"\n" not in received and len(received) <= LONGEST_REQUEST:
            return
        try:
            launch = Launch.from_bytes(bytes(received).partition(b"\n")[0])
        except ValueError:
            socket.abort()  # not a launch: nothing is opened, and the client hears no "opened"
            return
        socket.readyRead.disconnect()  # one launch per connection
        socket.write(OPENED)
        socket.flush()
        socket.disconnectFromServer()
        self.launched.emit(launch)
