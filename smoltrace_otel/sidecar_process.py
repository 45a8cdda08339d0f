"""The GPU sidecar as a child process of ``smoltrace run``.

``smoltrace run`` probes NVML once; when a GPU answers, it starts ``python -m gpu_sidecar``
with the run's id and transport, and stops it with SIGTERM at the end (the sidecar takes a
last sample, flushes and exits 0). Without a GPU it only says so.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SidecarSettings:
    run_id: str
    exports_dir: Path
    otlp_endpoint: str | None = None
    interval_s: float = 1.0
    export_interval_s: float = 5.0
    log_file: Path | None = None


def gpus_present() -> tuple[bool, str]:
    """Whether NVML sees at least one GPU here, and a one-line reason or device list."""
    from gpu_sidecar.nvml_source import NoGpuError, NvmlSource

    source = NvmlSource()
    try:
        devices = source.open()
    except NoGpuError as error:
        return False, str(error)
    finally:
        source.close()
    names = ", ".join(sorted({device.name for device in devices}))
    return True, f"{len(devices)} device(s): {names}"


class SidecarProcess:
    """Context manager around a running ``gpu_sidecar`` child process."""

    def __init__(self, settings: SidecarSettings) -> None:
        self.settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        self._log = None
        self.exit_code: int | None = None

    def start(self) -> SidecarProcess:
        s = self.settings
        command = [
            sys.executable, "-m", "gpu_sidecar",
            "--run-id", s.run_id,
            "--interval", str(s.interval_s),
            "--export-interval", str(max(s.export_interval_s, s.interval_s)),
            "--exports-dir", str(s.exports_dir),
        ]  # fmt: skip
        if s.otlp_endpoint:
            command += ["--otlp-endpoint", s.otlp_endpoint]
        if s.log_file is not None:
            s.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = s.log_file.open("ab")
        self._process = subprocess.Popen(command, stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        logger.info("GPU sidecar started (pid %d)", self._process.pid)
        return self

    def stop(self) -> int | None:
        """SIGTERM, then wait for the last sample to be flushed; the sidecar's exit code."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    logger.warning("GPU sidecar did not stop within %.0f s; killing it", STOP_TIMEOUT_S)
                    process.kill()
                    process.wait(timeout=10)
            self.exit_code = process.returncode
            if self.exit_code != 0:
                logger.warning("GPU sidecar exited with code %s", self.exit_code)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.exit_code

    def __enter__(self) -> SidecarProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
