"""Measuring fairly on a shared, noisy machine: the method every ``bench/`` ratio uses.

- **Interleaved blocks.** A and B are not run one after the other (10 s of A, then 10 s
  of B, while another engineer's test run comes and goes): each round runs a block of a
  few seconds of every phase, the order turning each round, and a ratio is taken within
  each round, so both sides of it saw about the same machine. Rounds give min / median /
  max.
- **CPU time per request**, beside the wall rate: ``utime + stime`` from
  ``/proc/<pid>/stat`` of the server's processes (a process and all its descendants,
  e.g. the gunicorn master and its workers; PostgreSQL backends counted as "db"), read
  before and after each block. A busy neighbour slows the wall rate; it barely moves
  the CPU a request costs.
- **The client apart.** A load client on the same two cores takes CPU from the server.
  ``split_cpus`` gives the client one CPU and the server the others (``pin``, or
  ``preexec_fn=pinned(...)`` for a subprocess), and the client's own CPU is counted and
  printed apart, never in the server's.
- **The machine's load** (``load_note``): the load average before and after, printed
  with the figures.

Used as a library by the scripts beside it::

    from measure import Meter, interleave, print_phases, print_ratio
    results = interleave({"a": block_a, "b": block_b}, rounds=5, seconds=3,
                         meters={"app": Meter.tree(server.pid)})
    print_phases(results); print_ratio(results, "a", "b", goal=0.7)

A block is a function ``block(seconds) -> requests done``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# CPU time from /proc


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of these processes (all their threads), in seconds; gone ones count 0."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            # After the name: state, ppid, ... utime is field 14, stime 15 (1-based).
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def process_tree(root: int) -> list[int]:
    """The process and all its descendants (by parent pid, read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


@dataclass
class Meter:
    """A CPU clock: seconds of CPU spent so far by what it watches."""

    read: Callable[[], float]

    @classmethod
    def tree(cls, root: int) -> Meter:
        """A process and its descendants, found afresh at each reading (workers restart)."""
        return cls(lambda: cpu_seconds(process_tree(root)))

    @classmethod
    def pids(cls, find: Callable[[], Iterable[int]]) -> Meter:
        """Processes found at each reading, e.g. the PostgreSQL backends of one database."""
        return cls(lambda: cpu_seconds(find()))

    @classmethod
    def this_process(cls) -> Meter:
        return cls(time.process_time)


def postgres_backends(url: str, database: str) -> Callable[[], list[int]]:
    """A finder of the PostgreSQL backend pids connected to ``database`` (local server).

    The backends are PostgreSQL's processes, not the app's children: without them the
    CPU a request costs on PostgreSQL would leave out the database's part.
    """
    import psycopg

    admin = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def find() -> list[int]:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
        return [pid for (pid,) in rows]

    return find


def postgres_cpu(url: str, database: str) -> Callable[[], float]:
    """A CPU clock of PostgreSQL's work for ``database`` (local server): its client
    backends, plus the CPU of the server's processes that have ended (the postmaster's
    reaped children, ``cutime + cstime``).

    A parallel query's workers are processes of their own that start and end within a
    query: no reading of the backends ever sees them, and they can do two thirds of a
    scan. Once ended, their CPU is the postmaster's children's. So is that of any other
    backend of the same server that ends meanwhile (another database's session), which
    only ever adds: a block that saw one reads high, and the median over rounds is the
    figure to go by.
    """
    import psycopg

    admin = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    own = admin.execute("SELECT pg_backend_pid()").fetchone()[0]
    postmaster = int(_stat(own)[1])

    def read() -> float:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            (database,),
        ).fetchall()
        fields = _stat(postmaster)
        ended = (int(fields[13]) + int(fields[14])) / CLK_TCK if fields else 0.0
        return cpu_seconds(pid for (pid,) in rows) + ended

    return read


# ---------------------------------------------------------------------------
# CPUs and load


