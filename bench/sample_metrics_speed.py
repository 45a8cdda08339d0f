"""How fast ``smoltrace sample-metrics`` makes data: readings per second of CPU, and output size.

Runs the whole command (simulation, metric model, encoding, writing) in this process for
8 GPUs over one hour (28,808 readings), in both namings, best of ``--repeats``::

    python bench/sample_metrics_speed.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from smoltrace_otel import cli


def measure(naming: str, gpus: int, duration: int, repeats: int) -> tuple[float, int]:
    best = float("inf")
    size = 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            started = time.process_time()
            flags = ["--seed", "1", "--gpus", str(gpus), "--duration", str(duration), "--naming", naming]
            with contextlib.redirect_stdout(io.StringIO()):  # the command's own summary
                code = cli.main(["sample-metrics", "-q", *flags, "--run-id", "bench", "--output", out])
            best = min(best, time.process_time() - started)
            assert code == 0
            size = (Path(out) / "bench" / "metrics.jsonl").stat().st_size
    return best, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--duration", type=int, default=3600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    readings = (args.duration + 1) * args.gpus
    sys.stdout.write(f"{args.gpus} GPUs x {args.duration} s at 1 s readings, 10 s exports: {readings:,} readings\n")
    for naming in ("semconv", "genai"):
        seconds, size = measure(naming, args.gpus, args.duration, args.repeats)
        sys.stdout.write(
            f"  {naming:8} {seconds:6.2f} s CPU  {readings / seconds:9,.0f} readings/s  "
            f"{size / 1e6:6.1f} MB metrics.jsonl\n"
        )


if __name__ == "__main__":
    main()
