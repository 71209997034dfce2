"""Tests for the content-addressed photo store: streaming receive, resumption, hash checks,
size limits, concurrency, path validation and crash safety."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inspect_app.photos import storage
from inspect_app.photos.storage import (
    HashMismatch,
    Incomplete,
    MediaStore,
    OffsetMismatch,
    TooLarge,
    UploadBusy,
)

MAX = 1024 * 1024


def make_body(size: int = 300_000, seed: int = 1) -> tuple[bytes, str]:
    body = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    body = bytes((b + i) % 256 for i, b in enumerate(body[:size]))
    return body, hashlib.sha256(body).hexdigest()


class BreakingStream:
    """Delivers ``data`` and then fails like a dropped connection (or just ends, with
    ``fail=False``). Records the sizes asked for."""

    def __init__(self, data: bytes, fail: bool = True) -> None:
        self._data = io.BytesIO(data)
        self._fail = fail
        self.requested: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.requested.append(size)
        chunk = self._data.read(size)
        if not chunk and self._fail:
            raise ConnectionResetError("client went away")
        return chunk


class UnreadableStream:
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body must not be read")


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", lock_timeout=2.0)


def leftovers(store: MediaStore) -> list[str]:
    return sorted(
        str(p.relative_to(store.root))
        for d in ("tmp", "partial")
        for p in (store.root / d).iterdir()
    )


def test_one_shot_upload_is_stored_under_its_hash(store: MediaStore) -> None:
    body, sha = make_body()
    stream = BreakingStream(body, fail=False)
    result = store.receive(sha, stream, total=len(body), max_bytes=MAX)

    assert result == storage.ReceiveResult(sha, len(body), created=True)
    original = store.path(sha)
    assert original == store.root / "originals" / sha[:2] / sha[2:4] / sha
    assert original.read_bytes() == body
    assert store.has_original(sha)
    assert store.held_bytes(sha) == len(body)
    assert leftovers(store) == []
    # Streamed in bounded chunks, never the whole body at once.
    assert max(stream.requested) <= storage.CHUNK_SIZE
    assert len(stream.requested) >= len(body) // storage.CHUNK_SIZE


def test_repeated_upload_reads_the_whole_body_and_checks_it(store: MediaStore) -> None:
    body, sha = make_body()
    store.receive(sha, io.BytesIO(body), max_bytes=MAX)
    stream = io.BytesIO(body)
    again = store.receive(sha, stream, total=len(body), max_bytes=MAX)
    assert again == storage.ReceiveResult(sha, len(body), created=False)
    assert stream.tell() == len(body)  # read to the end before answering
    assert store.path(sha).read_bytes() == body
    assert leftovers(store) == []


@pytest.mark.parametrize(
    "replay",
    [
        lambda body: b"",  # knowing the name is not enough
        lambda body: body[:-1] + bytes([body[-1] ^ 1]),
        lambda body: body[:1000],
        lambda body: body + b"x",
    ],
    ids=["empty", "one-bit", "prefix", "longer"],
)
def test_repeated_upload_with_other_bytes_is_a_mismatch(store: MediaStore, replay) -> None:
    body, sha = make_body()
    store.receive(sha, io.BytesIO(body), max_bytes=MAX)
    other = replay(body)
    stream = io.BytesIO(other)
    with pytest.raises(HashMismatch):
        store.receive(sha, stream, total=len(other), max_bytes=MAX)
    assert stream.tell() == len(other)
    assert store.path(sha).read_bytes() == body
    assert leftovers(store) == []


def test_resume_of_a_complete_photo_is_checked_with_the_held_prefix(store: MediaStore) -> None:
    body, sha = make_body()
    store.receive(sha, io.BytesIO(body), max_bytes=MAX)
    tail = io.BytesIO(body[1000:])
    result = store.receive(sha, tail, offset=1000, total=len(body), max_bytes=MAX)
    assert result == storage.ReceiveResult(sha, len(body), created=False)
    assert tail.tell() == len(body) - 1000
    wrong = io.BytesIO(bytes(len(body) - 1000))
    with pytest.raises(HashMismatch):
        store.receive(sha, wrong, offset=1000, total=len(body), max_bytes=MAX)
    assert wrong.tell() == len(body) - 1000
    beyond = io.BytesIO(b"z" * 10)
    with pytest.raises(OffsetMismatch) as caught:
        store.receive(sha, beyond, offset=len(body) + 5, max_bytes=MAX)
    assert caught.value.held == 0 and beyond.tell() == 10
    assert store.path(sha).read_bytes() == body


def test_resume_finding_the_photo_completed_meanwhile_checks_the_body(
    store: MediaStore,
) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:1000]), total=len(body), max_bytes=MAX)
    store.receive(sha, io.BytesIO(body), max_bytes=MAX)  # another phone, whole
    with pytest.raises(HashMismatch):
        store.receive(sha, io.BytesIO(b"\0" * 10), offset=len(body) - 10, max_bytes=MAX)
    late = io.BytesIO(body[1000:])
    assert not store.receive(sha, late, offset=1000, max_bytes=MAX).created
    assert late.tell() == len(body) - 1000
    assert leftovers(store) == []


def test_upload_without_total_reads_to_end_of_stream(store: MediaStore) -> None:
    body, sha = make_body()
    assert store.receive(sha, io.BytesIO(body), max_bytes=MAX).created
    assert store.path(sha).read_bytes() == body


def test_hash_mismatch_leaves_nothing(store: MediaStore) -> None:
    body, _ = make_body()
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(HashMismatch) as caught:
        store.receive(wrong, io.BytesIO(body), total=len(body), max_bytes=MAX)
    assert caught.value.expected == wrong
    assert caught.value.actual == hashlib.sha256(body).hexdigest()
    assert caught.value.size == len(body)
    assert caught.value.code == "bad_request"
    assert not store.has_original(wrong)
    assert store.held_bytes(wrong) is None
    assert leftovers(store) == []


def test_hash_mismatch_on_resumed_upload_deletes_the_partial(store: MediaStore) -> None:
    body, sha = make_body()
    corrupt = body[:1000] + b"X" + body[1001:]
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(corrupt[:5000]), total=len(body), max_bytes=MAX)
    with pytest.raises(HashMismatch):
        store.receive(sha, io.BytesIO(corrupt[5000:]), offset=5000, total=len(body), max_bytes=MAX)
    assert store.held_bytes(sha) is None
    assert leftovers(store) == []


def test_broken_stream_keeps_partial_and_resume_completes(store: MediaStore) -> None:
    body, sha = make_body(500_000)
    cut = 200_000
    with pytest.raises(Incomplete) as caught:
        store.receive(sha, BreakingStream(body[:cut]), total=len(body), max_bytes=MAX)
    assert caught.value.received == cut
    assert caught.value.total == len(body)
    assert store.held_bytes(sha) == cut  # what HEAD answers
    assert not store.has_original(sha)
    assert not store.path(sha).exists()

    # The connection drops again in the middle of the resumed request.
    second = 350_000
    with pytest.raises(Incomplete) as caught:
        store.receive(
            sha, BreakingStream(body[cut:second]), offset=cut, total=len(body), max_bytes=MAX
        )
    assert caught.value.received == second
    assert store.held_bytes(sha) == second

    result = store.receive(
        sha, io.BytesIO(body[second:]), offset=second, total=len(body), max_bytes=MAX
    )
    assert result == storage.ReceiveResult(sha, len(body), created=True)
    assert store.path(sha).read_bytes() == body
    assert leftovers(store) == []  # partial and its lock file are gone


def test_stream_ending_short_of_total_is_incomplete(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete) as caught:
        store.receive(sha, io.BytesIO(body[:1234]), total=len(body), max_bytes=MAX)
    assert caught.value.received == 1234
    assert store.held_bytes(sha) == 1234
    store.receive(sha, io.BytesIO(body[1234:]), offset=1234, total=len(body), max_bytes=MAX)
    assert store.path(sha).read_bytes() == body


def test_wrong_offset_raises_with_bytes_held(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:1000]), total=len(body), max_bytes=MAX)
    for offset in (500, 2000):
        with pytest.raises(OffsetMismatch) as caught:
            store.receive(sha, UnreadableStream(), offset=offset, total=len(body), max_bytes=MAX)
        assert caught.value.held == 1000
        assert caught.value.offset == offset
        assert caught.value.code == "conflict"
        assert "1000" in str(caught.value)
    assert store.held_bytes(sha) == 1000


def test_resume_without_any_partial_says_nothing_is_held(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(OffsetMismatch) as caught:
        store.receive(sha, UnreadableStream(), offset=10, total=len(body), max_bytes=MAX)
    assert caught.value.held == 0
    assert leftovers(store) == []  # no lock file left behind either


def test_fresh_restart_does_not_shrink_a_longer_partial(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:9000]), total=len(body), max_bytes=MAX)
    with pytest.raises(Incomplete) as caught:
        store.receive(sha, BreakingStream(body[:100]), total=len(body), max_bytes=MAX)
    assert caught.value.received == 9000
    assert store.held_bytes(sha) == 9000


def test_complete_fresh_upload_clears_an_old_partial(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:9000]), total=len(body), max_bytes=MAX)
    assert store.receive(sha, io.BytesIO(body), max_bytes=MAX).created
    assert leftovers(store) == []
    # A late resume of the old attempt learns the photo is complete, once its bytes check.
    late = store.receive(sha, io.BytesIO(body[9000:]), offset=9000, max_bytes=MAX)
    assert late.created is False


def test_declared_total_over_limit_is_refused_before_reading(store: MediaStore) -> None:
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:1000]), total=len(body), max_bytes=MAX)
    with pytest.raises(TooLarge) as caught:
        store.receive(sha, UnreadableStream(), total=MAX + 1, max_bytes=MAX)
    assert caught.value.limit == MAX
    assert caught.value.size == MAX + 1
    assert caught.value.code == "payload_too_large"
    assert store.held_bytes(sha) == 1000  # the earlier, valid partial is kept


def test_streamed_body_over_limit_leaves_nothing(store: MediaStore) -> None:
    body, sha = make_body(50_000)
    with pytest.raises(TooLarge) as caught:
        store.receive(sha, io.BytesIO(body), max_bytes=40_000)
    assert caught.value.size > 40_000
    assert store.held_bytes(sha) is None
    assert leftovers(store) == []


def test_resumed_body_over_limit_keeps_what_was_held_before(store: MediaStore) -> None:
    body, sha = make_body(50_000)
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:30_000]), max_bytes=40_000)
    with pytest.raises(TooLarge):
        store.receive(sha, io.BytesIO(body[30_000:]), offset=30_000, max_bytes=40_000)
    assert store.held_bytes(sha) == 30_000
    assert (store.root / "partial" / sha).read_bytes() == body[:30_000]


def test_body_of_exactly_the_limit_is_accepted(store: MediaStore) -> None:
    body, sha = make_body(40_000)
    assert store.receive(sha, io.BytesIO(body), max_bytes=40_000).created


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "../" + "a" * 61,
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "a" * 63 + "\n",
        "",
        None,
    ],
)
def test_names_that_are_not_a_sha256_are_rejected(store: MediaStore, name: object) -> None:
    calls = [
        lambda: store.path(name),  # type: ignore[arg-type]
        lambda: store.has_original(name),  # type: ignore[arg-type]
        lambda: store.held_bytes(name),  # type: ignore[arg-type]
        lambda: store.receive(name, io.BytesIO(b"x"), max_bytes=MAX),  # type: ignore[arg-type]
        lambda: store.write_variant(name, "thumb", b"x"),  # type: ignore[arg-type]
        lambda: store.remove(name),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
    assert list(store.root.rglob("*passwd*")) == []


def test_unknown_variant_and_bad_range_are_rejected(store: MediaStore) -> None:
    _, sha = make_body()
    with pytest.raises(ValueError):
        store.path(sha, "../originals")
    with pytest.raises(ValueError):
        store.write_variant(sha, "original", b"x")
    with pytest.raises(ValueError):
        store.receive(sha, io.BytesIO(b""), offset=-1, max_bytes=MAX)
    with pytest.raises(ValueError):
        store.receive(sha, io.BytesIO(b""), offset=10, total=5, max_bytes=MAX)


def _run_threads(count: int, target) -> list[object]:
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


class TrickleStream(io.BytesIO):
    """Small reads with a pause, so that concurrent uploads really interleave."""

    def read(self, size: int | None = -1) -> bytes:
        time.sleep(0.0005)
        return super().read(min(size if size and size > 0 else 8192, 8192))


def test_twenty_phones_uploading_the_same_photo_leave_one_correct_original(
    store: MediaStore,
) -> None:
    body, sha = make_body(400_000)
    results = _run_threads(
        20, lambda i: store.receive(sha, TrickleStream(body), total=len(body), max_bytes=MAX)
    )
    assert all(isinstance(r, storage.ReceiveResult) for r in results), results
    assert any(r.created for r in results)  # type: ignore[union-attr]
    assert store.path(sha).read_bytes() == body
    assert [p for p in store.root.joinpath("originals").rglob("*") if p.is_file()] == [
        store.path(sha)
    ]
    assert leftovers(store) == []


def test_twenty_phones_resuming_and_restarting_at_once(store: MediaStore) -> None:
    body, sha = make_body(400_000)
    held = 100_000
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:held]), total=len(body), max_bytes=MAX)

    def upload(i: int) -> object:
        if i % 2:  # resumes from what HEAD said
            stream = TrickleStream(body[held:])
            return store.receive(sha, stream, offset=held, total=len(body), max_bytes=MAX)
        return store.receive(sha, TrickleStream(body), total=len(body), max_bytes=MAX)

    results = _run_threads(20, upload)
    allowed = (storage.ReceiveResult, OffsetMismatch, UploadBusy)
    assert all(isinstance(r, allowed) for r in results), results
    assert store.path(sha).read_bytes() == body
    # Exactly one resume appended to the partial; the others found it complete or moved on.
    resumed = [r for i, r in enumerate(results) if i % 2]
    assert sum(isinstance(r, storage.ReceiveResult) and r.created for r in resumed) <= 1
    store.sweep()
    assert leftovers(store) == []


def test_concurrent_broken_and_complete_uploads(store: MediaStore) -> None:
    body, sha = make_body(300_000)

    def upload(i: int) -> object:
        if i % 3 == 0:
            stream = BreakingStream(body[: 1000 * i + 1])
        else:
            stream = TrickleStream(body)
        return store.receive(sha, stream, total=len(body), max_bytes=MAX)

    results = _run_threads(20, upload)
    assert all(isinstance(r, storage.ReceiveResult | Incomplete) for r in results), results
    assert store.path(sha).read_bytes() == body
    store.sweep()
    assert leftovers(store) == []


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for the store: sleeping advances the clock, and
    ``on_sleep`` runs at each sleep (to let a lock holder go, say)."""

    def __init__(self, on_sleep=lambda clock: None) -> None:
        self.now = 1000.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        self.on_sleep(self)


