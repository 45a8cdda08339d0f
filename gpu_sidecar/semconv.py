"""GPU metric names, units and instrument kinds: the sidecar's metric model.

Two families: ``semconv`` follows the OpenTelemetry hardware conventions (``hw.*``,
fractions, bytes, joules); ``genai`` is the family the reference tool and
genai-otel-instrument use (``gen_ai.gpu.*``, percent and MiB). The publisher and the
sample-metrics generator read these definitions instead of repeating the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Instrument = Literal["gauge", "counter", "updowncounter"]
Naming = Literal["semconv", "genai"]


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    instrument: Instrument
    description: str


# --- attributes -------------------------------------------------------------------
HW_ID = "hw.id"
HW_NAME = "hw.name"
HW_PARENT = "hw.parent"
HW_TYPE = "hw.type"
HW_VENDOR = "hw.vendor"
HW_MODEL = "hw.model"
HW_DRIVER_VERSION = "hw.driver_version"
HW_STATE = "hw.state"
HW_GPU_TASK = "hw.gpu.task"
ERROR_TYPE = "error.type"
NVIDIA_GPU_INDEX = "nvidia.gpu.index"
NVIDIA_GPU_PCI_BUS_ID = "nvidia.gpu.pci_bus_id"
GENAI_GPU_ID = "gpu_id"
GENAI_GPU_NAME = "gpu_name"

# --- semconv family (hw.*) ----------------------------------------------------------
HW_GPU_UTILIZATION = MetricSpec("hw.gpu.utilization", "1", "gauge", "GPU busy fraction over the interval")
HW_GPU_MEMORY_USAGE = MetricSpec("hw.gpu.memory.usage", "By", "updowncounter", "GPU memory in use")
HW_GPU_MEMORY_LIMIT = MetricSpec("hw.gpu.memory.limit", "By", "updowncounter", "GPU memory size")
HW_GPU_MEMORY_UTILIZATION = MetricSpec("hw.gpu.memory.utilization", "1", "gauge", "Fraction of GPU memory in use")
HW_POWER = MetricSpec("hw.power", "W", "gauge", "Instantaneous power draw")
HW_ENERGY = MetricSpec("hw.energy", "J", "counter", "Energy consumed since the sidecar started")
HW_TEMPERATURE = MetricSpec("hw.temperature", "Cel", "gauge", "GPU core temperature")
HW_ERRORS = MetricSpec("hw.errors", "{error}", "counter", "ECC errors (error.type)")
HW_STATUS = MetricSpec("hw.status", "1", "updowncounter", "1 for the device's current hw.state")

SEMCONV_METRICS = (
    HW_GPU_UTILIZATION,
    HW_GPU_MEMORY_USAGE,
    HW_GPU_MEMORY_LIMIT,
    HW_GPU_MEMORY_UTILIZATION,
    HW_POWER,
    HW_ENERGY,
    HW_TEMPERATURE,
    HW_ERRORS,
    HW_STATUS,
)

# --- genai family (gen_ai.gpu.*), compatible with the reference tool ----------------
GENAI_GPU_UTILIZATION = MetricSpec("gen_ai.gpu.utilization", "%", "gauge", "GPU utilization in percent")
GENAI_GPU_MEMORY_USED = MetricSpec("gen_ai.gpu.memory.used", "MiB", "gauge", "GPU memory in use")
GENAI_GPU_MEMORY_TOTAL = MetricSpec("gen_ai.gpu.memory.total", "MiB", "gauge", "GPU memory size")
GENAI_GPU_TEMPERATURE = MetricSpec("gen_ai.gpu.temperature", "Cel", "gauge", "GPU temperature")
GENAI_GPU_POWER = MetricSpec("gen_ai.gpu.power", "W", "gauge", "GPU power draw")

GENAI_METRICS = (
    GENAI_GPU_UTILIZATION,
    GENAI_GPU_MEMORY_USED,
    GENAI_GPU_MEMORY_TOTAL,
    GENAI_GPU_TEMPERATURE,
    GENAI_GPU_POWER,
)

FAMILIES: dict[Naming, tuple[MetricSpec, ...]] = {"semconv": SEMCONV_METRICS, "genai": GENAI_METRICS}
