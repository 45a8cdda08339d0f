#!/usr/bin/env bash
# The GPU sidecar for 30 s on real NVIDIA GPUs, in embedded mode, and the figures it wrote:
# the best evidence that the fake NVML used by the tests behaves like the real library.
#
# On a machine with an NVIDIA driver, from the repository root, with the sidecar's
# requirements installed in the interpreter you use (pip install -r requirements/sidecar.txt):
#   bash bench/real_gpu_check.sh [SECONDS]          (PYTHON=... to choose the interpreter)
# If torch is importable, GPU 0 is kept busy for the middle third of the run, so the
# utilization, power and memory figures move; otherwise the GPUs are measured as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
DURATION="${1:-30}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/gpu-sidecar-check.XXXXXX")"
RUN_ID="real-gpu-check"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

echo "::: nvidia-smi before"
nvidia-smi --query-gpu=index,name,uuid,memory.used,memory.total,power.draw,temperature.gpu,utilization.gpu \
    --format=csv || echo "(nvidia-smi is not available)"

LOAD_PID=""
if "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2> /dev/null; then
    echo "::: torch found: loading GPU 0 from $((DURATION / 3)) s to $((2 * DURATION / 3)) s"
    "$PYTHON" - "$DURATION" << 'EOF' &
import sys, time
import torch
duration = float(sys.argv[1])
time.sleep(duration / 3)
a = torch.randn(8192, 8192, device="cuda:0")
end = time.monotonic() + duration / 3
while time.monotonic() < end:
    (a @ a).sum().item()
EOF
    LOAD_PID=$!
fi

echo "::: gpu-sidecar for ${DURATION} s (interval 1 s, export every 5 s) into $OUT"
"$PYTHON" - "$DURATION" "$OUT" "$RUN_ID" << 'EOF'
import resource, subprocess, sys, time
duration, out, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.monotonic()
code = subprocess.call([sys.executable, "-m", "gpu_sidecar", "--duration", duration, "--interval", "1",
                        "--export-interval", "5", "--run-id", run_id, "--exports-dir", out])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(f"exit code {code}; wall {time.monotonic() - start:.1f} s; sidecar CPU {cpu:.2f} s "
      f"(user {usage.ru_utime:.2f}, system {usage.ru_stime:.2f}); max RSS {usage.ru_maxrss / 1024:.0f} MiB")
sys.exit(code)
EOF

if [ -n "$LOAD_PID" ]; then wait "$LOAD_PID" || true; fi

echo "::: nvidia-smi after"
nvidia-smi --query-gpu=index,memory.used,power.draw,temperature.gpu,utilization.gpu --format=csv || true

echo "::: what the sidecar exported (per metric and device: points, min, mean, max)"
"$PYTHON" - "$OUT" "$RUN_ID" "$DURATION" << 'EOF'
import sys
from collections import defaultdict
from pathlib import Path
from tests.otlp_shapes import points, read_lines

out, run_id, duration = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
files = sorted((out / run_id).glob("metrics-*.jsonl"))
lines = [line for path in files for line in read_lines(path)]
series = defaultdict(list)
for point in points(lines):
    a = point["attributes"]
    extra = a.get("hw.state") or a.get("error.type") or ""
    series[(point["name"], point["unit"], a.get("hw.name"), a.get("hw.model"), extra)].append(point["value"])
print(f"{len(lines)} export line(s) in {', '.join(p.name for p in files)}")
for (name, unit, device, model, extra), values in sorted(series.items()):
    label = f"{name}[{extra}]" if extra else name
    print(f"{label:<34} {unit:<8} {device:<10} {len(values):3d} pts  min {min(values):<14.6g} "
          f"mean {sum(values) / len(values):<14.6g} max {max(values):<14.6g} {model}")
devices = {key[2] for key in series}
print(f"{len(devices)} device(s); the sidecar's own CPU figure is on its 'stopped after' line above")
EOF
echo "::: files kept in $OUT"
