"""Performance benchmark: the engine and the CLI over a folder, next to markdownlint-cli2.

    python bench/perf.py [FOLDER] [--jobs N] [--runs N] [--markdownlint PATH] [--json FILE]

FOLDER defaults to ../shared/corpus beside the checkout; the script skips (exit 0)
with a message when it is absent. Every measured phase runs in a fresh process so
peak-memory figures do not leak into each other:

- engine:  `checks.review_document` over every Markdown file, one process, files read
           beforehand (documents/s, MB/s, peak RSS), then the file nearest 50 KB
           reviewed many times (median ms);
- cli:     `product-review check FOLDER --format json` end to end, with --jobs N
           (the parallel path) and with --jobs 1;
- markdownlint-cli2 "**/*.md" run inside FOLDER (path from --markdownlint, the
           MARKDOWNLINT_CLI2 variable, bench/node_modules, or PATH; skipped if not found).

Peak memory of a process tree is reported two ways: the largest single process
(getrusage / wait4 ru_maxrss, as /usr/bin/time shows it) and the largest sum of the
resident sizes of all processes in the tree at one moment (sampled every 20 ms from
/proc; shared copy-on-write pages of forked workers count once per process, so the
sum errs on the high side).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpus import usable_view

CHECKOUT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = CHECKOUT.parent / "shared" / "corpus"
# `npm install --prefix bench markdownlint-cli2` puts it here.
MARKDOWNLINT_CANDIDATES = (CHECKOUT / "bench" / "node_modules" / ".bin" / "markdownlint-cli2",)
SINGLE_DOCUMENT_BYTES = 50 * 1024
SAMPLE_INTERVAL_S = 0.02

TARGET_RATIO = 0.10  # our corpus time / markdownlint-cli2's
TARGET_PEAK_MB = 300.0
TARGET_SINGLE_MS = 10.0


@dataclass
class Measurement:
    label: str
    documents: int
    megabytes: float
    wall_s: float
    peak_process_mb: float  # largest single process (ru_maxrss)
    peak_tree_mb: float | None = None  # sampled sum over the process tree
    runs: int = 1
    cpu_s: float | None = None  # CPU time of the measured processes (median run)
    others_cpu_s: float | None = None  # CPU used by other work meanwhile (worst run)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.wall_s if self.wall_s else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.megabytes / self.wall_s if self.wall_s else 0.0


def markdown_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in (".md", ".markdown") and path.is_file()
    )


def _maxrss_mb(kilobytes: int) -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes; this benchmark targets Linux).
    return kilobytes / 1024


# --- phase run inside a fresh process -----------------------------------------------


def engine_phase(folder: Path, single_runs: int) -> dict[str, Any]:
    """Runs in its own process; prints one JSON object."""
    import_started = time.perf_counter()
    from checks import review_document

    import_s = time.perf_counter() - import_started
    texts: list[tuple[str, str, int]] = []
    for path in markdown_files(folder):
        data = path.read_bytes()
        try:
            texts.append((str(path.relative_to(folder)), data.decode("utf-8"), len(data)))
        except UnicodeDecodeError:
            continue
    started = time.perf_counter()
    for relative, text, _ in texts:
        review_document(text, relative)
    elapsed = time.perf_counter() - started
    peak_mb = _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    nearest = min(texts, key=lambda item: abs(item[2] - SINGLE_DOCUMENT_BYTES))
    for _ in range(3):  # warm caches (regexes, tables) like a long-running server would
        review_document(nearest[1], nearest[0])
    timings = []
    for _ in range(single_runs):
        one_started = time.perf_counter()
        review_document(nearest[1], nearest[0])
        timings.append((time.perf_counter() - one_started) * 1000)
    return {
        "documents": len(texts),
        "megabytes": sum(size for *_, size in texts) / 1e6,
        "wall_s": elapsed,
        "import_s": import_s,
        "peak_process_mb": peak_mb,
        "single": {
            "path": nearest[0],
            "kilobytes": nearest[2] / 1024,
            "runs": single_runs,
            "median_ms": statistics.median(timings),
            "min_ms": min(timings),
            "p90_ms": sorted(timings)[int(0.9 * (len(timings) - 1))],
        },
    }


# --- measuring a process tree from outside ------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            resident_pages = int(handle.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident_pages * (os.sysconf("SC_PAGE_SIZE") // 1024)


class TreeSampler(threading.Thread):
    """Largest summed RSS of a process and its descendants, sampled from /proc."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.peak_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            tree, frontier = [], [self.pid]
            while frontier:
                pid = frontier.pop()
                tree.append(pid)
                frontier.extend(_children(pid))
            total = sum(_rss_kb(pid) for pid in tree)
            if total > self.peak_kb:
                self.peak_kb, self.peak_processes = total, len(tree)
            self._stop_event.wait(SAMPLE_INTERVAL_S)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def cpu_seconds_busy() -> float:
    """CPU time spent by every process on the machine since boot (from /proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_idle(max_wait_s: float) -> bool:
    """Wait until other work uses under 15% of one CPU, for at most `max_wait_s`."""
    deadline = time.monotonic() + max_wait_s
    while True:
        before = cpu_seconds_busy()
        time.sleep(1.0)
        if cpu_seconds_busy() - before < 0.15:
            return True
        if time.monotonic() >= deadline:
            return False


@dataclass
class TreeRun:
    wall_s: float
    returncode: int
    peak_process_mb: float
    peak_tree_mb: float
    processes: int
    stdout: bytes
    cpu_s: float  # CPU time of the measured process tree
    others_cpu_s: float  # CPU time used by everything else meanwhile (contention)


def run_tree(command: list[str], cwd: Path, idle_wait_s: float = 0.0) -> TreeRun:
    if idle_wait_s > 0 and not wait_for_idle(idle_wait_s):
        print(f"note: other work still running after {idle_wait_s:.0f} s of waiting")
    busy_before = cpu_seconds_busy()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    sampler = TreeSampler(process.pid)
    sampler.start()
    assert process.stdout is not None
    stdout = process.stdout.read()
    # wait4: the child's own rusage, its ru_maxrss covering its waited-for children too.
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    sampler.stop()
    busy = cpu_seconds_busy() - busy_before
    cpu = usage.ru_utime + usage.ru_stime
    process.returncode = os.waitstatus_to_exitcode(status)
    return TreeRun(
        cpu_s=cpu,
        others_cpu_s=max(0.0, busy - cpu),
        wall_s=wall,
        returncode=process.returncode,
        peak_process_mb=_maxrss_mb(usage.ru_maxrss),
        peak_tree_mb=sampler.peak_kb / 1024,
        processes=sampler.peak_processes,
        stdout=stdout,
    )


def measure_engine(folder: Path, single_runs: int, idle_wait_s: float) -> Measurement:
    run = run_tree(
        [
            sys.executable,
            __file__,
            "--phase",
            "engine",
            "--single-runs",
            str(single_runs),
            str(folder),
        ],
        cwd=CHECKOUT,
        idle_wait_s=idle_wait_s,
    )
    if run.returncode != 0:
        raise SystemExit(f"engine phase failed with exit code {run.returncode}")
    data = json.loads(run.stdout)
    return Measurement(
        label="engine only, 1 process",
        documents=data["documents"],
        megabytes=data["megabytes"],
        wall_s=data["wall_s"],
        peak_process_mb=data["peak_process_mb"],
        others_cpu_s=run.others_cpu_s,
        extra={"import_s": data["import_s"], "single": data["single"]},
    )


def measure_cli(folder: Path, jobs: int, runs: int, idle_wait_s: float) -> Measurement:
    command = [
        sys.executable, "-m", "localreview", "check", str(folder),
        "--format", "json", "--fail-on", "never", "--no-progress", "--jobs", str(jobs),
    ]  # fmt: skip
    results = [run_tree(command, CHECKOUT, idle_wait_s) for _ in range(runs)]
    for result in results:
        if result.returncode not in (0, 1):
            raise SystemExit(f"CLI run failed with exit code {result.returncode}")
    payload = json.loads(results[-1].stdout)
    documents = len(payload["documents"])
    megabytes = sum((CHECKOUT / d["path"]).stat().st_size for d in payload["documents"])
    return Measurement(
        label=f"product-review check --jobs {jobs}",
        documents=documents,
        megabytes=megabytes / 1e6,
        wall_s=statistics.median(r.wall_s for r in results),
        peak_process_mb=max(r.peak_process_mb for r in results),
        peak_tree_mb=max(r.peak_tree_mb for r in results),
        runs=runs,
        cpu_s=statistics.median(r.cpu_s for r in results),
        others_cpu_s=max(r.others_cpu_s for r in results),
        extra={
            "errors": len(payload["errors"]),
            "processes": max(r.processes for r in results),
            "walls": [round(r.wall_s, 3) for r in results],
        },
    )


def find_markdownlint(explicit: str | None) -> Path | None:
    for candidate in (explicit, os.environ.get("MARKDOWNLINT_CLI2")):
        if candidate:
            return Path(candidate)
    for path in MARKDOWNLINT_CANDIDATES:
        if path.exists():
            return path
    found = shutil.which("markdownlint-cli2")
    return Path(found) if found else None


def measure_markdownlint(
    executable: Path, folder: Path, runs: int, idle_wait_s: float
) -> Measurement:
    files = markdown_files(folder)
    results = [run_tree([str(executable), "**/*.md"], folder, idle_wait_s) for _ in range(runs)]
    return Measurement(
        label='markdownlint-cli2 "**/*.md"',
        documents=len(files),
        megabytes=sum(path.stat().st_size for path in files) / 1e6,
        wall_s=statistics.median(r.wall_s for r in results),
        peak_process_mb=max(r.peak_process_mb for r in results),
        peak_tree_mb=max(r.peak_tree_mb for r in results),
        runs=runs,
        cpu_s=statistics.median(r.cpu_s for r in results),
        others_cpu_s=max(r.others_cpu_s for r in results),
        extra={"walls": [round(r.wall_s, 3) for r in results]},
    )


# --- report -------------------------------------------------------------------------


def machine_description() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs{f' ({model})' if model else ''}, "
        f"Python {platform.python_version()}"
    )


def _optional(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Measurement]) -> None:
    print(
        f"{'':36} {'docs':>5} {'wall s':>7} {'docs/s':>7} {'MB/s':>5} {'CPU s':>6} "
        f"{'peak MB':>16} {'other CPU s':>11}"
    )
    for row in rows:
        peak = f"{row.peak_process_mb:.0f}"
        if row.peak_tree_mb is not None:
            peak += f" (tree {row.peak_tree_mb:.0f})"
        print(
            f"{row.label:36} {row.documents:>5} {row.wall_s:>7.2f} {row.docs_per_s:>7.0f} "
            f"{row.mb_per_s:>5.1f} {_optional(row.cpu_s, '.2f'):>6} {peak:>16} "
            f"{_optional(row.others_cpu_s, '.1f'):>11}"
        )
    print(
        "(peak MB: largest single process; tree: largest sum over all processes at once. "
        "other CPU s: time other work took on this machine meanwhile; near 0 = idle)"
    )


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the engine and the CLI.")
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3, help="CLI runs per configuration")
    parser.add_argument("--single-runs", type=int, default=200)
    parser.add_argument("--markdownlint", default=None, help="markdownlint-cli2 executable")
    parser.add_argument("--markdownlint-runs", type=int, default=1)
    parser.add_argument("--skip-markdownlint", action="store_true")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each measurement, wait up to this long for other work to stop",
    )
    parser.add_argument("--json", default=None, metavar="FILE", help="also write figures here")
    parser.add_argument("--phase", choices=["engine"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    folder = Path(args.folder).resolve()
    if args.phase == "engine":
        print(json.dumps(engine_phase(folder, args.single_runs)))
        return 0
    if not folder.is_dir():
        print(f"skipped: {folder} not found (the corpus lives beside the checkout)")
        return 0
    # Every tool measures a view of the folder without the documents it reserves.
    with tempfile.TemporaryDirectory() as scratch:
        return _run(usable_view(folder, Path(scratch)), args)


def _run(folder: Path, args: argparse.Namespace) -> int:

    load1, _, _ = os.getloadavg()
    print(f"folder:  {folder}")
    print(f"machine: {machine_description()}")
    print(f"date:    {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"load:    {load1:.2f} (1-minute average before the run)")
    if load1 > 0.5:
        print("warning: the machine is not idle; figures will be pessimistic")
    print()

    rows = [
        measure_engine(folder, args.single_runs, args.wait_idle),
        measure_cli(folder, args.jobs, args.runs, args.wait_idle),
        measure_cli(folder, 1, args.runs, args.wait_idle),
    ]
    markdownlint = None if args.skip_markdownlint else find_markdownlint(args.markdownlint)
    if markdownlint is not None and markdownlint.exists():
        rows.append(
            measure_markdownlint(markdownlint, folder, args.markdownlint_runs, args.wait_idle)
        )
    elif not args.skip_markdownlint:
        print("markdownlint-cli2 not found (use --markdownlint PATH); comparison skipped\n")
    print_table(rows)

    single = rows[0].extra["single"]
    print()
    print(
        f"single document {single['path']} ({single['kilobytes']:.1f} KB): median "
        f"{single['median_ms']:.2f} ms, min {single['min_ms']:.2f}, p90 {single['p90_ms']:.2f} "
        f"over {single['runs']} runs — {verdict(single['median_ms'] < TARGET_SINGLE_MS)} "
        f"(< {TARGET_SINGLE_MS:.0f} ms)"
    )
    parallel = rows[1]
    peak = max(parallel.peak_tree_mb or 0.0, parallel.peak_process_mb)
    print(
        f"peak memory, CLI --jobs {args.jobs}: {peak:.0f} MB — "
        f"{verdict(peak < TARGET_PEAK_MB)} (< {TARGET_PEAK_MB:.0f} MB)"
    )
    if len(rows) == 4:
        ratio = parallel.wall_s / rows[3].wall_s
        print(
            f"corpus time vs markdownlint-cli2: {parallel.wall_s:.2f} s / {rows[3].wall_s:.2f} s "
            f"= {ratio:.3f} — {verdict(ratio <= TARGET_RATIO)} (<= {TARGET_RATIO})"
        )
    if args.json:
        figures = [
            {**asdict(row), "docs_per_s": row.docs_per_s, "mb_per_s": row.mb_per_s} for row in rows
        ]
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
