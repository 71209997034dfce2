"""Photo ingest benchmark (issue 19, item 4).

In one run:

1. Times making every variant of a photo (``imaging.render``: open, check, EXIF, decode,
   orientation, ``report`` + ``thumb`` + ``print`` encoded) against the floor of that work
   for the same file: libjpeg-turbo decoding it at 1/8 scale (simplejpeg), which still reads
   all of its entropy-coded data and does little else. Goal: **all variants of a 12 MP phone
   JPEG in at most 2x that floor**, in the same process, with memory reused (the decode
   buffer is the thread's, Pillow keeps nothing: see the page faults column). The photos:
   a 12 MP JPEG (jolla.jpg upscaled to 4000x3000, quality 90, EXIF orientation 6, the
   usual phone portrait), and the real phone photos of ``shared/photos`` as they are:
   iphone_6.jpg and jolla.jpg (8 MP), each also with orientation 6 patched into its own
   EXIF (same bytes otherwise), and nokia_8.3.heif (16 MP HEIF, decoded fully by libheif:
   no JPEG floor, its time is printed alone).

   The render and the floor are timed in alternating blocks (per round: a warm-up call and
   ``--repeat`` timed calls of one, then of the other; ``--rounds`` rounds), so that a change
   in the machine's load hits both. Each figure is min / median / max over all timed calls,
   wall and CPU time (``time.process_time``); the ratio is taken per round (median of the
   round's render over median of its floor) and printed as min / median / max over rounds.
   A per-step breakdown shows where the time of the 12 MP render goes.
2. Makes a ~20 MB JPEG and measures the peak RSS of a fresh interpreter that streams it
   through ``MediaStore.receive`` and then runs ``imaging.process``, next to the peak RSS of
   bare interpreters as baselines. Goal: under 150 MB for the whole process. The photo is
   5472x3648 (20 MP, a common camera size): decoded at 3/8 scale (2052x1368) and resized.

   The peak is the child's ``VmHWM`` (/proc/self/status), not ``ru_maxrss``: Linux carries
   ``ru_maxrss`` over ``execve`` from the process that forked the child, so every child of
   this (by then large) benchmark would report the benchmark's own peak. ``VmHWM`` belongs
   to the new program's address space alone.
3. With ``--heic``: the same memory measurement for a 12 MP HEIC (iPhone size, 4032x3024).
   HEIC cannot be decoded at a reduced scale, so it is the expensive case. Encoding it
   here takes a while.

Usage: ``.venv/bin/python bench/photo_ingest.py [--repeat N] [--rounds N] [--heic]``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import simplejpeg
from PIL import ExifTags, Image

PROJECT = Path(__file__).resolve().parents[1]
PHOTOS = PROJECT.parent / "shared" / "photos"
sys.path.insert(0, str(PROJECT))

from inspect_app.photos import imaging  # noqa: E402

TIME_GOAL = 2.0  # all variants / the 1/8-scale decode of the same file
MEMORY_GOAL_MB = 150
UPLOAD_MB = 20
ROUNDS = 5  # blocks of each action in the alternating timing


class Timing:
    """Wall time, CPU time and minor page faults of each timed call of one action."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.faults: list[int] = []
        self.rounds: list[tuple[int, int]] = []  # (first, end) index of each round's calls

    def call(self, action: Callable[[], object]) -> None:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        cpu = time.process_time()
        started = time.perf_counter()
        action()
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(time.process_time() - cpu)
        self.faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)

    def round_medians(self, values: list[float]) -> list[float]:
        return [statistics.median(values[first:end]) for first, end in self.rounds]


