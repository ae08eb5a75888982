"""Fuzzed config TOML and model json: a clear message and exit 0/78/65, never a traceback."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.config import SECTIONS
from edge.config.paths import models_dir
from edge.exits import EX_CONFIG, EX_DATAERR, EX_OK
from edge.service.cli import main

# `make test` runs a few hundred examples each; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) >= 2,000.
settings.register_profile(
    "default-fuzz", max_examples=150, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = settings.get_profile(os.environ.get("GP_FUZZ_PROFILE", "default-fuzz"))
COUNTS: dict[str, dict[str, int]] = {}  # per fuzzer: exit code -> examples (make fuzz writes it)

KEYS = {name: [f.name for f in dataclasses.fields(cls)] for name, cls in SECTIONS.items()}
MODEL = models_dir() / "gestures-landmarks.tflite"


def toml_value() -> st.SearchStrategy[str]:
    """A TOML value as text: right types, wrong types, edge numbers, and plain garbage."""
    scalars = st.one_of(
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(
            lambda x: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(x), repr(x))
        ),
        st.booleans().map(lambda b: str(b).lower()),
        st.text(max_size=20).map(json.dumps),
        st.sampled_from(['"replay"', '"picamera2"', '"opencv"', '"video"', '"car"', '"drone"',
                         '"stop"', '"forward"', '"none"', '"0"', '""', '"/dev/null"',
                         '"/nonexistent"', '"127.0.0.1"', "1979-05-27T07:32:00Z", "0x1f"]),
        st.text("=[]{}\"',.#\n abc", max_size=8),  # broken syntax
    )  # fmt: skip
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.dictionaries(st.sampled_from(["a", "up", "x", "stop"]), inner, max_size=2).map(
                lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"
            ),
        ),
        max_leaves=4,
    )


@st.composite
def toml_text(draw: st.DrawFn) -> str:
    """Random sections of known (mostly) and unknown names with known and unknown keys."""
    lines: list[str] = []
    names = [*KEYS, "bogus", "camera.sub", "commands.car"]
    for name in draw(st.lists(st.sampled_from(names), max_size=5)):
        lines.append(f"[{name}]")
        known = KEYS.get(name, ["x"])
        for _ in range(draw(st.integers(0, 4))):
            key = draw(st.one_of(st.sampled_from(known), st.sampled_from(["typo", "Path", "1"])))
            lines.append(f"{key} = {draw(toml_value())}")
    if draw(st.booleans()):  # most runs also name a model, so a valid config gets far
        lines.insert(0, f'[model]\npath = "{MODEL}"')
    return "\n".join(lines) + "\n"


def run_cli(*argv: str) -> tuple[int, str]:
    """`gesture-edge ARGV` in-process; any exception escaping `main` fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        import logging

        root = logging.getLogger()
        handler = logging.StreamHandler(err)
        root.addHandler(handler)
        try:
            code = main(list(argv))
        finally:
            root.removeHandler(handler)
    return code, err.getvalue() + out.getvalue()


def count(fuzzer: str, code: int) -> None:
    COUNTS.setdefault(fuzzer, {}).setdefault(str(code), 0)
    COUNTS[fuzzer][str(code)] += 1


def report(fuzzer: str) -> None:
    """`make fuzz`: add this fuzzer's examples per exit code to GP_FUZZ_OUT (bench/fuzz.json)."""
    out = os.environ.get("GP_FUZZ_OUT")
    if not out:
        return
    path = Path(out)
    data = json.loads(path.read_text()) if path.is_file() else {}
    codes = COUNTS.get(fuzzer, {})
    data[fuzzer] = {"examples": sum(codes.values()), "exit_codes": codes, "tracebacks": 0}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_fuzzed_toml_configs_give_a_message_and_exit_0_78_or_65(tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("fuzz-config")
    path = folder / "config.toml"

    @PROFILE
    @given(toml_text())
    def check(text: str) -> None:
        path.write_text(text)
        code, said = run_cli("check-config", "--config", str(path))
        count("config", code)
        assert code in (EX_OK, EX_CONFIG, EX_DATAERR), said
        assert "Traceback" not in said
        if code == EX_CONFIG:
            assert str(path) in said, said  # the message names the file
        if code != EX_OK:
            assert said.strip(), "an error must say something"

    check()
    report("config")


def mutate(meta: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The shipped model's json with a few keys dropped, retyped or altered."""
    meta = copy.deepcopy(meta)
    junk = st.one_of(
        st.none(), st.booleans(), st.integers(-5, 2**40), st.floats(), st.text(max_size=5),
        st.lists(st.integers(-2, 300), max_size=5), st.just({}), st.just([]),
    )  # fmt: skip
    for _ in range(draw(st.integers(1, 4))):
        inp = meta.get("input")
        paths = [(k,) for k in meta]
        paths += [("input", k) for k in inp] if isinstance(inp, dict) else []
        if not paths:
            break
        where = draw(st.sampled_from(paths))
        parent = meta if len(where) == 1 else meta["input"]
        action = draw(st.sampled_from(["drop", "junk", "labels", "sha", "shape"]))
        if action == "drop":
            parent.pop(where[-1], None)
        elif action == "junk":
            parent[where[-1]] = draw(junk)
        elif action == "labels":
            old = meta.get("labels")
            labels = list(old) if isinstance(old, list) else []
            meta["labels"] = draw(
                st.sampled_from([labels[:-1], [*labels, "extra"], labels[:1], labels * 2, []])
            )
        elif action == "sha":
            meta["sha256"] = draw(st.sampled_from(["0" * 64, "", "zz", 5]))
        elif isinstance(meta.get("input"), dict):
            meta["input"]["shape"] = draw(st.lists(st.integers(-1, 64), max_size=4))
    return meta


def test_fuzzed_model_json_gives_exit_65_with_a_message(tmp_path_factory) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path_factory.mktemp("fuzz-model")))
    model = folder / "m.tflite"
    shutil.copy(MODEL, model)
    shipped = json.loads(MODEL.with_suffix(".json").read_text())
    rows = folder / "rows.csv"
    points = [f"{0.3 + 0.01 * (i % 7) + 0.02 * (i // 2 % 5):.3f}" for i in range(42)]
    rows.write_text("up," + ",".join(points) + "\n")

    @st.composite
    def variants(draw: st.DrawFn) -> str:
        if draw(st.integers(0, 9)) == 0:  # sometimes not even JSON
            return draw(st.text(max_size=40))
        return json.dumps(mutate(shipped, draw))

    @PROFILE
    @given(variants())
    def check(text: str) -> None:
        model.with_suffix(".json").write_text(text)
        code, said = run_cli("classify", "--model", str(model), "--keypoints", str(rows))
        count("model", code)
        assert "Traceback" not in said
        if text == json.dumps(shipped):
            return
        assert code in (EX_OK, EX_DATAERR), said  # 0 only when the mutation changed nothing used
        if code == EX_DATAERR:
            assert "model" in said and said.strip(), said

    check()
    report("model")
