#!/bin/sh
# Install the gesturepilot edge daemon as a systemd service (run as root on the device).
# Used by `make install` and, unpacked from the deploy bundle, by `make deploy`.
# Every knob is an environment variable; see docs/deploy.md.
set -eu

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/gesturepilot}
SYSCONFDIR=${SYSCONFDIR:-/etc/gesturepilot}
UNITDIR=${UNITDIR:-/etc/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-/etc/sysusers.d}
DEVICE_PYTHON=${DEVICE_PYTHON:-/usr/bin/python3}  # apt's python: sees python3-picamera2
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}      # the unpacked bundle or the checkout
WHEEL=${WHEEL:-}                                   # a built gesturepilot wheel; empty: build one
MODELS=${MODELS:-$SRC/models}
MODEL=${MODEL:-gestures-landmarks}                 # the gesture model the config names
VENV_PIP_ARGS=${VENV_PIP_ARGS:-}                   # e.g. --no-deps (tests), --index-url ...
LOCK=${LOCK:-}                                     # hashed pins; empty: locks/ for this device; none
WHEELHOUSE=${WHEELHOUSE:-}                         # the lock's wheels from this folder only
USE_SYSTEM_OPENCV=${USE_SYSTEM_OPENCV:-0}          # 1: keep apt's cv2 (Jetson: GStreamer)
NO_START=${NO_START:-0}                            # 1: enable, but do not (re)start now
VEHICLE=${VEHICLE:-}                               # car | drone | sim: also gesturepilot-vehicle

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
case "$VEHICLE" in "" | car | drone | sim) ;; *) die "VEHICLE=$VEHICLE: one of car, drone, sim" ;; esac

root=$DESTDIR
venv=$root$PREFIX/venv
[ -x "$(command -v "$DEVICE_PYTHON")" ] || die "no python at $DEVICE_PYTHON (set DEVICE_PYTHON)"
[ -f "$MODELS/$MODEL.tflite" ] || die "no model at $MODELS/$MODEL.tflite (set MODELS or MODEL)"
[ -f "$SRC/systemd/gesturepilot.service" ] || die "$SRC is not a gesturepilot tree (set SRC)"

