"""A last check before anything leaves the machine: no staged file may contain a secret.

The secrets are the Hugging Face token in use and the values of environment variables
whose names say they are secrets (``smoltrace_otel.redact.secret_env_values``). Parquet
files are checked cell by cell on their decoded string values (compression would hide a
byte match), streamed batch by batch; other files byte by byte. A hit stops the publish
with the file and column named, never the secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from publisher.hub_errors import SecretInStagedFileError
from smoltrace_otel.redact import secret_env_values

_CHUNK = 1 << 20
_MIN_SECRET_LENGTH = 8


def secrets_to_check(token: str | None) -> tuple[str, ...]:
    """The token and every secret environment value, longest first."""
    values = {*secret_env_values(), *([token] if token else [])}
    return tuple(sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True))


def _string_arrays(name: str, array: pa.Array) -> Iterator[tuple[str, pa.Array]]:
    """Every string-valued leaf of ``array`` (through lists, structs and maps), with its column path."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        yield name, array
    elif pa.types.is_dictionary(kind):
        yield from _string_arrays(name, array.dictionary_decode())
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        yield from _string_arrays(f"{name}[]", pc.list_flatten(array))
    elif pa.types.is_map(kind):
        yield from _string_arrays(f"{name}.key", array.keys)
        yield from _string_arrays(f"{name}.value", array.items)
    elif pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            yield from _string_arrays(f"{name}.{kind.field(index).name}", array.field(index))


def _parquet_hit(path: Path, secrets: tuple[str, ...]) -> str | None:
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=8192):
        for index, column in enumerate(batch.columns):
            for where, strings in _string_arrays(batch.schema.field(index).name, column):
                for secret in secrets:
                    if pc.any(pc.match_substring(strings, secret)).as_py():
                        return where
    return None


def _bytes_hit(path: Path, secrets: tuple[str, ...]) -> bool:
    needles = [s.encode() for s in secrets]
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def ensure_no_secrets(files: Iterable[Path], secrets: tuple[str, ...]) -> None:
    """Raise ``SecretInStagedFileError`` naming the first file (and column) that holds a secret."""
    if not secrets:
        return
    for path in files:
        if path.suffix == ".parquet":
            column = _parquet_hit(path, secrets)
            if column is not None:
                raise SecretInStagedFileError(
                    f"{path} column {column!r} contains a secret value (the Hugging Face token or a secret "
                    "environment variable); nothing was published: remove it from the data and stage the run again"
                )
        elif _bytes_hit(path, secrets):
            raise SecretInStagedFileError(
                f"{path} contains a secret value (the Hugging Face token or a secret environment variable); "
                "nothing was published: remove it from the data and stage the run again"
            )