def alternating(
    actions: dict[str, Callable[[], object]], repeat: int, rounds: int
) -> dict[str, Timing]:
    """Time ``actions`` in alternating blocks: per round and action, one untimed warm-up call
    and ``repeat`` timed calls."""
    timings = {name: Timing() for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            action()
            first = len(timings[name].wall)
            for _ in range(repeat):
                timings[name].call(action)
            timings[name].rounds.append((first, len(timings[name].wall)))
    return timings


def spread(values: list[float], scale: float = 1000.0, spec: str = "6.1f") -> str:
    ordered = sorted(values)
    low, middle, high = ordered[0], statistics.median(ordered), ordered[-1]
    return f"{low * scale:{spec}} / {middle * scale:{spec}} / {high * scale:{spec}}"


def best_of(repeat: int, action: Callable[[], object]) -> float:
    action()  # warm up caches and lazy imports
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def orientation_6() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    return exif.tobytes()


def make_12mp(path: Path) -> None:
    with Image.open(PHOTOS / "jolla.jpg") as src:
        big = src.resize((4000, 3000), Image.Resampling.BICUBIC)
    big.save(path, "JPEG", quality=90, exif=orientation_6())


def with_orientation(data: bytes, orientation: int) -> bytes:
    """The same JPEG bytes with the EXIF orientation tag set to ``orientation``."""
    start = data.index(b"Exif\x00\x00") + 6
    order = "<" if data[start : start + 2] == b"II" else ">"
    ifd = start + struct.unpack(order + "I", data[start + 4 : start + 8])[0]
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    for n in range(count):
        entry = ifd + 2 + 12 * n
        if struct.unpack(order + "H", data[entry : entry + 2])[0] == ExifTags.Base.Orientation:
            value = struct.pack(order + "H", orientation)
            return data[: entry + 8] + value + data[entry + 10 :]
    raise ValueError("no orientation tag")


def make_upload(path: Path, target_mb: int) -> tuple[int, int]:
    """A photo with enough fine detail (added noise) to weigh about ``target_mb``."""
    size = (5472, 3648)  # 20 MP: decoded at 3/8 scale and resized, about the heaviest case
    with Image.open(PHOTOS / "jolla.jpg") as src:
        photo = src.resize(size, Image.Resampling.BILINEAR)
    noise = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    amount = 0.3
    while True:
        buffer = io.BytesIO()
        Image.blend(photo, noise, amount).save(buffer, "JPEG", quality=95, exif=orientation_6())
        if buffer.tell() >= target_mb * 2**20 or amount >= 1:
            break
        amount += 0.05
    path.write_bytes(buffer.getvalue())
    return size


def floor(data: bytes) -> None:
    """libjpeg-turbo decoding the file at 1/8 scale: the entropy decoding and little else."""
    height, width, _space, _sub = simplejpeg.decode_jpeg_header(data)
    simplejpeg.decode_jpeg(data, "RGB", min_height=-(-height // 8), min_width=-(-width // 8))


def breakdown(path: Path, repeat: int) -> dict[str, float]:
    """The steps of ``imaging.render`` for a JPEG, timed one by one (same settings)."""
    data = path.read_bytes()
    with Image.open(path) as im:
        size = im.size
    eighths = imaging._jpeg_eighths(size)
    width, height = (imaging._scaled(side, eighths) for side in size)

    def decode() -> Image.Image:
        with open(path, "rb") as fp, Image.open(fp) as im:
            return imaging._decode_jpeg(fp, im)

    decoded = decode()
    upright = decoded.transpose(Image.Transpose.ROTATE_270)

    def encode(im: Image.Image, **params: object) -> bytes:
        buffer = io.BytesIO()
        im.save(buffer, "JPEG", **params)
        return buffer.getvalue()

    thumb_size = imaging._fit(upright.size, imaging.VARIANT_LONG_SIDE["thumb"])
    factor = min(upright.width // thumb_size[0], upright.height // thumb_size[1])
    small = upright.reduce(factor)
    whole = (0, 0, upright.width / factor, upright.height / factor)

    def smalls() -> None:
        reduced = upright.reduce(factor)
        encode(reduced.resize(thumb_size, Image.Resampling.BICUBIC, box=whole), quality=80)
        print_size = imaging._fit_box(upright.size, imaging.PRINT_BOX)
        encode(reduced.resize(print_size, Image.Resampling.BICUBIC, box=whole), quality=78)

    return {
        "open, verify, reopen, EXIF (read_info)": best_of(repeat, lambda: imaging.read_info(path)),
        f"decode at {eighths}/8 to {width}x{height} (RGBX, reused buffer)": best_of(repeat, decode),
        "transpose (orientation 6)": best_of(
            repeat, lambda: decoded.transpose(Image.Transpose.ROTATE_270)
        ),
        "encode report, baseline q85": best_of(
            repeat, lambda: encode(upright, quality=imaging.REPORT_QUALITY)
        ),
        f"thumb + print: reduce by {factor}, resize, encode": best_of(repeat, smalls),
        "floor: decode at 1/8 (simplejpeg)": best_of(repeat, lambda: floor(data)),
        "for reference: Pillow full decode": best_of(repeat, lambda: full_decode(path)),
        "for reference: Pillow draft at 1/8": best_of(repeat, lambda: pillow_eighth(path)),
        f"(reduced copy for the small ones: {small.size[0]}x{small.size[1]})": 0.0,
    }


def full_decode(path: Path) -> None:
    with Image.open(path) as im:
        im.load()


def pillow_eighth(path: Path) -> None:
    with Image.open(path) as im:
        im.draft("RGB", (-(-im.width // 8), -(-im.height // 8)))
        im.load()


def time_photo(label: str, path: Path, repeat: int, rounds: int) -> float | None:
    """Render against floor for one photo, alternately; prints the figures and returns the
    worst round's ratio (``None`` for a HEIC, which has no JPEG floor)."""
    data = path.read_bytes()
    actions: dict[str, Callable[[], object]] = {"render": lambda: imaging.render(path)}
    is_jpeg = imaging.sniff(data[:64]) == imaging.JPEG
    if is_jpeg:
        actions["floor"] = lambda: floor(data)
    timings = alternating(actions, repeat, rounds)
    render = timings["render"]
    print(f"-- {label}")
    print(
        f"    all variants, imaging.render   wall {spread(render.wall)} ms"
        f"   CPU {spread(render.cpu)} ms   faults {statistics.median(render.faults):6.0f}"
    )
    if not is_jpeg:
        return None
    base = timings["floor"]
    print(
        f"    floor, 1/8 decode (simplejpeg) wall {spread(base.wall)} ms"
        f"   CPU {spread(base.cpu)} ms   faults {statistics.median(base.faults):6.0f}"
    )
    wall = [
        r / f
        for r, f in zip(
            render.round_medians(render.wall), base.round_medians(base.wall), strict=True
        )
    ]
    cpu = [
        r / f
        for r, f in zip(render.round_medians(render.cpu), base.round_medians(base.cpu), strict=True)
    ]
    print(
        f"    ratio render / floor, by round: wall {spread(wall, 1, '.2f')}"
        f"   CPU {spread(cpu, 1, '.2f')}"
    )
    return max(max(wall), max(cpu))


def bench_time(workdir: Path, repeat: int, rounds: int) -> None:
    twelve = workdir / "12mp.jpg"
    make_12mp(twelve)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"== variants against the floor; {rounds} alternating rounds of {repeat} calls each;"
        f" load {load}; min / median / max"
    )
    cases = [("12 MP JPEG 4000x3000, orientation 6 (jolla upscaled)", twelve)]
    for name in ("iphone_6.jpg", "jolla.jpg"):
        data = (PHOTOS / name).read_bytes()
        cases.append((f"{name} as it is (8 MP)", PHOTOS / name))
        rotated = workdir / f"rotated-{name}"
        rotated.write_bytes(with_orientation(data, 6))
        cases.append((f"{name} with orientation 6 patched into its EXIF", rotated))
    cases.append(("nokia_8.3.heif (16 MP HEIF, no JPEG floor)", PHOTOS / "nokia_8.3.heif"))
    worst = {}
    for label, path in cases:
        worst[label] = time_photo(label, path, repeat, rounds)
    twelve_worst = worst[cases[0][0]]
    verdict = "met" if twelve_worst is not None and twelve_worst <= TIME_GOAL else "NOT met"
    print(
        f"== goal: all variants of the 12 MP JPEG <= {TIME_GOAL:.0f}x the floor in every round:"
        f" {verdict} (worst round {twelve_worst:.2f})"
    )
    print("-- steps of the 12 MP render, timed separately (best of each):")
    for step, seconds in breakdown(twelve, repeat * rounds).items():
        print(f"    {step:<56} {seconds * 1000:7.1f} ms")


MEMORY_SCRIPT = """
import json, sys

def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

mode = sys.argv[1]
if mode == "bare":
    pass
elif mode == "pillow":
    import PIL.Image, pillow_heif
elif mode == "modules":
    # inspect_app/__init__.py brings in the app: Flask, SQLAlchemy, models.
    from inspect_app.photos import imaging, storage
elif mode == "upload":
    from inspect_app.photos import imaging
    from inspect_app.photos.storage import MediaStore
    root, path, sha = sys.argv[2:5]
    before = peak_kib()
    store = MediaStore(root)
    with open(path, "rb", buffering=0) as body:  # stands in for the request stream
        result = store.receive(sha, body, max_bytes=32 * 2**20)
    after_receive = peak_kib()
    info = imaging.process(store, sha)
    print(json.dumps({"before": before, "after_receive": after_receive, "peak": peak_kib(),
                      "size": result.size}))
    sys.exit()
elif mode == "render":
    import time
    from inspect_app.photos import imaging
    before = peak_kib()
    started = time.perf_counter()
    try:
        imaging.render(sys.argv[2])
        outcome = "accepted"
    except imaging.ImageTooLarge:
        outcome = "refused (413)"
    print(json.dumps({"before": before, "peak": peak_kib(), "outcome": outcome,
                      "seconds": time.perf_counter() - started}))
    sys.exit()
print(json.dumps({"peak": peak_kib()}))
"""


def run_child(*args: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT,
    ).stdout
    return json.loads(out)


def make_heic(path: Path) -> tuple[int, int]:
    size = (4032, 3024)
    with Image.open(PHOTOS / "jolla.jpg") as src:
        photo = src.resize(size, Image.Resampling.BILINEAR)
    photo.save(path, "HEIF", quality=80, enc_params={"preset": "ultrafast"})
    return size


def bench_heic_memory(workdir: Path) -> None:
    path = workdir / "upload.heic"
    size = make_heic(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run_child("upload", str(workdir / "media-heic"), str(path), sha)
    print(
        f"== HEIC {size[0]}x{size[1]}, {path.stat().st_size / 2**20:.1f} MB: peak RSS (VmHWM)"
        f" {result['peak'] / 1024:.1f} MB (after imports {result['before'] / 1024:.1f} MB;"
        f" goal < {MEMORY_GOAL_MB} MB)"
    )


def bench_memory(workdir: Path) -> None:
    path = workdir / "upload.jpg"
    size = make_upload(path, UPLOAD_MB)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    mb = 1024  # VmHWM is in KiB

    print(
        f"== peak RSS (VmHWM) of a fresh interpreter; upload {size[0]}x{size[1]} JPEG,"
        f" {len(data) / 2**20:.1f} MB"
    )
    for mode, label in (
        ("bare", "bare python"),
        ("pillow", "python + PIL.Image + pillow_heif"),
        ("modules", "python + inspect_app (Flask app) + photos"),
    ):
        print(f"    {label:<44} {run_child(mode)['peak'] / mb:6.1f} MB")
    result = run_child("upload", str(workdir / "media-mem"), str(path), sha)
    peak = result["peak"] / mb
    print(f"    upload run: after imports                    {result['before'] / mb:6.1f} MB")
    print(
        f"    upload run: after storage.receive            {result['after_receive'] / mb:6.1f} MB"
    )
    print(
        f"    upload run: after imaging.process (peak)     {peak:6.1f} MB"
        f"  (goal < {MEMORY_GOAL_MB} MB)"
    )


def png_declaring(path: Path, width: int, height: int) -> None:
    """A 1-bit PNG of any size in a few hundred KB: every row zero."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    compressor = zlib.compressobj(9)
    row = bytes(1 + -(-width // 8))
    idat = b"".join(compressor.compress(row * 1000) for _ in range(height // 1000))
    idat += compressor.compress(row * (height % 1000)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def bench_limits(workdir: Path, heic: bool) -> None:
    """Peak memory and time of imaging.render at and beyond the pixel limits, each in a
    fresh interpreter (what tests/test_imaging.py no longer measures)."""
    cases: list[tuple[str, Path]] = []
    png49 = workdir / "49mp.png"
    png_declaring(png49, 7000, 7000)
    cases.append(("PNG 7000x7000 (49 MP), 1-bit, tiny file", png49))
    bomb = workdir / "bomb.png"
    png_declaring(bomb, 30_000, 30_000)
    cases.append(("PNG 30000x30000 bomb", bomb))
    png25 = workdir / "25mp.png"
    with Image.open(PHOTOS / "jolla.jpg") as src:
        src.resize((5000, 5000), Image.Resampling.BILINEAR).save(png25, "PNG", compress_level=1)
    cases.append(("PNG 5000x5000 (25 MP), RGB: the largest accepted", png25))
    cases.append(("corrupted.jpg (shared/photos)", PHOTOS / "corrupted.jpg"))
    if heic:
        path = workdir / "24mp.heic"
        with Image.open(PHOTOS / "jolla.jpg") as src:
            photo = src.resize((6000, 4000), Image.Resampling.BILINEAR)
        photo.save(path, "HEIF", quality=80, enc_params={"preset": "ultrafast"})
        cases.append(("HEIC 6000x4000 (24 MP)", path))
    print("== pixel limits: imaging.render in a fresh interpreter (peak RSS = VmHWM)")
    for label, path in cases:
        result = run_child("render", str(path))
        print(
            f"    {label:<50} {result['outcome']:<14} {result['seconds']:6.2f} s"
            f"  peak {result['peak'] / 1024:6.1f} MB (after imports {result['before'] / 1024:.1f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    parser.add_argument("--heic", action="store_true", help="also a 12 MP HEIC upload")
    parser.add_argument("--limits-only", action="store_true", help="only the pixel limits")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="photo-ingest-") as tmp:
        bench_limits(Path(tmp), args.heic)
        if args.limits_only:
            return
        bench_time(Path(tmp), args.repeat, args.rounds)
        bench_memory(Path(tmp))
        if args.heic:
            bench_heic_memory(Path(tmp))


if __name__ == "__main__":
    main()