def test_append_polls_for_the_lock_until_its_timeout_then_reports_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path, lock_timeout=0.2)
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:1000]), total=len(body), max_bytes=MAX)
    clock = FakeClock()
    monkeypatch.setattr(storage, "time", clock)
    with store._locked(sha):  # another request holds the partial, and keeps it
        with pytest.raises(UploadBusy) as caught:
            store.receive(sha, io.BytesIO(body[1000:]), offset=1000, max_bytes=MAX)
    assert caught.value.held == 1000
    assert clock.now - 1000.0 >= 0.2 and clock.sleeps > 1  # waited out its timeout
    assert store.receive(sha, io.BytesIO(body[1000:]), offset=1000, max_bytes=MAX).created


def test_append_waits_for_a_lock_that_is_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path, lock_timeout=0.2)
    body, sha = make_body()
    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:1000]), total=len(body), max_bytes=MAX)
    holder = store._locked(sha)
    holder.__enter__()

    def let_go(clock: FakeClock) -> None:
        if clock.sleeps == 3:
            holder.__exit__(None, None, None)

    monkeypatch.setattr(storage, "time", FakeClock(let_go))
    result = store.receive(sha, io.BytesIO(body[1000:]), offset=1000, max_bytes=MAX)
    assert result.created and store.path(sha).read_bytes() == body


