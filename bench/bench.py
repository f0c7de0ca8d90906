#!/usr/bin/env python3
"""Benchmarks pipeline's table.import / table.export against sqlite3 and psql.

Run through bench/run, which builds the release binary (unless PIPELINE_BINARY
is set) and starts a throw-away PostgreSQL server (PIPELINE_TEST_POSTGRES_URL).
Python standard library only. Timings: median of --runs runs (default 3);
peak memory: the largest max RSS (GNU time %M) over those runs.
Output: a Markdown report on stdout and in bench/results.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
WORK = os.path.join(BENCH_DIR, "work")
RESULTS = os.path.join(BENCH_DIR, "results.md")
GNU_TIME = "/usr/bin/time"
GEN_VERSION = "1"  # bump when the generated data changes
TABLE_IMPORT_CHUNK = 250_000  # table.import's default chunk_size


class BenchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data

def _names():
    """101 product names; some need CSV quoting (commas, double quotes)."""
    adjectives = ["Red", "Blue", "Large", "Small", "Deluxe", "Basic", "Steel", "Oak", "Quiet", "Rapid", "Tiny"]
    nouns = ["Widget", "Gadget", "Lamp", "Chair", "Kettle", "Drill", "Hammer", "Cable", "Bottle", "Desk"]
    out = []
    for k in range(101):
        adj, noun = adjectives[k % len(adjectives)], nouns[(k * 7) % len(nouns)]
        if k % 6 == 0:
            raw = f'{adj} {noun}, "Pro" edition'     # comma and quotes
        elif k % 3 == 0:
            raw = f"{adj} {noun}, size {k % 9}"       # comma
        elif k % 5 == 0:
            raw = f'{adj} "{noun}" {k}'               # quotes
        else:
            raw = f"{adj} {noun} {k}"
        if any(c in raw for c in ',"\n'):
            raw = '"' + raw.replace('"', '""') + '"'
        out.append(raw)
    return out


def generate(path, n):
    """Deterministic CSV: id,sku,name,price_minor,qty with a header row; n data rows."""
    marker = path + ".ok"
    stamp = f"{GEN_VERSION} {n}"
    if os.path.exists(path) and os.path.exists(marker) and open(marker).read() == stamp:
        return
    log(f"generating {path} ({n:,} rows)")
    names = _names()
    tmp = path + ".tmp"
    chunk = 100_000
    with open(tmp, "w", buffering=1 << 20) as f:
        f.write("id,sku,name,price_minor,qty\n")
        for start in range(1, n + 1, chunk):
            f.write("".join(
                f"{i},SKU-{i:06d},{names[i % 101]},{(i * 7919) % 100000},{(i * 31) % 500}\n"
                for i in range(start, min(start + chunk, n + 1))))
    os.replace(tmp, path)
    with open(marker, "w") as f:
        f.write(stamp)


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 22)
            if not block:
                return n
            n += block.count(b"\n")


# ---------------------------------------------------------------- running

def timed(cmd, stdout_path=None):
    """Runs cmd under GNU time; returns (wall seconds, max RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", dir=WORK, suffix=".time") as tf:
        out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            proc = subprocess.run([GNU_TIME, "-f", "%e %M", "-o", tf.name] + cmd,
                                  stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            wall = time.perf_counter() - start
        finally:
            if stdout_path:
                out.close()
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise BenchError(f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                             + "\n".join("    " + line for line in err[-20:]))
        lines = [line for line in tf.read().splitlines() if line.strip()]
        _elapsed, max_rss_kib = lines[-1].split()
        return wall, int(max_rss_kib) / 1024.0


def sh(cmd, capture=False):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise BenchError(f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n    "
                         + proc.stderr.decode(errors="replace").strip())
    return proc.stdout.decode().strip() if capture else None


def rm(*paths):
    for p in paths:
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.remove(p + suffix)
            except FileNotFoundError:
                pass


def sql_quote(text):
    return "'" + text.replace("'", "''") + "'"


class Peers:
    def __init__(self, pg_url):
        self.pg_url = pg_url

    def sqlite_count(self, db):
        return int(sh(["sqlite3", db, "SELECT count(*) FROM items"], capture=True))

    def psql(self, sql, capture=False):
        return sh(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.pg_url, "-c", sql], capture)

    def pg_count(self):
        return int(self.psql("SELECT count(*) FROM items", capture=True))

    def pg_reset(self, create=True):
        self.psql("DROP TABLE IF EXISTS items")
        if create:
            self.psql("CREATE TABLE items (id text, sku text, name text, price_minor text, qty text)")
        self.psql("CHECKPOINT")

    def sqlite_import_cmd(self, db, csv):
        return ["sqlite3", db, f".import --csv {csv} items"]

    def sqlite_export_cmd(self, db):
        return ["sqlite3", "-csv", "-header", db, "SELECT * FROM items"]

    def pg_import_cmd(self, csv):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.pg_url,
                "-c", f"\\copy items FROM {sql_quote(csv)} WITH (FORMAT csv, HEADER)"]

    def pg_export_cmd(self, out):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.pg_url,
                "-c", f"\\copy (SELECT * FROM items) TO {sql_quote(out)} WITH (FORMAT csv, HEADER)"]


