"""Every real OTLP JSON sample decodes, with the values the OTLP JSON rules say it holds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from publisher.exports import ReadStats, read_documents
from publisher.otlp_json import iter_log_records, iter_spans, norm_id
from publisher.otlp_metrics import iter_metric_points
from publisher.otlp_schema import Document, convert, decode_document
from tests.conftest import FIXTURES

ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".jsonl", ".yaml"))


def _documents(name: str) -> list[Document]:
    path = FIXTURES / name
    if path.suffix == ".yaml":
        return [convert(yaml.safe_load(path.read_text()), Document)]
    if path.suffix == ".jsonl":
        return [decode_document(line) for line in path.read_bytes().splitlines() if line.strip()]
    return [decode_document(path.read_bytes())]  # one pretty-printed document


def _counts(documents: list[Document]) -> tuple[int, int, int]:
    return (
        sum(1 for d in documents for _ in iter_spans(d)),
        sum(1 for d in documents for _ in iter_metric_points(d)),
        sum(1 for d in documents for _ in iter_log_records(d)),
    )


EXPECTED_COUNTS = {
    # file: (spans, data points, log records)
    "contrib-metrics-cpu.json": (0, 16, 0),
    "contrib-signaltometrics-traces-exponential_histograms-output.converted.json": (0, 5, 0),
    "contrib-signaltometrics-traces-exponential_histograms-output.yaml": (0, 5, 0),
    "contrib-tcpcheck-metrics_golden.converted.json": (0, 2, 0),
    "contrib-tcpcheck-metrics_golden.yaml": (0, 2, 0),
    "contrib-valid_metric_single_expected.converted.json": (0, 1, 0),
    "contrib-valid_metric_single_expected.yaml": (0, 1, 0),
    "proto-events.json": (0, 0, 1),
    "proto-logs.json": (0, 0, 1),
    "proto-metrics.json": (0, 4, 0),
    "proto-trace.json": (1, 0, 0),
    "rust-logs.json": (0, 0, 1),
    "rust-metrics.json": (0, 3, 0),
    "rust-test_flush_on_shutdown.json": (0, 1, 0),
    "rust-test_histogram_meter.json": (0, 1, 0),
    "rust-test_u64_counter_meter.json": (0, 1, 0),
    "rust-test_up_down_meter.json": (0, 1, 0),
    "rust-traces.json": (2, 0, 0),
    "spec-file-exporter-logs.jsonl": (0, 0, 8),
    "spec-file-exporter-metrics.jsonl": (0, 16, 0),
    "spec-file-exporter-traces.jsonl": (8, 0, 0),
}


def test_every_fixture_is_covered() -> None:
    assert set(ALL_FIXTURES) == set(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_decodes_completely(name: str) -> None:
    assert _counts(_documents(name)) == EXPECTED_COUNTS[name]


@pytest.mark.parametrize("name", [n for n in ALL_FIXTURES if n.endswith(".yaml")])
def test_yaml_golden_and_its_json_conversion_decode_alike(name: str) -> None:
    converted = name.replace(".yaml", ".converted.json")
    points = [
        [
            (p.metric.name, p.metric.kind, p.attributes, p.time_unix_nano, p.value, p.fields)
            for p in iter_metric_points(d)
        ]
        for d in (_documents(name)[0], _documents(converted)[0])
    ]
    assert points[0] == points[1]


def test_reader_takes_compact_lines_of_every_json_fixture(tmp_path: Path) -> None:
    """The Collector writes one compact document per line: every JSON fixture read that way."""
    lines = []
    for name in ALL_FIXTURES:
        if name.endswith(".yaml"):
            continue
        path = FIXTURES / name
        texts = path.read_text().splitlines() if name.endswith(".jsonl") else [path.read_text()]
        lines += [json.dumps(json.loads(t), separators=(",", ":")) for t in texts if t.strip()]
    export = tmp_path / "all.jsonl"
    export.write_text("\n".join(lines) + "\n")
    stats = ReadStats()
    signals = [signal for signal, _ in read_documents([export], stats)]
    assert stats.unparsable_lines == stats.torn_lines == stats.unknown_lines == 0
    assert signals.count("spans") == 1 + 1 + 4
    assert signals.count("logs") == 3 + 4
    assert len(signals) == len(lines)


def test_proto_trace_upper_case_ids_become_lower_case() -> None:
    (span,) = iter_spans(_documents("proto-trace.json")[0])
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert span.kind_name == "server"
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.duration_ms == 1000.0
    assert span.attributes == {"my.span.attr": "some value"}
    assert span.scope.name == "my.library" and span.scope.attributes == {"my.scope.attribute": "some scope attribute"}
    assert span.resource.attributes == {"service.name": "my.service"}
    assert span.status_code == 0


def test_rust_traces_empty_parent_is_a_root_and_events_decode() -> None:
    spans = {s.name: s for s in iter_spans(_documents("rust-traces.json")[0])}
    root, child = spans["operation"], spans["Sub operation..."]
    assert root.parent_span_id is None
    assert child.parent_span_id == root.span_id == "d58cf2d702a061e0"
    assert root.events[0].name == "Nice operation!"
    assert root.events[0].attributes == {"bogons": 100}
    assert root.events[0].time_unix_nano == 1703985537070563326
    assert child.kind_name == "internal" and child.status_name == "unset"


def test_spec_traces_keep_error_status_links_and_id_less_spans() -> None:
    spans = [s for d in _documents("spec-file-exporter-traces.jsonl") for s in iter_spans(d)]
    a = next(s for s in spans if s.name == "operationA")
    b = next(s for s in spans if s.name == "operationB")
    assert a.trace_id is None and a.span_id is None and a.parent_span_id is None
    assert a.status_code == 2 and a.status_message == "status-cancelled"
    assert [e.name for e in a.events] == ["event-with-attr", "event"]
    assert a.events[0].attributes == {"span-event-attr": "span-event-attr-val"}
    assert b.status_code == 0
    assert [link.attributes for link in b.links] == [{"span-link-attr": "span-link-attr-val"}, {}]
    assert a.start_time_unix_nano == 1581452772000000321


def test_proto_metrics_every_kind() -> None:
    points = {p.metric.name: p for p in iter_metric_points(_documents("proto-metrics.json")[0])}
    counter = points["my.counter"]
    assert counter.metric.kind == "sum" and counter.metric.temporality == 1 and counter.metric.monotonic
    assert counter.value == 5.0 and not counter.is_int  # asDouble written as the integral number 5
    assert points["my.gauge"].value == 10.0 and points["my.gauge"].metric.kind == "gauge"
    histogram = points["my.histogram"].fields
    assert histogram == {
        "count": 2,
        "sum": 2.0,
        "min": 0.0,
        "max": 2.0,
        "bucket_counts": [1, 1],
        "explicit_bounds": [1.0],
    }
    exponential = points["my.exponential.histogram"].fields
    assert exponential["count"] == 3 and exponential["zero_count"] == 1 and exponential["scale"] == 0
    assert exponential["positive"] == {"offset": 1, "bucket_counts": [0, 2]}
    assert exponential["negative"] == {"offset": 0, "bucket_counts": []}
    assert points["my.counter"].attributes == {"my.counter.attr": "some value"}


def test_missing_temporality_and_monotonic_default_to_zero_values() -> None:
    points = list(iter_metric_points(_documents("contrib-metrics-cpu.json")[0]))
    assert {p.metric.temporality for p in points} == {0}
    assert {p.metric.monotonic for p in points} == {False}
    user = next(p for p in points if p.attributes == {"cpu": "cpu0", "state": "user"})
    assert user.value == 64.78
    assert user.start_time_unix_nano == 1718187065000000000
    assert user.time_unix_nano == 1718187616419290690
    assert [p.value for p in points].count(0.0) >= 1  # integral values written as 0 stay real zeros


def test_as_int_strings_negative_values_and_real_zero() -> None:
    (up_down,) = iter_metric_points(_documents("rust-test_up_down_meter.json")[0])
    assert up_down.value == -1 and up_down.is_int
    assert up_down.metric.monotonic is False and up_down.metric.temporality == 2
    rust = {p.metric.name: p for p in iter_metric_points(_documents("rust-metrics.json")[0])}
    assert rust["counter_u64"].value == 10 and rust["counter_u64"].attributes == {
        "mykey1": "myvalue1",
        "mykey2": "myvalue2",
    }
    assert rust["example_histogram"].fields["bucket_counts"][4] == 1
    assert len(rust["example_histogram"].fields["explicit_bounds"]) == 15
    tcp = {
        p.metric.name: p.value
        for p in iter_metric_points(_documents("contrib-tcpcheck-metrics_golden.converted.json")[0])
    }
    assert tcp == {"tcpcheck.duration": 36, "tcpcheck.status": 1}
    spec = [p.value for d in _documents("spec-file-exporter-metrics.jsonl") for p in iter_metric_points(d)]
    assert sorted(spec) == sorted([120, 121, 123, 123, 123, 123, 123, 125] + [456] * 8)


def test_summary_quantile_written_as_empty_object_is_zero() -> None:
    (summary,) = iter_metric_points(_documents("contrib-valid_metric_single_expected.converted.json")[0])
    assert summary.metric.kind == "summary"
    assert summary.fields["count"] == 1
    assert summary.fields["quantile_values"] == [(0.0, 0.0), (1.0, 0.0)]
    assert summary.attributes["Dimensions"] == {"QueueName": "test-queue"}


def test_exponential_histograms_with_large_offsets() -> None:
    points = list(
        iter_metric_points(_documents("contrib-signaltometrics-traces-exponential_histograms-output.converted.json")[0])
    )
    db = next(p for p in points if p.metric.name == "db.trace.span.duration")
    assert db.metric.temporality == 1
    assert db.fields["scale"] == 7 and db.fields["positive"]["offset"] == 1147
    assert db.fields["count"] == 4 and db.fields["zero_count"] == 0
    assert sum(db.fields["positive"]["bucket_counts"]) == 4


def test_logs_every_any_value_kind() -> None:
    (record,) = iter_log_records(_documents("proto-logs.json")[0])
    assert record.attributes == {
        "string.attribute": "some string",
        "boolean.attribute": True,
        "int.attribute": 10,
        "double.attribute": 637.704,
        "array.attribute": ["many", "values"],
        "map.attribute": {"some.map.key": "some value"},
    }
    assert record.trace_id == "5b8efff798038103d269b633813fc60c" and record.severity_number == 10
    assert record.body == "Example log record"
    (event,) = iter_log_records(_documents("proto-events.json")[0])
    assert event.event_name == "browser.page_view"
    assert event.body["type"] == 0 and event.body["title"] == "Free Online GUID Generator"
    (rust,) = iter_log_records(_documents("rust-logs.json")[0])
    assert rust.trace_id is None and rust.time_unix_nano == 0 and rust.observed_time_unix_nano == 1715753202587469939
    assert rust.scope.version == ""
    spec = [r for d in _documents("spec-file-exporter-logs.jsonl") for r in iter_log_records(d)]
    assert spec[0].trace_id == "08040201000000000000000000000000" and spec[1].trace_id is None


def test_number_encodings_enum_names_base64_ids_and_unknown_keys() -> None:
    line = json.dumps(
        {
            "futureTopLevel": {"x": 1},
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "k", "value": {"bytesValue": "AQID"}}], "newField": 1},
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "W47/95gDgQPSabYzgT/GDA==",  # base64, as protobuf JSON writes it
                                    "spanId": "7uGbfsPBsXQ=",
                                    "kind": "SPAN_KIND_CLIENT",
                                    "startTimeUnixNano": 1544712660000000000,  # a number, not a string
                                    "endTimeUnixNano": "1544712661000000000",
                                    "status": {"code": "STATUS_CODE_ERROR"},
                                    "attributes": [
                                        {"key": "nan", "value": {"doubleValue": "NaN"}},
                                        {"key": "inf", "value": {"doubleValue": "-Infinity"}},
                                        {"key": "int", "value": {"intValue": 7}},
                                        {"key": "empty", "value": {}},
                                    ],
                                    "someFutureField": [1, 2],
                                }
                            ]
                        }
                    ],
                }
            ],
        }
    )
    (span,) = iter_spans(decode_document(line.encode()))
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.kind_name == "client" and span.status_name == "error"
    assert span.duration_ms == 1000.0
    assert math.isnan(span.attributes["nan"]) and span.attributes["inf"] == -math.inf
    assert span.attributes["int"] == 7 and span.attributes["empty"] is None
    assert span.resource.attributes == {"k": "AQID"}


def test_nan_as_bare_token_and_as_string_in_points() -> None:
    bare = b'{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":NaN},{"asDouble":"Infinity"},{"asInt":"0"}]}}]}]}]}'
    values = [p.value for p in iter_metric_points(decode_document(bare))]
    assert math.isnan(values[0]) and values[1] == math.inf
    assert values[2] == 0 and values[2] is not None


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'{"resourceSpans": 3}', b"not json", b'{"resourceSpans": [{"scopeSpans": [{"spans": [7]}]}]}']
)
def test_documents_that_are_not_otlp_are_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not"):
        decode_document(raw)


def test_norm_id_rules() -> None:
    assert norm_id("ABCDEF0123456789") == "abcdef0123456789"
    assert norm_id("") is None and norm_id(None) is None


def test_the_one_attribute_encoder_round_trips_every_kind_through_the_publishers_decoder() -> None:
    from gpu_sidecar.otlp_encode import attributes as encode
    from publisher.otlp_json import attributes as decode
    from publisher.otlp_schema import KeyValue

    values = {
        "none": None, "flag": False, "count": 0, "big": 2**62, "ratio": 0.25, "whole": 350.0,
        "text": "gpu0", "list": ["a", 1, 2.5], "nested": {"inner": {"deep": True}, "items": [1, 2]},
    }  # fmt: skip
    lines = json.dumps(encode(values), allow_nan=False)
    assert '"doubleValue":350' in lines.replace(" ", "")  # as the Collector writes an integral double

    assert decode(convert(json.loads(lines), list[KeyValue])) == values

    odd = json.loads(json.dumps(encode({"nan": math.nan, "up": math.inf, "down": -math.inf}), allow_nan=False))
    decoded = decode(convert(odd, list[KeyValue]))  # strict JSON: non-finite doubles are strings
    assert math.isnan(decoded["nan"]) and decoded["up"] == math.inf and decoded["down"] == -math.inf