def split_cpus() -> tuple[set[int], set[int]] | None:
    """(client CPUs, server CPUs) when there are at least two CPUs to share, else None."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[0]}, set(cpus[1:])


def pin(cpus: set[int] | None, pid: int = 0) -> None:
    """Pin a process (this one by default) to the CPUs; its later children inherit them."""
    if cpus:
        os.sched_setaffinity(pid, cpus)


def pinned(cpus: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` for subprocess.Popen that pins the child before it starts."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def load_note() -> str:
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"load average {one} / {five} / {fifteen} (1 / 5 / 15 min) on {os.cpu_count()} CPUs"


# ---------------------------------------------------------------------------
# Interleaved blocks


@dataclass
class Block:
    requests: int
    wall: float
    cpu: dict[str, float] = field(default_factory=dict)  # meter name -> CPU seconds

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def cpu_per_request(self, names: Iterable[str]) -> float:
        return sum(self.cpu[name] for name in names) / self.requests if self.requests else 0.0


@dataclass
class Results:
    phases: dict[str, list[Block]]
    server: tuple[str, ...]  # meters that are the server's (summed for CPU per request)
    client: tuple[str, ...]  # meters that are the client's (printed apart)
    load_before: str
    load_after: str


def interleave(
    phases: dict[str, Callable[[float], int]],
    rounds: int,
    seconds: float,
    meters: dict[str, Meter],
    client: dict[str, Meter] | None = None,
    warmup: float = 1.0,
    order: Callable[[int], list[str]] | None = None,
    before_round: Callable[[int], None] | None = None,
) -> Results:
    """Run every phase for ``seconds`` in each of ``rounds`` rounds, turning the order.

    ``meters`` are the server's CPU clocks, ``client`` the load client's (counted apart).
    Each phase first runs ``warmup`` seconds unmeasured (caches, connections, plans), in
    the order of ``phases``. Phases that depend on each other (an import, then its
    re-import) give ``order``, the names in round r, instead of the turning order, and
    ``before_round(r)``, run unmeasured before each round (a fresh database).
    """
    client = client or {}
    every = {**meters, **client}
    names = list(phases)
    for name in names:
        if warmup:
            phases[name](warmup)
    load_before = load_note()
    results: dict[str, list[Block]] = {name: [] for name in names}
    for r in range(rounds):
        if before_round is not None:
            before_round(r)
        turned = names[r % len(names) :] + names[: r % len(names)]
        for name in order(r) if order is not None else turned:
            before = {key: meter.read() for key, meter in every.items()}
            start = time.perf_counter()
            done = phases[name](seconds)
            wall = time.perf_counter() - start
            spent = {key: meter.read() - before[key] for key, meter in every.items()}
            results[name].append(Block(done, wall, spent))
    return Results(results, tuple(meters), tuple(client), load_before, load_note())


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def fmt_spread(values: list[float], fmt: str = "{:.2f}", sep: str = " / ") -> str:
    return sep.join(fmt.format(v) for v in spread(values))


def print_phases(results: Results, out=print) -> None:
    """Per phase: rate and CPU per request (server, and each meter), min / median / max."""
    out(f"  {results.load_before}  (before)")
    head = f"  {'phase':<34}{'req/s min / med / max':>28}{'server CPU ms/req':>26}"
    # Each server meter when there are several (app, db), and the client's apart.
    parts = [*(results.server if len(results.server) > 1 else ()), *results.client]
    out(head + "".join(f"{m + ' ms/req':>22}" for m in parts))
    for name, blocks in results.phases.items():
        rates = [b.rate for b in blocks]
        cpu = [b.cpu_per_request(results.server) * 1000 for b in blocks]
        line = f"  {name:<34}{fmt_spread(rates, '{:.0f}'):>28}{fmt_spread(cpu):>26}"
        for m in parts:
            line += f"{fmt_spread([b.cpu_per_request((m,)) * 1000 for b in blocks]):>22}"
        out(line)
    out(f"  {results.load_after}  (after)")


def ratios(results: Results, a: str, b: str) -> tuple[list[float], list[float]]:
    """Round by round: rate(a) / rate(b), and CPU/request(b) / CPU/request(a).

    Both read "a at x of b": 1.0 is as fast / as cheap, 0.5 half the rate / twice the CPU.
    """
    by_rate, by_cpu = [], []
    for block_a, block_b in zip(results.phases[a], results.phases[b], strict=True):
        by_rate.append(block_a.rate / block_b.rate if block_b.rate else 0.0)
        cpu_a = block_a.cpu_per_request(results.server)
        cpu_b = block_b.cpu_per_request(results.server)
        by_cpu.append(cpu_b / cpu_a if cpu_a else 0.0)
    return by_rate, by_cpu


def print_ratio(
    results: Results, a: str, b: str, goal: float | None = None, label: str | None = None, out=print
) -> bool:
    """Print "a / b" by rate and by CPU (min / median / max over rounds); True if the
    median of both meets ``goal`` (at least ``goal`` of b)."""
    by_rate, by_cpu = ratios(results, a, b)
    ok = goal is None or (statistics.median(by_rate) >= goal and statistics.median(by_cpu) >= goal)
    verdict = "" if goal is None else f"   goal >= {goal:.2f}: {'met' if ok else 'NOT met'}"
    out(
        f"  {label or f'{a} / {b}'}: by rate {fmt_spread(by_rate)}, "
        f"by CPU/request {fmt_spread(by_cpu)}  (min / median / max){verdict}"
    )
    return ok


def print_cost_ratio(
    results: Results,
    a: str,
    b: str,
    goal: float | None = None,
    label: str | None = None,
    out=print,
) -> bool:
    """Print "a costs x times b" (wall time and CPU per request; lower is better for a);
    True if the median of both is at most ``goal``."""
    by_rate, by_cpu = ratios(results, a, b)
    by_time = [1 / r if r else float("inf") for r in by_rate]
    by_cpu_cost = [1 / r if r else float("inf") for r in by_cpu]
    ok = goal is None or (
        statistics.median(by_time) <= goal and statistics.median(by_cpu_cost) <= goal
    )
    verdict = "" if goal is None else f"   goal <= {goal:.2f}x: {'met' if ok else 'NOT met'}"
    out(
        f"  {label or f'{a} / {b}'}: time {fmt_spread(by_time)}x, "
        f"CPU {fmt_spread(by_cpu_cost)}x  (min / median / max){verdict}"
    )
    return ok
