"""Every mistake a user can make gets a message and the right exit code, never a traceback.

Exit codes (DESIGN.md): 0 ok, 2 usage, 65 bad model or data, 78 bad configuration, 1 runtime.
Each test here pins one case of issue 9's list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from convert.cli import build_parser
from convert.cli import main as convert_main
from convert.export import Thresholds, publish_if_parity, rejected_path
from edge.model.runtime import (
    Runtime,
    RuntimeNotFound,
    _import_interpreter,
    _native_chatter_to_debug_log,
)
from edge.service.cli import main as edge_main
from edge.service.cli import version

BIN = Path(sys.executable).parent
GESTURE_EDGE = BIN / "gesture-edge"


def copy_model(src: Path, dst: Path, name: str = "m") -> Path:
    """A copy of a model pair (NAME.tflite + NAME.json) in `dst`; returns the .tflite."""
    out = dst / f"{name}.tflite"
    shutil.copy(src, out)
    shutil.copy(src.with_suffix(".json"), out.with_suffix(".json"))
    return out


def truncated(image_model: Path, dst: Path) -> Path:
    """The shipped image model cut to its first 5,000 bytes, its json unchanged."""
    out = copy_model(image_model, dst, "cut")
    out.write_bytes(image_model.read_bytes()[:5000])
    return out


def edit_json(tflite: Path, **changes: object) -> None:
    meta = json.loads(tflite.with_suffix(".json").read_text())
    meta.update(changes)
    tflite.with_suffix(".json").write_text(json.dumps(meta))


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- gesture-edge --------------------------------------------------------------------------


def test_check_config_loads_the_model_and_refuses_a_truncated_one_naming_it(
    tmp_path, image_model, caplog
):
    model = truncated(image_model, tmp_path)
    config = write_config(tmp_path / "c.toml", f'[model]\npath = "{model}"\n')
    assert edge_main(["check-config", "--config", str(config)]) == 65
    assert str(model) in caplog.text and "not a loadable TFLite model" in caplog.text


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_truncated_hand_model_exits_65_naming_it(
    tmp_path, image_model, mediapipe_models, caplog, command
):
    """A corrupt MediaPipe model is bad data (no systemd restart loop), not a missing package."""
    palm = tmp_path / "palm_detection_full.tflite"
    palm.write_bytes((mediapipe_models / palm.name).read_bytes()[:4000])
    config = write_config(
        tmp_path / "c.toml",
        f'[model]\npath = "{image_model}"\n[locate]\nmethod = "tracker"\npalm_model = "{palm}"\n',
    )
    assert edge_main([command, "--config", str(config)]) == 65
    assert f"{palm}: not a loadable TFLite model" in caplog.text


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_map_keys_that_are_not_labels_of_the_model_are_refused(
    tmp_path, image_model, caplog, command
):
    config = write_config(
        tmp_path / "c.toml", f'[model]\npath = "{image_model}"\n[commands.map]\npeice = "takeoff"\n'
    )
    assert edge_main([command, "--config", str(config)]) == 78
    assert "[commands] map.peice: 'peice' is not a label of the model" in caplog.text
    assert "none, up, down, left, right, stop, fist, peace" in caplog.text
    assert str(config) in caplog.text


def test_check_config_accepts_map_keys_that_are_labels(tmp_path, image_model):
    config = write_config(
        tmp_path / "c.toml", f'[model]\npath = "{image_model}"\n[commands.map]\npeace = "honk"\n'
    )
    assert edge_main(["check-config", "--config", str(config)]) == 0


def test_demo_config_passes_check_config_on_its_own(repo_root, caplog):
    assert edge_main(["check-config", "--config", str(repo_root / "configs/demo.toml")]) == 0


def test_classify_with_a_model_whose_json_is_missing_exits_65_naming_the_json(
    tmp_path, image_model, caplog
):
    model = tmp_path / "lonely.tflite"
    shutil.copy(image_model, model)
    assert edge_main(["classify", "--model", str(model), "--crops", str(tmp_path)]) == 65
    assert "lonely.json" in caplog.text and "<config>" not in caplog.text


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_model_without_its_json_exits_65_naming_the_json(tmp_path, image_model, caplog, command):
    """The config is fine; the model artefact is incomplete: EX_DATAERR, as the docs say."""
    model = tmp_path / "lonely.tflite"
    shutil.copy(image_model, model)
    config = write_config(tmp_path / "c.toml", f'[model]\npath = "{model}"\n')
    assert edge_main([command, "--config", str(config)]) == 65
    assert f"model metadata not found: {model.with_suffix('.json')}" in caplog.text


def test_duplicate_labels_are_reported_as_duplicates(tmp_path, image_model, caplog):
    model = copy_model(image_model, tmp_path)
    edit_json(model, labels=["none", "up", "up", "left", "right", "stop", "fist", "peace"])
    assert edge_main(["classify", "--model", str(model), "--crops", str(tmp_path)]) == 65
    assert "labels ['up'] appear more than once" in caplog.text


def test_version_flags_print_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        edge_main(["--version"])
    assert done.value.code == 0
    assert convert_main(["--version"]) == 0
    out = capsys.readouterr().out
    assert f"gesture-edge {version()}" in out and f"gesture-convert {version()}" in out
    assert version() != "unknown"  # the venv has the package installed


def test_classify_piped_into_head_stops_quietly(datasets, image_model):
    """`gesture-edge classify ... | head -1`: exit 0, no BrokenPipeError traceback."""
    folder = datasets / "shimaazizi-4gest" / "Fist"
    proc = subprocess.Popen(
        [GESTURE_EDGE, "classify", "--model", image_model, "--crops", "--json", folder],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, stderr
    assert json.loads(first)["path"].startswith(str(folder))
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_classify_prints_no_runtime_chatter_by_default(datasets, image_model):
    """The runtime's "Created TensorFlow Lite XNNPACK delegate" line is not a user's concern."""
    image = datasets / "shimaazizi-4gest" / "Fist" / "Fist_1.jpg"
    res = subprocess.run(
        [GESTURE_EDGE, "classify", "--model", image_model, "--crops", image],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == "" and "fist" in res.stdout


def test_only_the_runtimes_info_line_is_hidden_other_stderr_output_passes(capfd, caplog):
    caplog.set_level("DEBUG", logger="edge.model.runtime")
    with _native_chatter_to_debug_log():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING another thread: broker unreachable\n")
    err = capfd.readouterr().err
    assert "XNNPACK" not in err and "WARNING another thread: broker unreachable" in err
    assert "runtime: INFO: Created TensorFlow Lite XNNPACK delegate" in caplog.text


def test_tensorflow_runtime_is_tf_lite_interpreter_and_works(datasets, image_model):
    image = datasets / "shimaazizi-4gest" / "Fist" / "Fist_1.jpg"
    args = ["--log-level", "INFO", "classify", "--runtime", "tensorflow", "--crops", "--json"]
    res = subprocess.run(
        [GESTURE_EDGE, *args, "--model", image_model, image], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "on tensorflow" in res.stderr
    assert json.loads(res.stdout)["label"] == "fist"


def test_a_runtime_that_imports_without_an_interpreter_is_skipped_with_its_reason(
    tmp_path, datasets, image_model
):
    """A broken LiteRT (the module imports, no Interpreter): `auto` goes on to the next one."""
    broken = tmp_path / "site" / "ai_edge_litert"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("")
    (broken / "interpreter.py").write_text('"""A broken install: no Interpreter."""\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    image = datasets / "shimaazizi-4gest" / "Fist" / "Fist_1.jpg"
    res = subprocess.run(
        [GESTURE_EDGE, "--log-level", "INFO", "classify", "--model", image_model, "--crops", image],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert "on tensorflow" in res.stderr and "Traceback" not in res.stderr
    with pytest.raises(RuntimeNotFound, match="imports but has no Interpreter"):
        _import_interpreter(Runtime("tensorflow.lite", "json"))  # a module without one


def test_forcing_a_runtime_that_is_not_installed_exits_1_with_the_reason(
    tmp_path, image_model, caplog
):
    args = ["classify", "--runtime", "tflite-runtime", "--model", str(image_model)]
    assert edge_main([*args, "--crops", str(tmp_path)]) == 1
    assert "tflite-runtime: cannot import tflite_runtime.interpreter" in caplog.text


# --- gesture-convert -----------------------------------------------------------------------


def test_evaluate_a_truncated_tflite_exits_65_naming_it(tmp_path, image_model, caplog):
    model = truncated(image_model, tmp_path)
    assert convert_main(["evaluate", str(model), "--data", str(tmp_path)]) == 65
    assert str(model) in caplog.text and "not a loadable TFLite model" in caplog.text


def test_evaluate_a_tflite_whose_json_has_other_labels_exits_65(tmp_path, image_model, caplog):
    model = copy_model(image_model, tmp_path)
    edit_json(model, labels=["none", "up", "down", "left", "right", "stop", "fist"])
    assert convert_main(["evaluate", str(model), "--data", str(tmp_path)]) == 65
    assert "7 labels but the tflite has 8 outputs" in caplog.text


@pytest.mark.parametrize("command", ["train", "quantize"])
def test_out_other_than_tflite_is_refused(tmp_path, capsys, command):
    source = ["--data", str(tmp_path)] if command == "train" else ["--keras", "m.keras"]
    args = [command, *source, "-o", str(tmp_path / "x.onnx")]
    if command == "quantize":
        args += ["--data", str(tmp_path)]
    assert convert_main(args) == 2
    err = capsys.readouterr().err
    assert "writes an int8 TFLite model" in err and "x.onnx" in err
    assert not (tmp_path / "x.onnx").exists()


def test_export_names_the_file_it_finally_wrote(tmp_path, image_model, caplog):
    caplog.set_level("INFO")
    final = tmp_path / "two.tflite"
    staged = copy_model(image_model, tmp_path, rejected_path(final).stem)
    meta = json.loads(staged.with_suffix(".json").read_text())
    publish_if_parity(staged, final, meta, Thresholds())
    assert final.is_file() and not staged.exists()
    assert f"wrote {final}" in caplog.text
    assert ".rejected" not in caplog.text


def test_the_report_states_each_parity_check_with_its_outcome():
    """The report's parity sentence comes from the checks the json records, not a template."""
    from convert.report import parity_text

    failed = {
        "agreement": 0.97,
        "parity": {
            "ok": False,
            "min_agreement": 0.98,
            "agreement": 0.97,
            "max_accuracy_drop_points": 1.0,
            "accuracy_drop_points": 3.2,
        },
    }
    assert parity_text(failed) == (
        "Parity check FAILED (agreement 97.0 % < 98.0 %, accuracy drop 3.2 > 1 points)."
    )
    assert parity_text({"agreement": 1.0}) == "No parity check recorded."


