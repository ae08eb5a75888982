#!/bin/bash
# Prove that the device side installs and gives the same answers on aarch64 (an emulated
# Raspberry Pi OS Bookworm, Debian 12 arm64, Python 3.11, under QEMU): `make arm64-check`.
#
# 1. On the host (x86, .venv): `gesture-edge classify --json` on a fixed set of real images
#    (scripts/arm64_check.py images): whole subhih-hands frames with the default landmark model
#    and the palm detector ([locate] method = "detector"), candir-gestures frames of people
#    1.5 m and 4 m away with the body path ([locate] method = "body"), subhih hand crops and
#    shimaazizi-4gest crops with the default landmark model (--crops) and with the image model
#    (--model models/gestures-image.tflite --crops).
# 2. For each emulated CPU (-p pi4 = Cortex-A72, pi5 = Cortex-A76), on a throwaway copy of the
#    checkout (tracked + untracked files, plus the gitignored models/mediapipe/*.tflite):
#    a fresh venv with the device side from its hashed lock (locks/edge-linux-aarch64-cp311.txt,
#    `pip install --require-hashes`; aarch64 wheels from PyPI), then -e . and pytest, the same
#    classify commands, `gesture-edge check-config` on the shipped configs, and the device-side
#    tests that need neither TensorFlow nor mosquitto (neither is in the arm64 root).
# 3. Labels host vs aarch64 per image; exit 1 on any disagreement or failed step.
#
# Needs root (chroot, mounts) and the arm64 root from ../shared/tools/arm64/make_arm64_env.sh
# (built here if missing, ~3.5 min). Emulation is 10-50x slower than a Pi: correctness only.
# env: ARM64_CPUS ("pi4 pi5"), PER_LABEL (4: images per label/class), ARM64_TOOLS, DATASETS,
#      ARM64_ROOT (/tmp/arm64/root), ARM64_PYTEST (the pytest arguments; "none" skips them),
#      KEEP=1 (keep the work folder).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${ARM64_TOOLS:-$REPO/../shared/tools/arm64}
DATASETS=$(readlink -f "${DATASETS:-$REPO/../shared/datasets}")
ROOT=${ARM64_ROOT:-/tmp/arm64/root}
CPUS=${ARM64_CPUS:-pi4 pi5}
PER_LABEL=${PER_LABEL:-4}
PY=$REPO/.venv/bin/python
PYTEST_ARGS=${ARM64_PYTEST:-"tests/test_edge_cameras.py tests/test_edge_classify.py \
tests/test_edge_config.py tests/test_edge_decide.py tests/test_edge_imports.py tests/test_hands.py \
tests/test_hands_classifier.py \
--deselect tests/test_edge_classify.py::test_a_landmarks_model_gets_the_landmark_classifier \
--deselect tests/test_hands_classifier.py::test_int8_agrees_with_float_on_the_evaluation_set \
-k 'not gesture_convert'"}
T0=$(date +%s)
say() { echo "[arm64-check +$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "arm64-check: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (the arm64 root is entered with chroot)"
[ -x "$PY" ] || die "no $PY: run make venv first"
[ -f "$REPO/models/mediapipe/palm_detection_full.tflite" ] || die "no MediaPipe models: run make models"
[ -d "$DATASETS/subhih-hands" ] || die "no datasets at $DATASETS"
[ -x "$TOOLS/run_arm64.sh" ] || die "no $TOOLS/run_arm64.sh (set ARM64_TOOLS)"
if [ ! -x "$ROOT/opt/venv/bin/python" ]; then
  say "building the arm64 root ($TOOLS/make_arm64_env.sh)"
  mkdir -p "$(dirname "$ROOT")"
  ARM64_ROOT=$ROOT "$TOOLS/make_arm64_env.sh"
fi

WORK=$(mktemp -d /tmp/gesturepilot-arm64.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/project
mkdir -p "$STAGE" "$WORK/out"

# --- the checkout as it is (what `git clone` + `make models` gives), and the images ----------
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$STAGE"
mkdir -p "$STAGE/models/mediapipe" && cp "$REPO"/models/mediapipe/* "$STAGE/models/mediapipe/"
"$PY" "$REPO/scripts/arm64_check.py" images "$DATASETS" "$STAGE/images" --per-label "$PER_LABEL"
cat > "$STAGE/images/detector.toml" <<'EOF'
# whole frames: the default landmark model, the hand found by the palm detector
[model]
path = "../models/gestures-landmarks.tflite"
[locate]
method = "detector"
EOF
cat > "$STAGE/images/body.toml" <<'EOF'
# people at a distance: the body path (person, raised hands), the hand cut from the frame
[model]
path = "../models/gestures-landmarks.tflite"
[locate]
method = "body"
EOF
cat > "$STAGE/images/classify.sh" <<'EOF'
# usage: GE=path/to/gesture-edge bash images/classify.sh  (in the project root) -> JSONL
set -euo pipefail
run() { local tag=$1; shift; "$GE" classify --json "$@" | sed "s/^{/{\"run\": \"$tag\", /"; }
run landmarks-frames --config images/detector.toml images/frames
run landmarks-body --config images/body.toml images/people
run landmarks-crops --crops images/crops
run landmarks-4gest --crops images/4gest
run image-crops --model models/gestures-image.tflite --crops images/crops
run image-4gest --model models/gestures-image.tflite --crops images/4gest
run landmarks-keypoints --keypoints images/keypoints.csv --mirrored
EOF
cat > "$STAGE/images/inner.sh" <<EOF
# runs inside the arm64 root, in the copy of the checkout; results go to /out
set -uo pipefail
echo "== \$(uname -m), \$(/usr/bin/python3 --version), \$(grep -m1 Model /proc/cpuinfo), QEMU_CPU=\$QEMU_CPU"
t=\$(date +%s)
# the device side from its hashed lock (what make install does), then the project and pytest
LOCK=locks/edge-linux-\$(/usr/bin/python3 -c 'import platform as p, sys; v = sys.version_info; print(f"{p.machine()}-cp{v[0]}{v[1]}")').txt
if /usr/bin/python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -q --require-hashes --only-binary=:all: -r \$LOCK \
    && /tmp/venv/bin/pip install -q --no-deps -e . && /tmp/venv/bin/pip install -q pytest; then
  V=/tmp/venv; echo "install: fresh venv, pip install --require-hashes -r \$LOCK, -e . pytest: ok in \$(( \$(date +%s) - t ))s" | tee /out/install.txt
else
  echo "install: FAILED in a fresh venv; falling back to --no-deps on /opt/venv" | tee /out/install.txt
  /opt/venv/bin/pip install -q --no-deps -e . || exit 3
  V=/opt/venv
fi
\$V/bin/pip freeze > /out/freeze.txt
\$V/bin/python -c 'import importlib.util as u; print("tensorflow importable:", u.find_spec("tensorflow") is not None)' | tee -a /out/install.txt
t=\$(date +%s)
GE=\$V/bin/gesture-edge bash images/classify.sh > /out/arm.jsonl; echo "classify: exit \$? in \$(( \$(date +%s) - t ))s" | tee /out/classify.txt
# systemd/gesturepilot.toml names /opt/gesturepilot/models, where make install puts the models
mkdir -p /opt/gesturepilot && ln -sfn /project/models /opt/gesturepilot/models
for c in configs/car.toml configs/drone.toml systemd/gesturepilot.toml; do
  \$V/bin/gesture-edge check-config --config \$c; echo "check-config \$c: exit \$?"
done 2>&1 | tee /out/check-config.txt
rm -f /opt/gesturepilot/models; rmdir /opt/gesturepilot 2>/dev/null
if [ "$PYTEST_ARGS" != none ]; then
  t=\$(date +%s)
  \$V/bin/python -m pytest -q -p no:cacheprovider $PYTEST_ARGS > /out/pytest.txt 2>&1
  echo "pytest: exit \$? in \$(( \$(date +%s) - t ))s: \$(tail -1 /out/pytest.txt)" | tee -a /out/pytest-summary.txt
fi
EOF

say "host (x86_64): classify $(find "$STAGE/images" -type f \( -name '*.jpg' -o -name '*.png' \) | wc -l) images"
(cd "$STAGE" && GE=$REPO/.venv/bin/gesture-edge bash images/classify.sh) > "$WORK/host.jsonl"

status=0
for cpu in $CPUS; do
  out=$WORK/out-$cpu; mkdir -p "$out"
  say "$cpu: install, classify, check-config, pytest under emulation"
  if ! "$TOOLS/run_arm64.sh" -c -p "$cpu" -r "$ROOT" -b "$out:/out" -b "$DATASETS:/shared/datasets" \
      "$STAGE" 'bash images/inner.sh' 2>&1 | sed -u "s/^/  [$cpu] /"; then
    say "$cpu: the run itself failed"; status=1
  fi
  grep -q "pip install --require-hashes -r locks/.*: ok" "$out/install.txt" 2>/dev/null || { say "$cpu: install failed"; status=1; }
  grep -q "exit 0" "$out/classify.txt" 2>/dev/null || { say "$cpu: classify failed"; status=1; }
  [ "$(grep -c ': exit 0$' "$out/check-config.txt" 2>/dev/null)" = 3 ] || { say "$cpu: check-config failed"; status=1; }
  if [ "$PYTEST_ARGS" != none ]; then
    grep -q "^pytest: exit 0" "$out/pytest-summary.txt" 2>/dev/null \
      || { say "$cpu: pytest failed"; tail -30 "$out/pytest.txt" 2>/dev/null; status=1; }
  fi
  touch "$out/arm.jsonl"
  "$PY" "$REPO/scripts/arm64_check.py" compare "$WORK/host.jsonl" "$out/arm.jsonl" --tag "$cpu" || status=1
done
say "done: $([ $status = 0 ] && echo PASS || echo FAIL) (work folder $WORK$([ "${KEEP:-0}" = 1 ] || echo ', removed'))"
exit $status