def pipeline_yaml(name, database, stage_uses, with_args, chunk_size=None):
    """Writes bench/work/NAME.yaml; strings are JSON-quoted (valid YAML). Each file keeps its run
    records in its own state store; chunk_size 0 turns checkpoints off."""
    path = os.path.join(WORK, f"{name}.yaml")
    args = ", ".join(f"{k}: {json.dumps(v)}" for k, v in with_args.items())
    state = os.path.join(WORK, f"state-{name}.db")
    with open(path, "w") as f:
        f.write(f"name: {name}\n"
                f"database: {json.dumps(database)}\n"
                f"state: {json.dumps('sqlite:' + state)}\n"
                f"stages:\n"
                f"  - id: {'load' if stage_uses == 'table.import' else 'dump'}\n"
                f"    uses: {stage_uses}\n"
                + (f"    chunk_size: {chunk_size}\n" if chunk_size is not None else "")
                + f"    with: {{ {args} }}\n")
    return path


def pipeline_run(pipeline, yml):
    """A run that always does the work: --rerun, since every run has the same identity."""
    return [pipeline, "run", yml, "--rerun"]


# ---------------------------------------------------------------- cases

class Result:
    def __init__(self, case, peer_name):
        self.case, self.peer_name = case, peer_name
        self.pipe_times, self.pipe_rss, self.peer_times, self.peer_rss = [], [], [], []

    def add(self, side, wall, rss):
        if side == "pipeline":
            self.pipe_times.append(wall); self.pipe_rss.append(rss)
        else:
            self.peer_times.append(wall); self.peer_rss.append(rss)

    @staticmethod
    def _med(xs):
        return statistics.median(xs) if xs else None

    def pair_ratios(self):
        """pipeline / peer time of each run, the two sides of a run measured one after the other."""
        return [p / q for p, q in zip(self.pipe_times, self.peer_times)]

    def overhead_row(self):
        """on / off: the medians of each side, and the median of the pairs' ratios (the figure the goal
        is set on: the machine's speed drifts between runs, a pair's two runs share its moment)."""
        ratios = self.pair_ratios()
        ratio = self._med(ratios)
        return (f"| {self.case} | {self._med(self.pipe_times):.2f} | {self._med(self.peer_times):.2f} | "
                f"{len(ratios)} | {ratio:.3f} ({min(ratios):.2f}–{max(ratios):.2f}) | {ratio - 1:+.1%} | "
                f"{max(self.pipe_rss):.1f} | {max(self.peer_rss):.1f} |")

    def row(self):
        pt, qt = self._med(self.pipe_times), self._med(self.peer_times)
        ratio = f"{qt / pt:.2f}" if pt and qt else "—"
        f = lambda v, fmt: format(v, fmt) if v is not None else "—"
        return (f"| {self.case} | {f(pt, '.2f')} | {self.peer_name} | {f(qt, '.2f')} | {ratio} | "
                f"{f(max(self.pipe_rss) if self.pipe_rss else None, '.1f')} | "
                f"{f(max(self.peer_rss) if self.peer_rss else None, '.1f')} |")


