#!/bin/sh
# Run the daemon under strace and check its system calls against the unit's filter:
# every call must be in @system-service and none in @privileged, and no memory may be mapped
# writable+executable (what MemoryDenyWriteExecute= would forbid).
# Usage: scripts/syscall-survey.sh CONFIG [SECONDS]   (needs strace; the config's broker up)
set -eu
config=${1:?usage: $0 CONFIG [SECONDS]}
seconds=${2:-10}
edge=${GESTURE_EDGE:-$(dirname "$0")/../.venv/bin/gesture-edge}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

expand() {  # the system calls of a systemd syscall group, nested groups expanded
    systemd-analyze syscall-filter "$1" | sed -n '/^@/,$p' | tail -n +2 \
        | sed 's/^ *//; s/ *#.*//' | grep -v '^$' | while read -r s; do
            case $s in @*) expand "$s" ;; *) echo "$s" ;; esac
        done
}

timeout -s TERM "$seconds" strace -f -qq -o "$out/trace" "$edge" run --config "$config" \
    2>"$out/log" || true
sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/; s/^([a-z0-9_]+)\(.*/\1/' \
    "$out/trace" | grep -E '^[a-z0-9_]+$' | sort -u >"$out/used"
expand @system-service | sort -u >"$out/allowed"
expand @privileged | sort -u >"$out/privileged"
echo "distinct system calls: $(wc -l <"$out/used")"
echo "outside @system-service: $(comm -23 "$out/used" "$out/allowed" | tr '\n' ' ')"
echo "inside @privileged: $(comm -12 "$out/used" "$out/privileged" | tr '\n' ' ')"
echo "writable+executable mappings: $(grep -cE 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE' "$out/trace" || true)"
echo "mprotect(PROT_EXEC): $(grep -cE 'mprotect\(.*PROT_EXEC' "$out/trace" || true)"
tail -n 3 "$out/log"
