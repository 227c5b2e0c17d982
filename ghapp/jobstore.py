"""The durable record of deliveries: an embedded SQLite database in `STATE_DIR`.

A delivery the server accepts is written here before GitHub gets its 2xx, with
the event and the payload, as a job *leased* to the process that runs it. The
lease is heart-beaten while the job runs; a job whose lease ran out (its process
died: a deploy, the OOM killer, a lost node) is claimed again, by the same
process after a restart or by another one sharing the directory. A process's
liveness is also told by a lock file it holds for its whole life (the kernel
drops it when the process dies, even on SIGKILL), so a restarted server takes
up its predecessor's jobs at once instead of waiting for their leases to run out.

Rows outlive their job so that a redelivery (GitHub's "Redeliver" keeps the
delivery id) is recognised across restarts: a handled delivery for
`HANDLED_TTL_SECONDS`, a failed one for as long as GitHub offers to redeliver it.
The check runs a job's review left in progress are recorded too, so that a
recovered job can complete them before it reviews again: no check is left
in progress.

The database is for one machine: SQLite's locking is only reliable on a local
disk. Several replicas share state through Redis instead (`ghapp.redisqueue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TypeVar

log = logging.getLogger("ghapp.jobstore")

DATABASE_NAME = "state.sqlite3"
OWNERS_FOLDER = "owners"
DEFAULT_LEASE_SECONDS = 30.0
# A job taken this many times without finishing (its process died each time: a
# delivery that kills its reviewer) is given up, its checks completed.
MAX_ATTEMPTS = 3
HANDLED_TTL_SECONDS = 60 * 60
FAILED_TTL_SECONDS = 3 * 24 * 60 * 60
# SQLite waits this long for another process's write to finish.
BUSY_TIMEOUT_MS = 5_000
# A web process recording deliveries never lets SQLite sleep on its event loop
# (SQLite's own waits start at 1 ms): it retries on the loop, at once for a
# while, then at these intervals.
BUSY_SPIN_SECONDS = 0.001
FIRST_BUSY_RETRY_SECONDS = 0.0005
LAST_BUSY_RETRY_SECONDS = 0.005
# `lease_until` of a job recorded as queued by a web process and never claimed:
# told apart from one put back by a shutdown (0), which is taken up as such.
NEVER_CLAIMED = -1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    payload BLOB,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    failed_before INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    received_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state, received_at);
CREATE TABLE IF NOT EXISTS open_check_runs (
    url TEXT PRIMARY KEY,
    check_run_id INTEGER NOT NULL,
    delivery_id TEXT NOT NULL,
    installation_id INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS open_check_runs_by_delivery ON open_check_runs (delivery_id);
"""

T = TypeVar("T")