def expect(what, got, allowed):
    if got not in allowed:
        raise BenchError(f"{what}: got {got:,} rows, expected {' or '.join(f'{a:,}' for a in allowed)}")


def run_case(res, runs, sides, alternate=False):
    """sides: list of (side, setup, cmd, stdout_path, verify). Runs interleave the sides (A B A B); with
    alternate, every second run goes the other way round (A B B A), so neither side always goes first."""
    for r in range(runs):
        for side, setup, cmd, stdout_path, verify in (sides[::-1] if alternate and r % 2 else sides):
            try:
                setup()
                wall, rss = timed(cmd, stdout_path)
                verify()
            except BenchError as e:
                who = "pipeline" if side == "pipeline" else res.peer_name
                raise BenchError(f"{res.case}, {who}, run {r + 1}: {e}") from None
            res.add(side, wall, rss)
            log(f"{res.case}: {side} run {r + 1}/{runs}: {wall:.2f} s, {rss:.1f} MiB")


def bench_sqlite_import(peers, pipeline, csv, n, runs, tag):
    res = Result(f"SQLite table.import ({tag} rows)", "sqlite3 `.import --csv`")
    pdb, qdb = os.path.join(WORK, f"import-pipeline-{tag}.db"), os.path.join(WORK, f"import-sqlite3-{tag}.db")
    sides = []
    if pipeline:
        yml = pipeline_yaml(f"bench-import-sqlite-{tag}", f"sqlite:{pdb}", "table.import",
                            {"file": csv, "table": "items", "create": True})
        sides.append(("pipeline", lambda: rm(pdb), pipeline_run(pipeline, yml), None,
                      lambda: expect("pipeline SQLite import", peers.sqlite_count(pdb), [n])))
    sides.append(("peer", lambda: rm(qdb), peers.sqlite_import_cmd(qdb, csv), None,
                  lambda: expect("sqlite3 import", peers.sqlite_count(qdb), [n])))
    run_case(res, runs, sides)
    return res, qdb  # the sqlite3-made db is the export source


def bench_sqlite_export(peers, pipeline, src_db, n, runs, tag):
    res = Result(f"SQLite table.export ({tag} rows)", "sqlite3 `-csv -header`")
    pout, qout = os.path.join(WORK, f"export-pipeline-{tag}.csv"), os.path.join(WORK, f"export-sqlite3-{tag}.csv")
    sides = []
    if pipeline:
        yml = pipeline_yaml(f"bench-export-sqlite-{tag}", f"sqlite:{src_db}", "table.export",
                            {"query": "SELECT * FROM items", "file": pout})
        sides.append(("pipeline", lambda: rm(pout), pipeline_run(pipeline, yml), None,
                      lambda: expect("pipeline SQLite export (CSV lines)", count_lines(pout), [n + 1, n])))
    sides.append(("peer", lambda: rm(qout), peers.sqlite_export_cmd(src_db), qout,
                  lambda: expect("sqlite3 export (CSV lines)", count_lines(qout), [n + 1])))
    run_case(res, runs, sides)
    return res


def bench_pg_import(peers, pipeline, csv, n, runs, tag):
    res = Result(f"PostgreSQL table.import ({tag} rows)", "psql `\\copy FROM`")
    sides = []
    if pipeline:
        yml = pipeline_yaml(f"bench-import-pg-{tag}", peers.pg_url, "table.import",
                            {"file": csv, "table": "items", "create": True})
        sides.append(("pipeline", lambda: peers.pg_reset(create=False), pipeline_run(pipeline, yml), None,
                      lambda: expect("pipeline PostgreSQL import", peers.pg_count(), [n])))
    sides.append(("peer", lambda: peers.pg_reset(create=True), peers.pg_import_cmd(csv), None,
                  lambda: expect("psql import", peers.pg_count(), [n])))
    run_case(res, runs, sides)
    return res


