# The GPU sidecar alone (`gpu-sidecar`): OpenTelemetry SDK, OTLP exporter and NVML bindings only, without
# litellm, huggingface_hub or pyarrow. The project is installed with --no-deps; its sidecar dependencies come
# from requirements/sidecar.txt (kept in step with pyproject.toml's ranges).
# Build from the repository root:  docker build -f docker/sidecar.Dockerfile -t smoltrace-otel-gpu-sidecar:local .
# Run with the NVIDIA container toolkit (it mounts the driver's libnvidia-ml into the container):
#   docker run --gpus all -e OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4317 smoltrace-otel-gpu-sidecar:local
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements/sidecar.txt /src/requirements/sidecar.txt
RUN pip install -r /src/requirements/sidecar.txt
# .dockerignore admits only the files the package needs.
COPY . /src
RUN pip install --no-deps /src

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OTEL_SERVICE_NAME=gpu-sidecar
RUN useradd --no-create-home --uid 10001 --user-group --shell /usr/sbin/nologin sidecar
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
CMD ["gpu-sidecar"]
