"""OpenTelemetry instruments fed from the metric model's observations.

Every metric of the chosen family is an *observable* instrument (gauge, counter or
up-down counter, as :mod:`gpu_sidecar.semconv` says). The sampler records
observations into a window; each time the SDK collects (once per export interval),
an instrument's callback takes that metric's observations from the window and reports
one point per series, reduced by :func:`gpu_sidecar.model.reduce`. So:

* however many samples fall within one export interval, none is lost (peaks are kept);
* a series that got no observation (a lost GPU, an unsupported reading) reports no
  point at all rather than a stale or zero value;
* counters report their running totals, as observable counters should.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter
from opentelemetry.metrics import Observation as OtelObservation

from gpu_sidecar import semconv
from gpu_sidecar.model import Observation, reduce
from gpu_sidecar.semconv import MetricSpec, Naming


class ObservationWindow:
    """Observations recorded since each metric was last collected (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[Observation]] = {}

    def add(self, observations: Iterable[Observation]) -> None:
        with self._lock:
            for observation in observations:
                self._pending.setdefault(observation.spec.name, []).append(observation)

    def take(self, metric_name: str) -> list[Observation]:
        """Remove and return the reduced observations of one metric."""
        with self._lock:
            pending = self._pending.pop(metric_name, [])
        return reduce(pending)


class GpuInstruments:
    """The observable instruments of one naming family on ``meter``."""

    def __init__(self, meter: Meter, naming: Naming) -> None:
        self.naming: Naming = naming
        self.window = ObservationWindow()
        self.specs = semconv.FAMILIES[naming]
        for spec in self.specs:
            self._create(meter, spec)

    def record(self, observations: Iterable[Observation]) -> None:
        """Keep observations until the next collection (the sampler calls this after each sample)."""
        self.window.add(observations)

    def _create(self, meter: Meter, spec: MetricSpec) -> None:
        factories = {
            "gauge": meter.create_observable_gauge,
            "counter": meter.create_observable_counter,
            "updowncounter": meter.create_observable_up_down_counter,
        }
        factories[spec.instrument](
            spec.name, callbacks=[self._callback(spec)], unit=spec.unit, description=spec.description
        )

    def _callback(self, spec: MetricSpec) -> Callable[[CallbackOptions], Iterable[OtelObservation]]:
        def callback(_options: CallbackOptions) -> Iterable[OtelObservation]:
            return [OtelObservation(o.value, o.attribute_map) for o in self.window.take(spec.name)]

        return callback
