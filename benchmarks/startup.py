"""Start-up cost of the `huifang` CLI, as CPU time against a bare `python -c pass` on the same machine.

    python benchmarks/startup.py                 # builds the default demo store (about a minute)
    python benchmarks/startup.py --subjects 60   # a smaller demo store
    python benchmarks/startup.py --no-cache      # every run compiles the project's modules
    python benchmarks/startup.py --db demo.db    # a copy of an existing demo store (and demo.db.keys)

Each command runs --runs times (after one warm-up run) in a fresh process; the figure is the median
of the child's user+sys CPU (RUSAGE_CHILDREN), so a busy machine distorts it less than wall time.
Targets: `huifang --version` at most 3x `python -c pass` (the fixed cost of every command) and
`huifang queue` on the demo store at most 0.5 s of CPU (operators run dozens of commands an hour).
By default the children cache bytecode in a private directory (PYTHONPYCACHEPREFIX), as an
installed huifang does, and leave the source tree untouched. No figure here is asserted by a test.

`huifang queue` as an operator runs it (the wall clock, no --as) on a SQLite store whose views are
current reads the page with the stdlib sqlite3 alone (cli/queue.py): the work list with names too,
once the day's reads of the subjects shown are recorded (G8; the warm-up run records them, as an
operator's first list of the day does) — it then decrypts only the names shown (cryptography) and
lays the table out without rich. The rows "the same, full path" show the path it falls back to
otherwise (here: a config with plugin settings, which only the plugins can validate).

One run (--runs 7, `--db` a copy of the default demo store, python 3.11; 2 cores shared with other
jobs, load ~8):
    command                                  CPU ms  x pass  target    result
    python -c pass                             74.8    1.00
    huifang --version                         159.8    2.14  <= 3x     PASS
    huifang --help                            669.3    8.94
    huifang queue --limit 0 (demo store)      368.1    4.92  <= 0.5 s  PASS
      the same, full path                    2121.5   28.35
    huifang queue --codes --limit 0           142.7    1.91  <= 0.5 s  PASS
      the same, full path                    1708.4   22.83
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

NOW = "2026-11-26T09:00:00+08:00"
VERSION_RATIO = 3.0  # huifang --version / python -c pass
QUEUE_SECONDS = 0.5  # huifang queue on the demo store


def cpu_seconds(cmd: list[str], env: dict[str, str], cwd: str, runs: int) -> float:
    """Median user+sys CPU of `cmd` over `runs` fresh processes (one warm-up run first)."""
    subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.decode()[-400:]}")
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def huifang_command() -> list[str]:
    """The installed `huifang` script next to this interpreter, else the same entry point via -c."""
    script = Path(sys.executable).with_name("huifang")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="Runs per command (the median is shown).")
    ap.add_argument("--subjects", type=int, default=None, help="Demo store size (default: the demo's own).")
    ap.add_argument("--no-cache", action="store_true", help="Do not cache bytecode (PYTHONDONTWRITEBYTECODE=1).")
    ap.add_argument("--db", default=None, help="Measure on a copy of this demo store (and its .keys) instead of "
                                               "building one.")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="huifang-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUIFANG_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.no_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["HUIFANG_CACHE_DIR"] = str(Path(tmp) / "cache")  # the plugins' labels (cli/queue.py), kept here
        hf = huifang_command()
        db = str(Path(tmp) / "demo.db")
        if args.db is not None:
            shutil.copy2(args.db, db)
            if Path(args.db + ".keys").is_dir():
                shutil.copytree(args.db + ".keys", db + ".keys")
        else:
            demo = [*hf, "--db", db, "--now", NOW, "demo", "--json"]
            if args.subjects is not None:
                demo += ["--subjects", str(args.subjects)]
            print(f"building the demo store in {tmp} ...", file=sys.stderr, flush=True)
            r = subprocess.run(demo, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
            if r.returncode != 0:
                raise SystemExit(f"demo: exit {r.returncode}: {r.stderr.decode()[-400:]}")

        # at the wall clock, as operators run it; the warm-up run records the day's reads (G8) and keeps the
        # plugins' labels, as an operator's first list of the day does
        queue = [*hf, "--db", db, "queue", "--limit", "0"]
        settings = Path(tmp) / "settings.toml"
        settings.write_text("[plugins.medical]\n", encoding="utf-8")  # valid, but only the plugin can say so
        full_names = [*hf, "--db", db, "--config", str(settings), "queue", "--limit", "0"]
        full = [*hf, "--db", db, "--config", str(settings), "queue", "--codes", "--limit", "0"]
        base = cpu_seconds([sys.executable, "-c", "pass"], env, tmp, args.runs)
        rows: list[tuple[str, float, str, bool | None]] = [("python -c pass", base, "", None)]
        codes = [*hf, "--db", db, "queue", "--codes", "--limit", "0"]
        for label, cmd in (("huifang --version", [*hf, "--version"]), ("huifang --help", [*hf, "--help"]),
                           ("huifang queue --limit 0 (demo store)", queue),
                           ("  the same, full path", full_names),
                           ("huifang queue --codes --limit 0", codes),
                           ("  the same, full path", full)):
            t = cpu_seconds(cmd, env, tmp, args.runs)
            if label == "huifang --version":
                rows.append((label, t, f"<= {VERSION_RATIO:g}x", t <= VERSION_RATIO * base))
            elif label.startswith("huifang queue"):
                rows.append((label, t, f"<= {QUEUE_SECONDS:g} s", t <= QUEUE_SECONDS))
            else:
                rows.append((label, t, "", None))

    print(f"CPU time (user+sys), median of {args.runs} runs; bytecode "
          f"{'not cached' if args.no_cache else 'cached'}; python {sys.version.split()[0]}")
    print(f"{'command':<38} {'CPU ms':>8} {'x pass':>7}  {'target':<9} result")
    for label, t, target, ok in rows:
        result = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{label:<38} {1000 * t:>8.1f} {t / base:>7.2f}  {target:<9} {result}")


if __name__ == "__main__":
    main()