say "venv $venv (system site packages: apt's picamera2 stays visible)"
if [ -e "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    say "the old venv does not run (Python upgraded with the OS?): recreating it"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    "$DEVICE_PYTHON" -m venv --system-site-packages "$venv" \
        || die "cannot create a venv; on Debian/Raspberry Pi OS: apt install python3-venv"
fi
pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$WHEEL" ]; then  # a deploy bundle carries its wheel
    for f in "$SRC"/gesturepilot-*.whl; do if [ -f "$f" ]; then WHEEL=$f; fi; done
fi
if [ -z "$WHEEL" ]; then
    say "building a wheel from $SRC"
    pip wheel -q --no-deps -w "$tmp" "$SRC" >&2
    WHEEL=$(ls "$tmp"/gesturepilot-*.whl)
fi
# apt's picamera2/simplejpeg are built against the system numpy: never shadow it in the venv.
sysnumpy=$("$DEVICE_PYTHON" -c 'import numpy; print(numpy.__version__)' 2>/dev/null || true)
if [ "$LOCK" = none ]; then
    say "warning: LOCK=none: dependencies resolved from pyproject.toml's ranges, no hashes"
    : >"$tmp/constraints.txt"
    if [ -n "$sysnumpy" ]; then echo "numpy==$sysnumpy" >"$tmp/constraints.txt"; fi
    # shellcheck disable=SC2086  # VENV_PIP_ARGS is a list of words
    pip install -q -c "$tmp/constraints.txt" $VENV_PIP_ARGS "$WHEEL[edge]" >&2
else
    if [ -z "$LOCK" ]; then
        tag=$("$venv/bin/python" -c 'import platform as p, sys; v = sys.version_info; print(f"linux-{p.machine()}-cp{v[0]}{v[1]}")')
        LOCK=$SRC/locks/edge-$tag.txt
        [ -f "$LOCK" ] || die "no lock for this device ($tag) in $SRC/locks: add it to devtools/lock.py and run make lock, or LOCK=none to install unlocked"
    fi
    [ -f "$LOCK" ] || die "LOCK=$LOCK: no such file"
    locked=$(sed -n 's/^numpy==\([^ ]*\).*/\1/p' "$LOCK")
    if [ -n "$sysnumpy" ] && [ -n "$locked" ] && [ "$sysnumpy" != "$locked" ]; then
        die "apt's numpy is $sysnumpy, $LOCK pins $locked (apt's picamera2 needs its own): set numpy for this OS in devtools/lock.py and run make lock, or LOCK=none"
    fi
    index=""
    if [ -n "$WHEELHOUSE" ]; then index="--no-index --find-links $WHEELHOUSE"; fi
    say "dependencies from $LOCK (pip --require-hashes${WHEELHOUSE:+, only from $WHEELHOUSE})"
    # shellcheck disable=SC2086  # index and VENV_PIP_ARGS are lists of words
    pip install -q --require-hashes --only-binary=:all: $index $VENV_PIP_ARGS -r "$LOCK" >&2 \
        || die "the locked install failed (a hash that does not match is a tampered or re-uploaded file: never edit the lock by hand; make lock)"
fi
# Same version as before (a redeploy) still replaces the code.
pip install -q --no-deps --force-reinstall "$WHEEL" >&2
if [ "$USE_SYSTEM_OPENCV" = 1 ]; then
    pip uninstall -q -y opencv-python-headless >&2 || true
fi
if [ -n "$DESTDIR" ]; then
    # Staged install: scripts must name the final path, not the staging root.
    grep -rlI -- "$DESTDIR" "$venv/bin" | while read -r f; do
        sed -i "s|$DESTDIR||g" "$f"
    done
fi

say "models -> $root$PREFIX/models"
install -d -m 0755 "$root$PREFIX/models"
for f in "$MODELS"/*.tflite "$MODELS"/*.json "$MODELS"/LICENSE*; do
    if [ -f "$f" ]; then install -m 0644 "$f" "$root$PREFIX/models/"; fi
done
if [ -d "$MODELS/mediapipe" ]; then
    install -d -m 0755 "$root$PREFIX/models/mediapipe"
    for f in "$MODELS"/mediapipe/*; do
        if [ -f "$f" ]; then install -m 0644 "$f" "$root$PREFIX/models/mediapipe/"; fi
    done
fi

# The tracker needs the MediaPipe hand models the classifier was trained with (its json says;
# the int8 copies come from `make models` on the workstation, never from the wheel).
hands="$root$PREFIX/models/mediapipe"
needed=$("$venv/bin/python" -c 'import sys; from pathlib import Path; from edge.config.rules import trained_with; print(*trained_with(Path(sys.argv[1])).values())' "$MODELS/$MODEL.tflite" 2>/dev/null || echo "palm_detection_full.tflite hand_landmark_full.tflite")
for name in $needed; do
    [ -f "$hands/$name" ] || die "no $name in $MODELS/mediapipe: run make models, then install again"
done

subst() {
    sed -e "s|/opt/gesturepilot|$PREFIX|g" -e "s|/etc/gesturepilot|$SYSCONFDIR|g" \
        -e "s|gestures-landmarks|$MODEL|g" "$1"
}
say "unit -> $root$UNITDIR/gesturepilot.service"
install -d -m 0755 "$root$UNITDIR" "$root$SYSUSERSDIR" "$root$SYSCONFDIR"
subst "$SRC/systemd/gesturepilot.service" >"$tmp/unit"
install -m 0644 "$tmp/unit" "$root$UNITDIR/gesturepilot.service"
install -m 0644 "$SRC/systemd/gesturepilot.sysusers" "$root$SYSUSERSDIR/gesturepilot.conf"
if [ -e "$root$SYSCONFDIR/gesturepilot.toml" ]; then
    say "keeping your $SYSCONFDIR/gesturepilot.toml (the shipped default: gesturepilot.toml.dist)"
    subst "$SRC/systemd/gesturepilot.toml" >"$tmp/toml"
    install -m 0644 "$tmp/toml" "$root$SYSCONFDIR/gesturepilot.toml.dist"
else
    subst "$SRC/systemd/gesturepilot.toml" >"$tmp/toml"
    install -m 0644 "$tmp/toml" "$root$SYSCONFDIR/gesturepilot.toml"
fi
# LoadCredential= fails the start when the file is missing: an empty line means "no password".
if [ ! -e "$root$SYSCONFDIR/mqtt_password" ]; then
    (umask 077 && printf '\n' >"$root$SYSCONFDIR/mqtt_password")
fi
# The preview's token (asked of every request once [preview] host is not loopback): random,
# made once, kept across reinstalls; the log prints a link with it once per start.
if [ ! -s "$root$SYSCONFDIR/preview_token" ]; then
    (umask 077 && "$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))' \
        >"$root$SYSCONFDIR/preview_token")
fi

# shellcheck source=scripts/install-vehicle.sh
if [ -n "$VEHICLE" ]; then . "$SRC/scripts/install-vehicle.sh"; fi

if [ -n "$DESTDIR" ] || [ ! -d /run/systemd/system ]; then
    say "staged into ${DESTDIR:-/} (no user created, systemd not touched)"
    exit 0
fi
say "user gesturepilot (group video)"
if command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$SYSUSERSDIR/gesturepilot.conf"
elif ! id gesturepilot >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/gesturepilot --shell /usr/sbin/nologin \
        --groups video gesturepilot
fi
"$venv/bin/gesture-edge" check-config --config "$SYSCONFDIR/gesturepilot.toml" \
    || say "warning: $SYSCONFDIR/gesturepilot.toml does not pass check-config; fix it, then: systemctl restart gesturepilot"
systemctl daemon-reload
systemctl enable gesturepilot.service
if [ "$NO_START" != 1 ]; then
    systemctl restart gesturepilot.service
    say "started; follow it with: journalctl -u gesturepilot -f"
fi
if [ -n "$VEHICLE" ]; then
    systemctl enable gesturepilot-vehicle.service
    if [ "$NO_START" != 1 ]; then systemctl restart gesturepilot-vehicle.service; fi
fi