def test_training_progress_is_a_line_per_epoch_when_stdout_is_no_terminal():
    from convert.cli import _default_progress

    args = build_parser().parse_args(["train", "--data", "d", "-o", "m.tflite"])
    assert args.progress is None  # chosen at run time:
    assert _default_progress() == "epoch"  # pytest's stdout is not a terminal


@pytest.mark.slow
def test_a_chance_level_model_is_warned_about_by_quantize_and_evaluate(
    tmp_path, tiny_dataset, caplog
):
    """A model that gives every image the same scores exits 0, but says it learned nothing."""
    import keras

    inputs = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", kernel_initializer="zeros")(pooled)
    flat = tmp_path / "flat.keras"
    keras.Model(inputs, outputs).save(flat)
    loose = ["--min-agreement", "0", "--max-accuracy-drop", "100"]
    args = ["quantize", "--keras", str(flat), "--data", str(tiny_dataset), *loose]
    assert convert_main(args) == 0
    assert "flat.tflite gives every one of the 36 inputs the same scores" in caplog.text
    caplog.clear()
    model = flat.with_suffix(".tflite")
    assert convert_main(["evaluate", str(model), "--data", str(tiny_dataset)]) == 0
    assert "flat.tflite gives every one of the 36 inputs the same scores" in caplog.text
    assert "chance level" in caplog.text


# --- make ------------------------------------------------------------------------------------


def test_make_help_lists_every_target_apart_from_its_description(repo_root):
    res = subprocess.run(
        ["make", "-s", "-C", str(repo_root), "help"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert "$(" not in res.stdout  # no unexpanded make variable
    for line in lines:
        _, _, description = line.strip().partition(" ")
        assert description.startswith(" "), line  # a column of spaces after every target name
    assert any(line.strip().startswith("test-tflite-runtime ") for line in lines)


def test_make_clean_removes_both_venvs_and_the_build_outputs(repo_root):
    res = subprocess.run(
        ["make", "-n", "-C", str(repo_root), "clean"], capture_output=True, text=True
    )
    words = res.stdout.split()
    for path in (".venv", ".venv-tflite", "build", "dist", "convert/build"):
        assert path in words, path
