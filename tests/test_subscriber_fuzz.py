"""Hostile payloads against every subscriber entry point: never a crash, never a move.

At least 10,000 generated payloads per entry point (`FUZZ_CASES`, counted in `SEEN`, drawn in
batches of `BATCH` so hypothesis' per-example cost stays small), called directly (no broker)
on a clock that does not move, so no run of messages can ever settle into a new offset; after
the fuzzing the vehicle still obeys the next fresh command.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.clock import SteppedClock
from subscribers.freshness import parse_command
from subscribers.sim_car import SimCar

FUZZ_CASES = 10_000
BATCH = 20
SEEN: Counter[str] = Counter()
WALL = SteppedClock().wall
ROOT = "gesturepilot/car1"
FUZZ = settings(
    max_examples=FUZZ_CASES // BATCH,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

primitives = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = (  # flat: hypothesis' recursive strategies cost ~3 ms a draw
    primitives
    | st.lists(primitives, max_size=4)
    | st.dictionaries(st.text(max_size=6), primitives, max_size=4)
)
nesting = st.builds(
    lambda n, opener, tail: opener * n + tail,
    st.integers(1, 120_000),
    st.sampled_from([b"[", b"{", b'{"a":', b'[{"command":']),
    st.binary(max_size=8),
)
# ts values that are never fresh: non-finite, 1970, far future, well over max_age old
bad_ts = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-0.0", "true", '"now"', "null"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(0.6, 1e6).map(lambda age: repr(WALL - age)),
    st.floats(301, 1e9).map(lambda ahead: repr(WALL + ahead)),
    st.integers(-(2**70), 1_577_836_799).map(str),
)
any_seq = st.one_of(
    st.integers(-(2**80), 2**80).map(str),
    st.sampled_from(["true", "1.5", '"7"', "null", "[]", "1e3", str(2**63 - 1)]),
)
any_command = st.one_of(
    st.sampled_from(["forward", "left", "stop", "takeoff"]).map(json.dumps),
    st.text(max_size=40).map(json.dumps),
    json_values.map(json.dumps),
)
hostile_commands = st.builds(
    lambda c, s, t, extra: (
        f'{{"command": {c}, "seq": {s}, "ts": {t}, "x": {json.dumps(extra)}}}'.encode()
    ),
    any_command,
    any_seq,
    bad_ts,
    json_values,
)
payloads = st.one_of(
    st.binary(max_size=400),
    json_values.map(lambda v: json.dumps(v).encode()),
    nesting,
    hostile_commands,
)


def fresh(seq: int, command: str = "forward") -> bytes:
    return json.dumps({"command": command, "seq": seq, "ts": WALL, "gesture": "up"}).encode()


@pytest.fixture(scope="module")
def quiet() -> None:
    logging.getLogger("subscribers").setLevel(logging.ERROR)  # 10k warnings cost seconds
    yield
    logging.getLogger("subscribers").setLevel(logging.NOTSET)


@pytest.fixture(scope="module")
def car(quiet) -> SimCar:
    return SimCar("127.0.0.1", 1, "car1", clock=SteppedClock())


def obeys_a_fresh_command(car: SimCar) -> bool:
    car.handle(f"{ROOT}/command", fresh(2**52, "forward"))
    moved = car.current == "forward"
    car.stop("fuzz: next batch")
    return moved


def batch(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(strategy, min_size=BATCH, max_size=BATCH)


@FUZZ
@given(batch(payloads))
def test_parse_command_never_raises_and_returns_only_well_formed_commands(batch):
    for payload in batch:
        SEEN["parse_command"] += 1
        message = parse_command(payload)
        if message is not None:
            assert isinstance(message["command"], str) and isinstance(message["seq"], int)
            assert isinstance(message["ts"], (int, float))


@FUZZ
@given(batch(st.tuples(payloads | hostile_commands, st.booleans())))
def test_hostile_command_payloads_never_crash_and_never_move_the_vehicle(car, batch):
    for payload, retain in batch:
        SEEN["command"] += 1
        car.handle(f"{ROOT}/command", payload, retain)
        assert car.current == "stop" and car.errors == 0


@FUZZ
@given(batch(st.binary(max_size=300) | nesting | st.text().map(str.encode)))
def test_hostile_status_payloads_never_crash_and_never_move_the_vehicle(car, batch):
    for payload in batch:
        SEEN["status"] += 1
        car.handle(f"{ROOT}/status", payload)
        assert car.current == "stop" and car.errors == 0


topics = st.text(max_size=60) | st.sampled_from(
    [f"{ROOT}/command", f"{ROOT}/status", "gesturepilot/car2/command", f"{ROOT}/command/x"]
)


@FUZZ
@given(batch(st.tuples(topics, st.binary(max_size=200) | st.just(fresh(2**40)), st.booleans())))
def test_hostile_topics_never_crash_and_never_move_the_vehicle(car, batch):
    for topic, payload, retain in batch:
        if topic == f"{ROOT}/command" and payload == fresh(2**40):
            retain = True  # a real fresh command, but retained: still never a move
        SEEN["topic"] += 1
        car.handle(topic, payload, retain)
        assert car.current == "stop" and car.errors == 0


def test_after_the_fuzzing_the_vehicle_still_obeys_a_fresh_command(car):
    print(f"fuzzed payloads per entry point: {dict(SEEN)}")
    assert min(SEEN[k] for k in ("parse_command", "command", "status", "topic")) >= FUZZ_CASES, SEEN
    assert car.rejected >= FUZZ_CASES  # the batches above ran against this car
    assert obeys_a_fresh_command(car)