_NEW_DELIVERY = (
    " INTO deliveries (id, event, payload, state, attempts, owner, lease_until,"
    " received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class JobState(StrEnum):
    """Where a delivery's job is. `QUEUED` waits for a process to claim it."""

    QUEUED = "queued"
    RUNNING = "running"
    HANDLED = "handled"
    FAILED = "failed"  # its work did not complete: a redelivery is handled again
    ABANDONED = "abandoned"  # taken MAX_ATTEMPTS times, never finished


class Admission(StrEnum):
    """What `admit` made of a delivery."""

    NEW = "new"
    REDELIVERED = "redelivered"  # a failed or abandoned one, handled again
    IN_FLIGHT = "in flight"
    HANDLED = "handled"


@dataclass(frozen=True)
class Job:
    delivery_id: str
    event: str
    payload: bytes
    attempts: int  # this claim included
    failed_before: bool  # a redelivery of a delivery whose work did not complete
    # Recorded as queued by a web process and claimed for the first time: nothing
    # of it ran yet, so there is nothing to take up.
    fresh: bool = False

    @property
    def ran_before(self) -> bool:
        """Whether an earlier attempt may have posted something already."""
        return self.failed_before or self.attempts > 1


@dataclass(frozen=True)
class OpenCheckRun:
    url: str
    check_run_id: int
    installation_id: int


@dataclass(frozen=True)
class Backlog:
    depth: int  # jobs queued or running
    oldest_age_seconds: float


class _OwnerLock:
    """A lock file held for the life of this process: proof that it is alive."""

    def __init__(self, folder: Path, owner: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{owner}.lock"
        self._file: IO[bytes] | None = self.path.open("wb")
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            with contextlib.suppress(OSError):
                self.path.unlink()


def _owner_is_gone(folder: Path, owner: str) -> bool:
    """True when no live process holds `owner`'s lock file (or it never had one)."""
    path = folder / f"{owner}.lock"
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return True
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        path.unlink()
    return True


class SqliteJobStore:
    """The deliveries, their leases and their open check runs, in one SQLite file.

    Statements run on the caller's thread, the event loop's: with WAL and
    `synchronous=NORMAL` a commit writes to the page cache without waiting for the
    disk, some tens of microseconds, while handing each one to a thread costs the
    loop a GIL hand-over (up to the 5 ms switch interval) per delivery. What does
    wait for the disk, folding the WAL back into the database (a checkpoint), runs
    on a thread of its own, on a connection of its own, at each heartbeat."""

    def __init__(
        self,
        state_dir: Path,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
        waits_on_loop: bool = False,
    ) -> None:
        """`waits_on_loop`: for a web process, whose event loop must not sleep in
        SQLite while another process writes; `admit` then waits on the loop."""
        self.state_dir = state_dir
        self.lease_seconds = lease_seconds
        self._waits_on_loop = waits_on_loop
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobstore")
        self._connection: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._owner_lock: _OwnerLock | None = None
        # Jobs ended since the last write of endings, and the write they wait for.
        self._endings: list[tuple[JobState, float, str, str, str]] = []
        self._endings_written: asyncio.Future[None] | None = None

    # -- life cycle ---------------------------------------------------------------

    async def open(self) -> None:
        # Creating the folder and the schema may wait for the disk: off the loop.
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def checkpoint(self) -> None:
        """Fold the WAL back into the database, on the executor's thread."""

        def run() -> None:
            if self._checkpointer is not None:
                self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

        await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def _open(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._owner_lock = _OwnerLock(self.state_dir / OWNERS_FOLDER, self.owner)
        connection = sqlite3.connect(
            self.state_dir / DATABASE_NAME,
            timeout=0 if self._waits_on_loop else BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit; transactions are explicit
            check_same_thread=False,  # opened and closed on the executor's thread
        )
        # WAL: readers never block the writer; NORMAL: a commit survives the
        # process being killed (only a power loss may lose the latest ones).
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA busy_timeout={0 if self._waits_on_loop else BUSY_TIMEOUT_MS}")
        # Checkpoints are `checkpoint()`'s, off the event loop.
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.executescript(_SCHEMA)
        self._connection = connection
        self._checkpointer = sqlite3.connect(
            self.state_dir / DATABASE_NAME,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used by the executor's one thread only
        )

    async def close(self) -> None:
        # Ends asked for in this turn are written first, on this connection.
        if self._endings_written is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._endings_written)
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        finally:
            self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._connection is not None:
            # The last connection to close checkpoints the WAL into the database.
            self._connection.close()
            self._connection = None
        if self._owner_lock is not None:
            self._owner_lock.release()
            self._owner_lock = None

    async def _call(self, function: Callable[[], T]) -> T:
        return function()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the job store is not open")
        return self._connection

    # -- deliveries ---------------------------------------------------------------

    async def admit(
        self, delivery_id: str, event: str, payload: bytes, *, queued: bool = False
    ) -> Admission:
        """Record a delivery as a job leased to this process (`queued`: waiting for
        a review process to claim it), unless it is known: then say what it is. A
        failed or abandoned one is taken again (the sender asked for it again)."""
        if not self._waits_on_loop:
            return self._admit(delivery_id, event, payload, queued=queued)
        loop = asyncio.get_running_loop()
        started = loop.time()
        pause = FIRST_BUSY_RETRY_SECONDS
        while True:
            try:
                return self._admit(delivery_id, event, payload, queued=queued)
            except sqlite3.OperationalError as error:
                if (
                    error.sqlite_errorcode != sqlite3.SQLITE_BUSY
                    or loop.time() - started > BUSY_TIMEOUT_MS / 1000
                ):
                    raise
            # Another process holds the write lock, for one statement as a rule:
            # try again at once (other deliveries go on meanwhile), then back off.
            if loop.time() - started < BUSY_SPIN_SECONDS:
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_BUSY_RETRY_SECONDS)

    def _admit(self, delivery_id: str, event: str, payload: bytes, *, queued: bool) -> Admission:
        now = self._clock()
        db = self._db
        taken_as, owner, lease_until = (
            (JobState.QUEUED, None, NEVER_CLAIMED)
            if queued
            else (JobState.RUNNING, self.owner, now + self.lease_seconds)
        )
        attempts = 0 if queued else 1  # a claim counts the attempt
        # A new delivery, the usual case, is one statement (its own transaction).
        row = (delivery_id, event, payload, taken_as, attempts, owner, lease_until, now, now)
        inserted = db.execute("INSERT OR IGNORE" + _NEW_DELIVERY, row).rowcount
        if inserted:
            return Admission.NEW
        with _transaction(db):
            known = db.execute(
                "SELECT state FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            if known is None:
                # Forgotten (past its time) between the two statements: new again.
                db.execute("INSERT" + _NEW_DELIVERY, row)
                return Admission.NEW
            state = JobState(known[0])
            if state is JobState.HANDLED:
                return Admission.HANDLED
            if state in (JobState.QUEUED, JobState.RUNNING):
                return Admission.IN_FLIGHT
            db.execute(
                "UPDATE deliveries SET event = ?, payload = ?, state = ?, attempts = ?,"
                " failed_before = 1, owner = ?, lease_until = ?, received_at = ?,"
                " updated_at = ?, reason = '' WHERE id = ?",
                (event, payload, taken_as, attempts, owner, lease_until, now, now, delivery_id),
            )
            return Admission.REDELIVERED

    async def failed_before(self, delivery_id: str) -> bool:
        """Whether an earlier attempt at this delivery did not complete (a redelivery
        of a failed one, or a job taken again after its process died)."""

        def read() -> bool:
            row = self._db.execute(
                "SELECT failed_before, attempts FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            return row is not None and (bool(row[0]) or int(row[1]) > 1)

        return await self._call(read)

    async def finish(self, delivery_id: str, *, handled: bool, reason: str = "") -> None:
        """The job ended: handled, or failed (a redelivery will be handled again).
        Its payload is dropped; the row stays so the id is recognised. Returns once
        that is written."""
        state = JobState.HANDLED if handled else JobState.FAILED
        await self._end(delivery_id, state, reason)

    async def release(self, delivery_id: str) -> None:
        """Put a job this process will not finish (it is shutting down) back in the
        queue, for the next process to take at once."""

        def run() -> None:
            self._db.execute(
                # Not an attempt that failed: its count goes back, but what it
                # may have posted is remembered.
                "UPDATE deliveries SET state = ?, owner = NULL, lease_until = 0,"
                " attempts = attempts - 1, failed_before = 1,"
                " updated_at = ? WHERE id = ? AND owner = ? AND state = ?",
                (JobState.QUEUED, self._clock(), delivery_id, self.owner, JobState.RUNNING),
            )

        await self._call(run)

    async def abandon(self, delivery_id: str, reason: str) -> None:
        await self._end(delivery_id, JobState.ABANDONED, reason)

    async def _end(self, delivery_id: str, state: JobState, reason: str) -> None:
        """Record a job's end together with the others that end in the same turn of
        the event loop: one transaction, so the write lock, which the web process
        waits for before it acknowledges, is taken once for all of them rather than
        once per job (jobs that need no API call end a claim's batch at once)."""
        self._endings.append((state, self._clock(), reason, delivery_id, self.owner))
        written = self._endings_written
        if written is None:
            loop = asyncio.get_running_loop()
            written = self._endings_written = loop.create_future()
            loop.call_soon(self._write_endings)
        # Shielded: a cancelled job must not cancel the write the others wait for.
        await asyncio.shield(written)

    def _write_endings(self) -> None:
        endings, self._endings = self._endings, []
        written, self._endings_written = self._endings_written, None
        assert written is not None
        try:
            with _transaction(self._db):
                # Only the process holding the job ends it: one whose lease ran out
                # and was taken over must not overwrite the new attempt. The job's
                # check runs stay on record until they are known to be completed
                # (`forget_check_run`).
                self._db.executemany(
                    "UPDATE deliveries SET state = ?, payload = NULL, owner = NULL,"
                    " lease_until = 0, updated_at = ?, reason = ? WHERE id = ?"
                    " AND (owner = ? OR owner IS NULL)",
                    endings,
                )
        except BaseException as error:  # each waiter raises it, as its own write would
            written.set_exception(error)
            # Read by whoever awaits it; a write nobody awaits any more is still not
            # reported as "never retrieved".
            written.exception()
            if not isinstance(error, Exception):
                raise
        else:
            written.set_result(None)

    # -- leases -------------------------------------------------------------------

    async def claim(self, limit: int) -> list[Job]:
        """Take up to `limit` jobs that wait or whose process died, oldest first."""
        return await self._call(lambda: self._claim(limit))

    def _claim(self, limit: int) -> list[Job]:
        now = self._clock()
        db = self._db
        owners_folder = self.state_dir / OWNERS_FOLDER
        with _transaction(db):
            stale_owners = [
                owner
                for (owner,) in db.execute(
                    "SELECT DISTINCT owner FROM deliveries WHERE state = ? AND owner != ?"
                    " AND lease_until >= ?",
                    (JobState.RUNNING, self.owner, now),
                )
                if _owner_is_gone(owners_folder, owner)
            ]
            for owner in stale_owners:
                db.execute(
                    "UPDATE deliveries SET lease_until = 0 WHERE state = ? AND owner = ?",
                    (JobState.RUNNING, owner),
                )
            rows = db.execute(
                "SELECT id, event, payload, attempts + 1, failed_before, state = ? AND"
                " lease_until = ? FROM deliveries WHERE state = ?"
                " OR (state = ? AND lease_until < ?) ORDER BY received_at LIMIT ?",
                (JobState.QUEUED, NEVER_CLAIMED, JobState.QUEUED, JobState.RUNNING, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE deliveries SET state = ?, owner = ?, lease_until = ?,"
                " attempts = attempts + 1, updated_at = ? WHERE id = ?",
                [(JobState.RUNNING, self.owner, now + self.lease_seconds, now, r[0]) for r in rows],
            )
        return [
            Job(
                delivery_id=row[0],
                event=row[1],
                payload=bytes(row[2] or b""),
                attempts=int(row[3]),
                failed_before=bool(row[4]),
                fresh=bool(row[5]),
            )
            for row in rows
        ]

    async def heartbeat(self) -> int:
        """Extend the leases of every job this process runs; also forget rows past
        their time. Returns how many leases were extended."""

        def run() -> int:
            now = self._clock()
            db = self._db
            with _transaction(db):
                extended = db.execute(
                    "UPDATE deliveries SET lease_until = ? WHERE owner = ? AND state = ?",
                    (now + self.lease_seconds, self.owner, JobState.RUNNING),
                ).rowcount
                db.execute(
                    "DELETE FROM deliveries WHERE (state = ? AND updated_at < ?)"
                    " OR (state IN (?, ?) AND updated_at < ?)",
                    (
                        JobState.HANDLED,
                        now - HANDLED_TTL_SECONDS,
                        JobState.FAILED,
                        JobState.ABANDONED,
                        now - FAILED_TTL_SECONDS,
                    ),
                )
            return int(extended)

        return await self._call(run)

    async def backlog(self) -> Backlog:
        def read() -> Backlog:
            depth, oldest = self._db.execute(
                "SELECT COUNT(*), MIN(received_at) FROM deliveries WHERE state IN (?, ?)",
                (JobState.QUEUED, JobState.RUNNING),
            ).fetchone()
            age = 0.0 if oldest is None else max(0.0, self._clock() - float(oldest))
            return Backlog(depth=int(depth), oldest_age_seconds=age)

        return await self._call(read)

    async def state_of(self, delivery_id: str) -> JobState | None:
        def read() -> JobState | None:
            row = self._db.execute(
                "SELECT state FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            return None if row is None else JobState(row[0])

        return await self._call(read)

    # -- check runs ---------------------------------------------------------------

    async def note_check_run(
        self, delivery_id: str, installation_id: int, *, url: str, check_run_id: int
    ) -> None:
        """A review of this job created a check run in progress."""

        def run() -> None:
            self._db.execute(
                "INSERT OR IGNORE INTO open_check_runs (url, check_run_id, delivery_id,"
                " installation_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (url, check_run_id, delivery_id, installation_id, self._clock()),
            )

        await self._call(run)

    async def open_check_runs(self, delivery_id: str) -> list[OpenCheckRun]:
        def read() -> list[OpenCheckRun]:
            return [
                OpenCheckRun(
                    url=url, check_run_id=int(check_run_id), installation_id=int(installation_id)
                )
                for url, check_run_id, installation_id in self._db.execute(
                    "SELECT url, check_run_id, installation_id FROM open_check_runs"
                    " WHERE delivery_id = ?"
                    " ORDER BY created_at",
                    (delivery_id,),
                )
            ]

        return await self._call(read)

    async def orphaned_check_runs(self) -> list[tuple[str, OpenCheckRun]]:
        """Check runs on record whose job ended (handled, failed, given up) although
        their review did not complete them: (delivery id, check run)."""

        def read() -> list[tuple[str, OpenCheckRun]]:
            return [
                (
                    delivery_id,
                    OpenCheckRun(
                        url=url,
                        check_run_id=int(check_run_id),
                        installation_id=int(installation_id),
                    ),
                )
                for delivery_id, url, check_run_id, installation_id in self._db.execute(
                    "SELECT c.delivery_id, c.url, c.check_run_id, c.installation_id"
                    " FROM open_check_runs c LEFT JOIN deliveries d ON d.id = c.delivery_id"
                    " WHERE d.id IS NULL OR d.state IN (?, ?, ?) ORDER BY c.created_at",
                    (JobState.HANDLED, JobState.FAILED, JobState.ABANDONED),
                )
            ]

        return await self._call(read)

    async def forget_check_run(self, url: str) -> None:
        await self._call(
            lambda: self._db.execute("DELETE FROM open_check_runs WHERE url = ?", (url,))
        )


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE: take the write lock up front, so two processes cannot both read
    # a row as free and then both claim it.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        # A failed COMMIT leaves the transaction open: close it, or every later
        # statement of this connection would fail.
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