def test_files_in_progress_never_show_as_originals(store: MediaStore) -> None:
    body, sha = make_body()
    # What a crash leaves: a complete-looking temp file and a partial, both with the
    # photo's bytes, but not under the real name.
    (store.root / "tmp" / f"{sha}.upload.123.abc.tmp").write_bytes(body)
    (store.root / "partial" / sha).write_bytes(body[:5000])
    (store.root / "partial" / f"{sha}.lock").write_bytes(b"")
    assert not store.has_original(sha)
    assert not store.path(sha).exists()
    assert store.held_bytes(sha) == 5000
    # Resuming from what is held works after the crash.
    store.receive(sha, io.BytesIO(body[5000:]), offset=5000, total=len(body), max_bytes=MAX)
    assert store.path(sha).read_bytes() == body


def test_sweep_removes_stale_leftovers_only(store: MediaStore) -> None:
    body, sha = make_body()
    other_body, other = make_body(seed=2)
    old = time.time() - 2 * 86400
    stale_tmp = store.root / "tmp" / f"{sha}.upload.1.aa.tmp"
    stale_tmp.write_bytes(body)
    os.utime(stale_tmp, (old, old))
    fresh_tmp = store.root / "tmp" / f"{sha}.upload.1.bb.tmp"
    fresh_tmp.write_bytes(body)
    with pytest.raises(Incomplete):
        store.receive(other, BreakingStream(other_body[:10]), max_bytes=MAX)
    orphan_lock = store.root / "partial" / f"{sha}.lock"
    orphan_lock.write_bytes(b"")

    removed = store.sweep()
    assert stale_tmp in removed
    assert fresh_tmp.exists()
    assert store.held_bytes(other) == 10  # recent partials are kept
    assert not orphan_lock.exists()
    assert store.sweep(partial_age=0) == [store.root / "partial" / other]
    assert store.held_bytes(other) is None


