"""Incremental import into a large store: how long `maatwerk import-cases` of N cases takes, and where.

    python -m bench.incremental --data-dir /work/bench/out/100000/data --work /tmp/copy --n 100 \
        [--code /path/to/checkout] [--json out.json]

Copies the data dir (never writes the original), then, each as a real `maatwerk` subprocess with
MAATWERK_LOG_LEVEL=INFO:
1. `maatwerk search` once: the first open of the copy (loads the index; converts an older index
   layout if the code in use has a newer one), timed;
2. `import-cases` of N new cases (`maatwerk generate` with a seed the store does not use: new ids);
3. `import-cases` of N cases already in the store (from its import file), each with a changed title.
For each import: wall time, the time between consecutive INFO log lines (start-up, graph commit,
index sync with its encode and save split when the code logs them), and the bytes written into the
index directory (new or changed files). `--code` runs another checkout (PYTHONPATH), e.g. main's
code for the figures before a change; the same copy state is then used for both.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

MAATWERK = Path(sys.executable).with_name("maatwerk")
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO (\S+): (.*)$")
NEW_SEED = 777  # `maatwerk generate` ids are gen-<seed>-<n>: a seed the benchmark stores do not use


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="the large data dir (only read)")
    parser.add_argument("--work", type=Path, required=True, help="where to copy it (removed first)")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1], help="checkout to run")
    parser.add_argument("--cases", type=Path, help="the store's import file (default: cases.jsonl beside it)")
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(args.data_dir, args.work / "data", symlinks=True)
    data = args.work / "data"
    print(f"copied {args.data_dir} in {time.perf_counter() - started:.0f} s")
    env = {**os.environ, "PYTHONPATH": str(args.code), "MAATWERK_LOG_LEVEL": "INFO", "HF_HUB_OFFLINE": "1"}
    results: dict = {"code": str(args.code), "n": args.n, "date": datetime.now().isoformat(timespec="seconds")}

    results["first_open"] = run(["search", "huurachterstand en schulden", "-k", "3", "--json"], data, env)
    new_file, replaced_file = args.work / "new.jsonl", args.work / "replaced.jsonl"
    subprocess.run(
        [str(MAATWERK), "generate", "--n", str(args.n), "--out", str(new_file), "--seed", str(NEW_SEED)],
        env=env,
        capture_output=True,
        check=True,
    )
    write_replacements(args.cases or args.data_dir.parent / "cases.jsonl", replaced_file, args.n)
    results["import_new"] = run(["import-cases", str(new_file)], data, env)
    results["import_replaced"] = run(["import-cases", str(replaced_file)], data, env)
    results["index_dir_bytes"] = dir_bytes(data / "index")
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if not args.keep:
        shutil.rmtree(args.work)


def write_replacements(cases: Path, out: Path, n: int) -> None:
    """N cases of the store's own import file, each with a new title: a re-import replaces them."""
    with open(cases, encoding="utf-8-sig") as handle:
        lines = [line for _, line in zip(range(50_000), handle)]
    picked = random.Random(5).sample(lines, n)
    records = [json.loads(line) for line in picked]
    for record in records:
        record["title"] = f"Herzien: {record['title']}"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def run(command: list[str], data: Path, env: dict[str, str]) -> dict:
    """One `maatwerk` subprocess: wall time, the INFO log's steps, bytes written into the index dir."""
    before = snapshot(data / "index")
    started, wall_start = time.perf_counter(), datetime.now()
    done = subprocess.run(
        [str(MAATWERK), *command, "--data-dir", str(data)], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"maatwerk {command[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    after = snapshot(data / "index")
    written = sum(size for path, (size, mtime) in after.items() if before.get(path) != (size, mtime))
    steps, last = [], wall_start
    for line in done.stderr.splitlines():
        match = LOG_LINE.match(line)
        if match:
            at = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f")
            steps.append({"until": f"{match[2]}: {match[3]}"[:160], "s": round((at - last).total_seconds(), 2)})
            last = at
    result = {"command": command[0], "wall_s": round(wall, 2), "index_bytes_written": written, "steps": steps}
    print(f"maatwerk {command[0]}: {wall:.1f} s, {written / 1e6:.1f} MB written into the index dir")
    for step in steps:
        print(f"  {step['s']:7.2f} s  until  {step['until']}")
    return result


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


def dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


if __name__ == "__main__":
    main()