def bench_pg_export(peers, pipeline, csv, n, runs, tag):
    res = Result(f"PostgreSQL table.export ({tag} rows)", "psql `\\copy TO`")
    # Same source table for both sides: TEXT columns, loaded by psql (untimed).
    peers.pg_reset(create=True)
    sh(peers.pg_import_cmd(csv))
    peers.psql("VACUUM ANALYZE items")
    pout, qout = os.path.join(WORK, f"export-pipeline-pg-{tag}.csv"), os.path.join(WORK, f"export-psql-{tag}.csv")
    sides = []
    if pipeline:
        yml = pipeline_yaml(f"bench-export-pg-{tag}", peers.pg_url, "table.export",
                            {"query": "SELECT * FROM items", "file": pout})
        sides.append(("pipeline", lambda: rm(pout), pipeline_run(pipeline, yml), None,
                      lambda: expect("pipeline PostgreSQL export (CSV lines)", count_lines(pout), [n + 1, n])))
    sides.append(("peer", lambda: rm(qout), peers.pg_export_cmd(qout), None,
                  lambda: expect("psql export (CSV lines)", count_lines(qout), [n + 1])))
    run_case(res, runs, sides)
    return res


def bench_checkpoint_overhead(peers, pipeline, csv, n, pairs, tag, postgres):
    """The same import with checkpoints (default chunk size) and without (chunk_size: 0), in alternating
    pairs."""
    where = "PostgreSQL" if postgres else "SQLite"
    res = Result(f"{where} table.import, checkpoints on ({tag} rows)", "same, `chunk_size: 0`")
    sides = []
    for side, chunk in (("pipeline", None), ("peer", 0)):
        name = f"bench-checkpoints-{where.lower()}-{'on' if chunk is None else 'off'}-{tag}"
        if postgres:
            yml = pipeline_yaml(name, peers.pg_url, "table.import", {"file": csv, "table": "items", "create": True}, chunk)
            setup, count = (lambda: peers.pg_reset(create=False)), peers.pg_count
        else:
            db = os.path.join(WORK, f"{name}.db")
            yml = pipeline_yaml(name, f"sqlite:{db}", "table.import", {"file": csv, "table": "items", "create": True}, chunk)
            setup, count = (lambda db=db: rm(db, db + "-wal", db + "-shm")), (lambda db=db: peers.sqlite_count(db))
        sides.append((side, setup, pipeline_run(pipeline, yml), None,
                      lambda count=count: expect(f"{where} import", count(), [n])))
    run_case(res, pairs, sides, alternate=True)
    return res


def committed_rows(peers, postgres, db):
    """Rows the running import has committed, from its checkpoint in the target database."""
    sql = "SELECT state FROM pipeline_checkpoints"
    try:
        if postgres:
            text = peers.psql(sql, capture=True) or ""
        else:
            import sqlite3
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                text = "\n".join(row[0] for row in conn.execute(sql))
    except Exception:
        return 0
    return max([json.loads(line).get("written", 0) for line in text.splitlines() if line.strip()] or [0])