CRASH_SCRIPT = """
import sys, time
from inspect_app.photos.storage import MediaStore

root, sha, body_path, offset, total = sys.argv[1:6]
offset, total = int(offset), int(total)
body = open(body_path, "rb").read()

class Stream:
    pos = offset
    def read(self, size=-1):
        if self.pos >= offset + 100_000:
            print("ready", flush=True)
            time.sleep(60)  # killed here, in the middle of the upload
        chunk = body[self.pos:self.pos + min(size, 10_000)]
        self.pos += len(chunk)
        return chunk

MediaStore(root).receive(sha, Stream(), offset=offset, total=total, max_bytes=10**7)
"""


@pytest.mark.parametrize("offset", [0, 50_000])
def test_process_killed_mid_upload_leaves_no_original(
    store: MediaStore, tmp_path: Path, offset: int
) -> None:
    body, sha = make_body(400_000)
    body_path = tmp_path / "body"
    body_path.write_bytes(body)
    if offset:
        with pytest.raises(Incomplete):
            store.receive(sha, BreakingStream(body[:offset]), total=len(body), max_bytes=MAX)
    child = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(store.root), sha, str(body_path)]
        + [str(offset), str(len(body))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()

    assert not store.has_original(sha)
    held = store.held_bytes(sha)
    if offset:
        # Appending goes straight to the partial: what was written is a valid prefix.
        assert held is not None and offset <= held <= offset + 100_000
        assert (store.root / "partial" / sha).read_bytes() == body[:held]
    else:
        # A fresh upload's temp file is not visible as anything.
        assert held is None
    result = store.receive(
        sha, io.BytesIO(body[held or 0 :]), offset=held or 0, total=len(body), max_bytes=MAX
    )
    assert result.created
    assert store.path(sha).read_bytes() == body


def test_write_variant_is_atomic(store: MediaStore) -> None:
    _, sha = make_body()
    target = store.write_variant(sha, "report", b"first")
    assert target == store.root / "report" / sha[:2] / sha[2:4] / f"{sha}.jpg"
    assert target.read_bytes() == b"first"

    def failing_writer(out) -> None:
        out.write(b"half of a new ver")
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.write_variant(sha, "report", failing_writer)
    assert target.read_bytes() == b"first"
    assert leftovers(store) == []
    store.write_variant(sha, "thumb", lambda out: out.write(b"thumb"))
    assert store.path(sha, "thumb").read_bytes() == b"thumb"


def test_remove_deletes_original_variants_and_partial(store: MediaStore) -> None:
    body, sha = make_body()
    store.receive(sha, io.BytesIO(body), max_bytes=MAX)
    store.write_variant(sha, "report", b"r")
    store.write_variant(sha, "thumb", b"t")
    store.remove(sha)
    for variant in storage.VARIANTS:
        assert not store.path(sha, variant).exists()
    assert store.held_bytes(sha) is None
    store.remove(sha)  # nothing there: no error

    with pytest.raises(Incomplete):
        store.receive(sha, BreakingStream(body[:10]), max_bytes=MAX)
    store.remove(sha)
    assert store.held_bytes(sha) is None
    assert leftovers(store) == []
