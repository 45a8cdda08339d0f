"""Ready-made fake-NVML scenarios and the environment that makes a child process use them.

``sidecar_env(scenario_file)`` gives the environment for ``[sys.executable, "-m",
"gpu_sidecar", ...]`` (or any process that imports ``pynvml``): this directory first on
``PYTHONPATH``, then the checkout, and ``FAKE_NVML_SCENARIO`` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FAKE_NVML_DIR = Path(__file__).resolve().parent
GIB = 1024**3

H100 = "NVIDIA H100 80GB HBM3"
A100 = "NVIDIA A100-SXM4-40GB"
H100_ID = "GPU-11111111-2222-3333-4444-555555555555"
A100_ID = "GPU-66666666-7777-8888-9999-000000000000"
MIG_ID = "MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


class ManualClock:
    """A clock tests move by hand; pass it to ``load_scenario`` and to the code under test."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> float:
        """Set the time to ``seconds`` after the start; return it."""
        self.now = self.start + seconds
        return self.now


def two_gpus_and_mig() -> dict[str, Any]:
    """An H100 under load and an A100 in MIG mode with one 1g.5gb instance.

    The H100's memory peaks at 30 GiB for [1.0, 1.4) s only; the A100 has no energy counter
    (its energy is integrated from power).
    """
    return {
        "driver_version": "550.54.15",
        "gpus": [
            {
                "uuid": H100_ID,
                "name": H100,
                "pci_bus_id": "00000000:17:00.0",
                "memory_total": 80 * GIB,
                "fields": {
                    "utilization": [[0, 10], [0.5, 90]],
                    "memory_used": [[0, 10 * GIB], [1.0, 30 * GIB], [1.4, 20 * GIB]],
                    "power": 350_000,
                    "temperature": [[0, 50], [1.0, 71]],
                    "ecc_corrected": 3,
                },
                "energy_offset_mj": 9_000_000,
            },
            {
                "uuid": A100_ID,
                "name": A100,
                "pci_bus_id": "00000000:65:00.0",
                "memory_total": 40 * GIB,
                "fields": {"memory_used": 6 * GIB, "power": 120_000, "temperature": 45},
                "unsupported": ["utilization", "utilization_samples", "energy"],
                "mig": [
                    {
                        "uuid": MIG_ID,
                        "name": f"{A100} MIG 1g.5gb",
                        "memory_total": 5 * GIB,
                        "fields": {"memory_used": 2 * GIB},
                    }
                ],
            },
        ],
    }


def many_gpus(count: int) -> dict[str, Any]:
    """``count`` identical busy GPUs (for overhead measurements)."""
    return {
        "gpus": [
            {
                "uuid": f"GPU-{index:08d}-0000-0000-0000-000000000000",
                "name": H100,
                "memory_total": 80 * GIB,
                "fields": {"utilization": 75, "memory_used": 40 * GIB, "power": 400_000, "temperature": 65},
            }
            for index in range(count)
        ]
    }


def write_scenario(path: Path, scenario: dict[str, Any]) -> Path:
    path.write_text(json.dumps(scenario), encoding="utf-8")
    return path


def sidecar_env(scenario_file: Path, base: dict[str, str]) -> dict[str, str]:
    """``base`` (e.g. ``tests.conftest.subprocess_env()``) with the fake ``pynvml`` first on the path."""
    env = dict(base)
    env["PYTHONPATH"] = f"{FAKE_NVML_DIR}:{env.get('PYTHONPATH', '')}".rstrip(":")
    env["FAKE_NVML_SCENARIO"] = str(scenario_file)
    return env