def bench_resume_late(peers, pipeline, csv, n, full_seconds, tag, postgres):
    """Kills an import (SIGKILL) once 90% of its rows are committed (or, when chunks are too large for
    that, once every chunk but the last is), then times the resume against a full run."""
    where = "PostgreSQL" if postgres else "SQLite"
    name = f"bench-resume-{where.lower()}-{tag}"
    state = os.path.join(WORK, f"state-{name}.db")
    db = os.path.join(WORK, f"{name}.db")
    if postgres:
        yml = pipeline_yaml(name, peers.pg_url, "table.import", {"file": csv, "table": "items", "create": True})
        reset, count = (lambda: (peers.pg_reset(create=False), peers.psql("DROP TABLE IF EXISTS pipeline_checkpoints"))), peers.pg_count
    else:
        yml = pipeline_yaml(name, f"sqlite:{db}", "table.import", {"file": csv, "table": "items", "create": True})
        reset, count = (lambda: rm(db, db + "-wal", db + "-shm")), (lambda: peers.sqlite_count(db))
    reset()
    rm(state)
    kill_at = int(min(0.9 * n, (n - 1) // TABLE_IMPORT_CHUNK * TABLE_IMPORT_CHUNK) or 0.9 * n)
    proc = subprocess.Popen([pipeline, "run", yml], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = 0
    while proc.poll() is None:
        done = committed_rows(peers, postgres, db)
        if done >= kill_at:
            proc.kill()
            break
        time.sleep(0.005)
    proc.wait()
    if done < kill_at:
        raise BenchError(f"{where} resume: the import finished before {kill_at:,} rows were seen committed")
    wall, rss = timed([pipeline, "run", yml])
    expect(f"{where} resumed import", count(), [n])
    log(f"{where} resume after a kill at {done:,} committed rows: {wall:.2f} s ({wall / full_seconds:.0%} of a full run)")
    return (f"| {where} table.import ({tag} rows), killed after {done / n:.0%} committed | {full_seconds:.2f} | "
            f"{wall:.2f} | {wall / full_seconds:.0%} | {rss:.1f} |")


# ---------------------------------------------------------------- main

def tag_for(n):
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def version_of(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--with-10m", action="store_true", default=os.environ.get("BENCH_10M") == "1",
                    help="also measure pipeline (and peers, once) on 10M rows, SQLite only (default on when BENCH_10M=1)")
    ap.add_argument("--runs", type=int, default=3, help="runs per side and case; the median time is reported (default 3)")
    ap.add_argument("--pairs", type=int, default=9,
                    help="alternating on/off pairs for the checkpoint overhead; the median pair is reported (default 9)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the main data set (default 1000000)")
    ap.add_argument("--peers-only", action="store_true", help="time only sqlite3/psql (no pipeline binary needed)")
    args = ap.parse_args()

    os.makedirs(WORK, exist_ok=True)
    for tool in ("sqlite3", "psql", GNU_TIME):
        if not shutil.which(tool):
            raise BenchError(f"{tool} not found; run scripts/install-deps")
    pg_url = os.environ.get("PIPELINE_TEST_POSTGRES_URL")
    if not pg_url:
        raise BenchError("PIPELINE_TEST_POSTGRES_URL is not set; run through bench/run (it starts a server)")
    pipeline = None
    if not args.peers_only:
        pipeline = os.environ.get("PIPELINE_BINARY")
        if not pipeline:
            raise BenchError("PIPELINE_BINARY is not set; run through bench/run or set it")
        if not (os.path.isfile(pipeline) and os.access(pipeline, os.X_OK)):
            raise BenchError(f"pipeline binary '{pipeline}' does not exist or is not executable; "
                             "build it with `swift build -c release` or set PIPELINE_BINARY")
        pipeline = os.path.abspath(pipeline)

    peers = Peers(pg_url)
    n, tag = args.rows, tag_for(args.rows)
    csv = os.path.join(WORK, f"rows-{tag}.csv")
    generate(csv, n)
    load = os.getloadavg()

    results = []
    imp, src_db = bench_sqlite_import(peers, pipeline, csv, n, args.runs, tag)
    results.append(imp)
    results.append(bench_sqlite_export(peers, pipeline, src_db, n, args.runs, tag))
    results.append(bench_pg_import(peers, pipeline, csv, n, args.runs, tag))
    results.append(bench_pg_export(peers, pipeline, csv, n, args.runs, tag))
    overhead, resumes = [], []
    if pipeline:
        overhead.append(bench_checkpoint_overhead(peers, pipeline, csv, n, args.pairs, tag, postgres=False))
        overhead.append(bench_checkpoint_overhead(peers, pipeline, csv, n, args.pairs, tag, postgres=True))
        resumes.append(bench_resume_late(peers, pipeline, csv, n, imp._med(imp.pipe_times), tag, postgres=False))
        resumes.append(bench_resume_late(peers, pipeline, csv, n, results[2]._med(results[2].pipe_times), tag, postgres=True))

    big = None
    if args.with_10m:
        big_n = 10 * n
        big_tag = tag_for(big_n)
        big_csv = os.path.join(WORK, f"rows-{big_tag}.csv")
        generate(big_csv, big_n)
        big_imp, big_db = bench_sqlite_import(peers, pipeline, big_csv, big_n, 1, big_tag)
        big_exp = bench_sqlite_export(peers, pipeline, big_db, big_n, 1, big_tag)
        big = (big_tag, big_imp, big_exp)
        # 10M files are large: keep the CSV (cached), drop the rest.
        rm(big_db, os.path.join(WORK, f"import-pipeline-{big_tag}.db"),
           os.path.join(WORK, f"export-pipeline-{big_tag}.csv"), os.path.join(WORK, f"export-sqlite3-{big_tag}.csv"))

    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# pipeline benchmark: table.import / table.export",
        "",
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, commit {rev or '?'}, {os.cpu_count()} cores, "
        f"load average at start {load[0]:.2f}; {n:,} rows "
        f"(id, sku, name with commas/quotes, price_minor, qty); median of {args.runs} runs; "
        f"peak RSS = largest max RSS of the client process (GNU time %M). "
        f"Peers: {version_of(['sqlite3', '--version']).split(' ')[0]} (sqlite3), "
        f"{version_of(['psql', '--version'])}; PostgreSQL server is local, fsync=off.",
        "",
        "| Case | pipeline s | peer | peer s | ratio (peer s / pipeline s; ≥ 1: pipeline faster) | pipeline peak RSS MiB | peer peak RSS MiB |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ] + [r.row() for r in results]
    if overhead:
        lines += [
            "",
            f"Checkpoint overhead: the same import with checkpoints (default chunk size, {TABLE_IMPORT_CHUNK:,} rows) "
            "and without (`chunk_size: 0`, one transaction), in alternating pairs (on off, off on, ...); "
            "the overhead is the median of the pairs' on / off ratios, minus 1.",
            "",
            "| Case | on s (median) | off s (median) | pairs | on / off, median pair (range) | overhead | on peak RSS MiB | off peak RSS MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ] + [r.overhead_row() for r in overhead]
        lines += [
            "",
            "Resume: an import killed (SIGKILL) once 90% of its rows were committed (or every chunk but the last), then run again; the resume's time against a full run.",
            "",
            "| Case | full run s | resume s | resume / full | resume peak RSS MiB |",
            "| --- | ---: | ---: | ---: | ---: |",
        ] + resumes
    if big:
        big_tag, big_imp, big_exp = big
        mx = lambda xs: f"{max(xs):.1f}" if xs else "—"
        s = lambda xs: f"{xs[0]:.2f} s" if xs else "—"
        lines += [
            "",
            f"Pipeline peak RSS, SQLite, {tag} → {big_tag} rows: "
            f"import {mx(imp.pipe_rss)} → {mx(big_imp.pipe_rss)} MiB, "
            f"export {mx(results[1].pipe_rss)} → {mx(big_exp.pipe_rss)} MiB "
            f"({big_tag}, one run: pipeline import {s(big_imp.pipe_times)}, export {s(big_exp.pipe_times)}; "
            f"sqlite3 import {s(big_imp.peer_times)} / {mx(big_imp.peer_rss)} MiB, "
            f"export {s(big_exp.peer_times)} / {mx(big_exp.peer_rss)} MiB).",
        ]
    if args.peers_only:
        lines += ["", "_Peers only (--peers-only): pipeline not measured._"]
    report = "\n".join(lines) + "\n"
    print(report)
    with open(RESULTS, "w") as f:
        f.write(report)
    log(f"written {RESULTS}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
