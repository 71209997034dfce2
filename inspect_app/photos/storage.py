"""Content-addressed, crash-safe store for inspection photos (INSPECT_MEDIA_DIR).

Phones upload each photo as ``PUT /photos/{sha256}`` over links that drop in the middle of
a request. This module takes the request body as a stream, keeps what arrived so that the
upload can resume from the byte where it stopped, checks the SHA-256 against the name and
only then puts the photo under its real name. It knows nothing about Flask or the database:
the routes call it and turn its exceptions into HTTP answers.

On-disk layout under the root directory::

    originals/ab/cd/<sha256>       the uploaded bytes, verified against the name; never changed
    report/ab/cd/<sha256>.jpg      ~1600 px JPEG derived by ``imaging`` (reports, web)
    thumb/ab/cd/<sha256>.jpg       ~320 px JPEG derived by ``imaging`` (lists)
    print/ab/cd/<sha256>.jpg       the copy a PDF embeds as it is (``imaging``; for photos
                                   stored before it existed, ``reports`` makes it when first
                                   printed)
    partial/<sha256>               a resumable upload in progress: a prefix of the photo
    partial/<sha256>.lock          ``flock`` target serialising appends to that partial
    tmp/                           files being written; renamed into place when complete

``ab`` and ``cd`` are the first two pairs of hex digits of the hash, so that no directory
grows beyond a few thousand entries. Everything lives on one file system so that
``os.replace`` from ``tmp/`` or ``partial/`` into place is atomic: a crash leaves at most a
stray file in ``tmp/`` or ``partial/`` (see :meth:`MediaStore.sweep`), never a truncated file
under a real name.

Resumable upload protocol (the routes map it onto HTTP):

* ``HEAD /photos/{sha256}`` -> :meth:`MediaStore.held_bytes`: the size of the original if the
  photo is complete, else the length of the partial, else ``None`` (nothing held).
* ``PUT`` of a photo the server already holds -> ``receive`` reads the whole body all the
  same and checks that the bytes held before ``offset`` plus the body have the photo's
  SHA-256 (:class:`HashMismatch` if not). Answering before the body is read would close
  the client's kept-alive connection under it, and an answer without the check would hand
  the photo to anyone who knows its name.
* ``PUT`` without ``Content-Range`` (or starting at byte 0) -> ``receive(offset=0)``: starting
  over is always allowed. The body goes to a temporary file of this request alone, so any
  number of phones can upload the same photo at once; each one verifies its own bytes and
  the last rename wins with identical content. If the body breaks off, the bytes received
  become the partial (if longer than the partial already held), to be resumed.
* ``PUT`` with ``Content-Range: bytes N-M/T`` -> ``receive(offset=N, total=T)``: appends to the
  partial under an exclusive lock. ``N`` must equal what the server holds, otherwise
  :class:`OffsetMismatch` tells how many bytes it holds.
* On resume the bytes already held are hashed again from disk rather than keeping hash state
  between requests: it costs one sequential read of at most ``max_bytes`` and cannot go stale
  after a crash. Whatever a crash did to the partial, the final SHA-256 check catches it.

What a failed ``receive`` leaves on disk:

* :class:`Incomplete` (client vanished, or body shorter than ``total``): the bytes received
  are kept as the partial; ``received`` is what is held now, the offset to resume from.
* :class:`HashMismatch`: nothing of this upload. A resumed upload's partial is deleted (it
  is the wrong photo); a fresh upload's temporary file is deleted and an unrelated partial
  of an earlier attempt is left alone.
* :class:`TooLarge`: nothing of this request. If the declared ``total`` is over the limit
  nothing is read; if the bytes run over it, a fresh upload's temporary file is deleted and
  a resumed upload's partial is cut back to what it held before this request (which was
  under the limit).
* :class:`OffsetMismatch`, :class:`UploadBusy`: nothing changes.
* Anything, when the photo was complete already: nothing changes.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 64 * 1024
VARIANTS = ("original", "report", "thumb", "print")
_VARIANT_DIRS = {"original": "originals", "report": "report", "thumb": "thumb", "print": "print"}
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o644


class ReadableStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class UploadError(Exception):
    """An upload that could not be stored. ``str(exc)`` is a Chinese message for the inspector;
    ``code`` is the error code of the API contract that fits it best."""

    code = "bad_request"


class OffsetMismatch(UploadError):
    """A resumed upload started at a byte other than the number of bytes the server holds."""

    code = "conflict"

    def __init__(self, *, held: int, offset: int) -> None:
        self.held = held
        self.offset = offset
        super().__init__(f"续传位置不对：服务器已收到 {held} 字节，本次从第 {offset} 字节开始")


class UploadBusy(UploadError):
    """Another request is appending to the same partial upload right now."""

    code = "conflict"

    def __init__(self, *, held: int) -> None:
        self.held = held
        super().__init__(f"这张照片正在由另一个请求上传（已收到 {held} 字节），请稍后再试")


class TooLarge(UploadError):
    """The photo is (or is declared to be) larger than ``limit`` bytes."""

    code = "payload_too_large"

    def __init__(self, *, limit: int, size: int) -> None:
        self.limit = limit
        self.size = size  # the declared total, or the bytes seen when reading stopped
        shown = f"{limit / 2**20:.3g} MB" if limit >= 2**20 else f"{limit / 2**10:.3g} KB"
        super().__init__(f"照片文件超过 {shown} 的上限")


class HashMismatch(UploadError):
    """The bytes received do not have the SHA-256 named in the path."""

    code = "bad_request"

    def __init__(self, *, expected: str, actual: str, size: int) -> None:
        self.expected = expected
        self.actual = actual
        self.size = size
        super().__init__("照片内容与编号（SHA-256）不符，可能传输出错，请重新上传")


class Incomplete(UploadError):
    """The body ended before the photo was complete (the client went away, or the stream
    ended short of ``total``). ``received`` bytes are held and the upload can resume there."""

    code = "bad_request"

    def __init__(self, *, received: int, total: int | None) -> None:
        self.received = received
        self.total = total
        super().__init__(f"上传中断：服务器已保存 {received} 字节，可从此处续传")


@dataclass(frozen=True)
class ReceiveResult:
    sha256: str
    size: int
    # False: the photo was already complete; the body was read and had its SHA-256.
    created: bool


def validate_sha256(sha256: object) -> str:
    """Return ``sha256`` if it is 64 lowercase hex digits, else raise ``ValueError``.

    Every public method calls this before building a path, so a name like ``../../x`` can
    never reach the file system."""
    if not isinstance(sha256, str) or not _SHA256_RE.fullmatch(sha256):
        raise ValueError("照片编号必须是 64 位小写十六进制的 SHA-256")
    return sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size_or_none(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _unlink_quietly(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()


class MediaStore:
    """The media directory. Safe to share between threads and processes."""

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 10.0) -> None:
        self.root = Path(root)
        # How long an append waits for another request on the same partial (often a dead
        # connection the server has not noticed yet) before answering "busy".
        self.lock_timeout = lock_timeout
        self._tmp = self.root / "tmp"
        self._partial = self.root / "partial"
        for directory in (
            self._tmp,
            self._partial,
            *(self.root / d for d in _VARIANT_DIRS.values()),
        ):
            directory.mkdir(parents=True, exist_ok=True)

    # -- paths -------------------------------------------------------------------------

    def path(self, sha256: str, variant: str = "original") -> Path:
        """Where ``variant`` (``original``, ``report``, ``thumb`` or ``print``) of a photo
        lives; the file may not exist yet."""
        validate_sha256(sha256)
        if variant not in VARIANTS:
            raise ValueError(f"未知的照片版本：{variant!r}")
        name = sha256 if variant == "original" else f"{sha256}.jpg"
        return self.root / _VARIANT_DIRS[variant] / sha256[:2] / sha256[2:4] / name

    def _partial_path(self, sha256: str) -> Path:
        return self._partial / sha256

    def _lock_path(self, sha256: str) -> Path:
        return self._partial / f"{sha256}.lock"

    # -- queries -----------------------------------------------------------------------

    def has_original(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def held_bytes(self, sha256: str) -> int | None:
        """Bytes the server holds for this photo (for ``HEAD``): the full size if complete,
        the length of the partial if an upload is under way, ``None`` if nothing."""
        size = _size_or_none(self.path(sha256))
        if size is not None:
            return size
        return _size_or_none(self._partial_path(sha256))

    # -- receiving ---------------------------------------------------------------------

    def receive(
        self,
        sha256: str,
        stream: ReadableStream,
        *,
        offset: int = 0,
        total: int | None = None,
        max_bytes: int,
    ) -> ReceiveResult:
        """Store the photo whose bytes from ``offset`` on are read from ``stream``.

        ``total`` is the full size of the photo when known (``Content-Range`` total, or the
        ``Content-Length`` of a whole-body ``PUT``); reading stops there. Without it the
        stream is read to its end. At most ``CHUNK_SIZE`` bytes are in memory at a time.

        Returns ``created=False`` if the photo was already complete, once the body is read
        and checked against it. Raises ``ValueError`` for a bad name or impossible range,
        :class:`TooLarge`, :class:`HashMismatch`, :class:`Incomplete`,
        :class:`OffsetMismatch` or :class:`UploadBusy` (see the module docstring for what
        each leaves on disk).
        """
        validate_sha256(sha256)
        if offset < 0 or (total is not None and total < offset) or max_bytes <= 0:
            raise ValueError("上传范围无效")
        if total is not None and total > max_bytes:
            # Refused before reading (no photo held can be that large): whatever is already
            # held stays, it may be valid.
            raise TooLarge(limit=max_bytes, size=total)
        if self.has_original(sha256):
            return self._verify_held(sha256, stream, offset, total, max_bytes)
        if offset == 0:
            return self._receive_fresh(sha256, stream, total, max_bytes)
        return self._receive_append(sha256, stream, offset, total, max_bytes)

    def _receive_fresh(
        self, sha256: str, stream: ReadableStream, total: int | None, max_bytes: int
    ) -> ReceiveResult:
        tmp = self._new_tmp_path(f"{sha256}.upload")
        digest = hashlib.sha256()
        keep_tmp = False
        try:
            with open(tmp, "xb") as out:
                os.chmod(out.fileno(), _FILE_MODE)
                size, ended = _copy(stream, out, digest, 0, total, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            if not ended:
                held = self._adopt_as_partial(sha256, tmp, size)
                raise Incomplete(received=held, total=total)
            _check_digest(sha256, digest, size)
            self._install(tmp, self.path(sha256))
            keep_tmp = True  # it has become the original
            self._drop_stale_partial(sha256)
            return ReceiveResult(sha256, size, created=True)
        finally:
            if not keep_tmp:
                _unlink_quietly(tmp)

    def _adopt_as_partial(self, sha256: str, tmp: Path, size: int) -> int:
        """Keep a broken-off fresh upload for resumption if it holds more than the partial
        already there; return what is held afterwards."""
        partial = self._partial_path(sha256)
        try:
            with self._locked(sha256):
                complete = _size_or_none(self.path(sha256))
                if complete is not None:  # another request finished it meanwhile
                    return complete
                held = _size_or_none(partial) or 0
                if size > held:
                    os.replace(tmp, partial)
                    _fsync_dir(self._partial)
                    return size
                return held
        except UploadBusy as busy:
            return busy.held

    def _receive_append(
        self,
        sha256: str,
        stream: ReadableStream,
        offset: int,
        total: int | None,
        max_bytes: int,
    ) -> ReceiveResult:
        partial = self._partial_path(sha256)
        with self._locked(sha256):
            if self.has_original(sha256):  # another request completed it meanwhile
                self._discard_partial_locked(sha256)
                return self._verify_held(sha256, stream, offset, total, max_bytes)
            held = _size_or_none(partial) or 0
            if held != offset:
                raise OffsetMismatch(held=held, offset=offset)
            digest = _hash_file(partial)
            with open(partial, "r+b") as out:
                out.seek(offset)
                try:
                    size, ended = _copy(stream, out, digest, offset, total, max_bytes)
                except TooLarge:
                    # Keep what was held before this request: it is under the limit.
                    out.truncate(offset)
                    raise
                out.flush()
                os.fsync(out.fileno())
            if not ended:
                raise Incomplete(received=size, total=total)
            try:
                _check_digest(sha256, digest, size)
            except HashMismatch:
                self._discard_partial_locked(sha256)
                raise
            self._install(partial, self.path(sha256))
            return ReceiveResult(sha256, size, created=True)

    def _verify_held(
        self,
        sha256: str,
        stream: ReadableStream,
        offset: int,
        total: int | None,
        max_bytes: int,
    ) -> ReceiveResult:
        """Read the body of an upload of a complete photo and check it: the original's first
        ``offset`` bytes followed by the body must be the photo. Nothing is written."""
        original = self.path(sha256)
        size = original.stat().st_size
        if offset > size:
            # Drained all the same, so that the answer finds the connection ready. Resume
            # from 0: the size of a photo is not told to whoever merely names it.
            _drain(stream, total, offset, max_bytes)
            raise OffsetMismatch(held=0, offset=offset)
        digest = _hash_file(original, limit=offset)
        received, ended = _copy(stream, _Discard(), digest, offset, total, max_bytes)
        if not ended:
            raise Incomplete(received=offset, total=total)
        _check_digest(sha256, digest, received)
        return ReceiveResult(sha256, size, created=False)

    def _drop_stale_partial(self, sha256: str) -> None:
        """After a fresh upload completed, the partial of an earlier attempt is useless."""
        if not self._partial_path(sha256).exists():
            return
        with suppress(UploadBusy), self._locked(sha256, timeout=0):
            self._discard_partial_locked(sha256)

    def _discard_partial_locked(self, sha256: str) -> None:
        # The lock file goes too, when the lock is released (see _locked).
        _unlink_quietly(self._partial_path(sha256))

    @contextmanager
    def _locked(self, sha256: str, timeout: float | None = None) -> Iterator[None]:
        """Exclusive ``flock`` on ``partial/<sha256>.lock``, waiting at most ``timeout``
        seconds before raising :class:`UploadBusy`.

        ``flock`` locks belong to an open file description, so this excludes other threads
        of this process as well as other worker processes. The lock file exists only while
        there is a partial: whoever releases the lock with no partial left unlinks it."""
        lock_path = self._lock_path(sha256)
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        while True:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                            raise
                    if time.monotonic() >= deadline:
                        raise UploadBusy(held=_size_or_none(self._partial_path(sha256)) or 0)
                    time.sleep(0.02)
                # The holder we waited for may have unlinked the lock file when it finished;
                # a lock on an unlinked inode excludes nobody, so start again.
                try:
                    on_disk, held_open = os.stat(lock_path), os.fstat(fd)
                    same = (on_disk.st_dev, on_disk.st_ino) == (held_open.st_dev, held_open.st_ino)
                except FileNotFoundError:
                    same = False
            except BaseException:
                os.close(fd)
                raise
            if same:
                break
            os.close(fd)
        try:
            yield
        finally:
            try:
                if not self._partial_path(sha256).exists():
                    # Still holding the lock, so nobody can be creating a partial right now.
                    _unlink_quietly(lock_path)
            finally:
                os.close(fd)

    # -- variants and removal ----------------------------------------------------------

    def write_variant(
        self,
        sha256: str,
        variant: str,
        data: bytes | bytearray | memoryview | Callable[[BinaryIO], object],
    ) -> Path:
        """Atomically write a derived JPEG (``report``, ``thumb`` or ``print``). ``data`` is
        the bytes, or a function that writes them to the binary file it is given."""
        if variant == "original":
            raise ValueError("原图只能通过上传写入")
        target = self.path(sha256, variant)
        tmp = self._new_tmp_path(f"{sha256}.{variant}")
        try:
            with open(tmp, "xb") as out:
                os.chmod(out.fileno(), _FILE_MODE)
                if callable(data):
                    data(out)
                else:
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._install(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return target

    def remove(self, sha256: str) -> None:
        """Delete a photo that was rejected after upload (e.g. not an image): the original,
        its variants and any partial."""
        for variant in VARIANTS:
            _unlink_quietly(self.path(sha256, variant))
        with suppress(UploadBusy), self._locked(sha256, timeout=1.0):
            self._discard_partial_locked(sha256)

    def sweep(self, *, tmp_age: float = 3600.0, partial_age: float = 30 * 86400.0) -> list[Path]:
        """Delete leftovers: files in ``tmp/`` untouched for ``tmp_age`` seconds (crashed
        writes; a live upload touches its file with every chunk), partials untouched for
        ``partial_age`` seconds (phones may stay out of signal for days, hence the long
        default) and partials of photos that are complete. Returns what was deleted."""
        now = time.time()
        removed: list[Path] = []
        for entry in self._tmp.iterdir():
            with suppress(FileNotFoundError):
                if now - entry.stat().st_mtime > tmp_age:
                    entry.unlink()
                    removed.append(entry)
        for entry in self._partial.iterdir():
            sha256 = entry.name.removesuffix(".lock")
            if not _SHA256_RE.fullmatch(sha256):
                continue
            # Taking the lock is enough to clear a lock file left by a crash (see _locked).
            with suppress(FileNotFoundError, UploadBusy), self._locked(sha256, timeout=0):
                if entry.name != sha256:
                    continue
                stale = now - entry.stat().st_mtime > partial_age
                if stale or self.has_original(sha256):
                    self._discard_partial_locked(sha256)
                    removed.append(entry)
        return removed

    # -- helpers -----------------------------------------------------------------------

    def _new_tmp_path(self, stem: str) -> Path:
        return self._tmp / f"{stem}.{os.getpid()}.{secrets.token_hex(8)}.tmp"

    def _install(self, source: Path, target: Path) -> None:
        """Rename a finished, fsynced file into place; durable once this returns."""
        self._makedirs(target.parent)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def _makedirs(self, directory: Path) -> None:
        if directory.is_dir():
            return
        self._makedirs(directory.parent)
        with suppress(FileExistsError):
            directory.mkdir()
            # A new directory entry is itself data that must reach the disk.
            _fsync_dir(directory.parent)


def _copy(
    stream: ReadableStream,
    out: BinaryIO,
    digest: hashlib._Hash,
    start: int,
    total: int | None,
    max_bytes: int,
) -> tuple[int, bool]:
    """Copy ``stream`` to ``out`` in chunks, hashing as it goes. Returns the size reached
    and whether the photo is complete (``total`` reached, or end of stream if no total)."""
    size = start
    while total is None or size < total:
        want = CHUNK_SIZE if total is None else min(CHUNK_SIZE, total - size)
        try:
            chunk = stream.read(want)
        except Exception:
            # The client went away (socket error, WSGI "client disconnected", timeout):
            # what was written so far is a valid prefix worth keeping.
            return size, False
        if not chunk:
            return size, total is None
        if total is not None and len(chunk) > want:
            chunk = chunk[:want]  # a stream that ignores the size asked for; stop at total
        if size + len(chunk) > max_bytes:
            raise TooLarge(limit=max_bytes, size=size + len(chunk))
        out.write(chunk)
        digest.update(chunk)
        size += len(chunk)
    return size, True


class _Discard:
    """A sink for a body that is only hashed."""

    def write(self, data: bytes) -> int:
        return len(data)


def _drain(stream: ReadableStream, total: int | None, start: int, max_bytes: int) -> None:
    with suppress(TooLarge):
        _copy(stream, _Discard(), hashlib.sha256(), start, total, max_bytes)


def _hash_file(path: Path, limit: int | None = None) -> hashlib._Hash:
    """SHA-256 state of the file's first ``limit`` bytes (all of it without a limit)."""
    digest = hashlib.sha256()
    left = limit
    with open(path, "rb") as f:
        while left is None or left > 0:
            chunk = f.read(1024 * 1024 if left is None else min(1024 * 1024, left))
            if not chunk:
                break
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
    return digest


def _check_digest(sha256: str, digest: hashlib._Hash, size: int) -> None:
    actual = digest.hexdigest()
    if actual != sha256:
        raise HashMismatch(expected=sha256, actual=actual, size=size)
