#!/bin/sh
# Remove what scripts/install.sh installed. Keeps /etc/gesturepilot (your config and password),
# the service user and /var/lib/gesturepilot unless PURGE=1.
set -eu

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/gesturepilot}
SYSCONFDIR=${SYSCONFDIR:-/etc/gesturepilot}
UNITDIR=${UNITDIR:-/etc/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-/etc/sysusers.d}
PURGE=${PURGE:-0}
root=$DESTDIR

say() { printf 'uninstall: %s\n' "$*" >&2; }

live=0
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then live=1; fi
if [ "$live" = 1 ] && [ -e "$UNITDIR/gesturepilot.service" ]; then
    systemctl disable --now gesturepilot.service || true
fi
if [ "$live" = 1 ] && [ -e "$UNITDIR/gesturepilot-vehicle.service" ]; then
    systemctl disable --now gesturepilot-vehicle.service || true
fi
conf="$root$SYSCONFDIR/gesturepilot.toml"
if [ -x "$root$PREFIX/venv/bin/gesture-edge" ] && grep -Eq '^[[:space:]]*ha_discovery[[:space:]]*=[[:space:]]*true' "$conf" 2>/dev/null; then
    # the daemon is stopped: clear its retained Home Assistant discovery configs on the broker
    CREDENTIALS_DIRECTORY="$root$SYSCONFDIR" "$root$PREFIX/venv/bin/gesture-edge" ha-remove --config "$conf" \
        || say "could not clear the Home Assistant discovery configs (gesture-edge ha-remove --config $conf)"
fi
rm -rf "$root$UNITDIR/gesturepilot-vehicle.service" "$root$UNITDIR/gesturepilot-vehicle.service.d"
rm -f "$root$UNITDIR/gesturepilot.service" "$root$SYSUSERSDIR/gesturepilot.conf"
rm -rf "$root$PREFIX/venv" "$root$PREFIX/models"
rmdir "$root$PREFIX" 2>/dev/null || say "kept $PREFIX (it holds files we did not install)"
if [ "$live" = 1 ]; then systemctl daemon-reload; fi
if [ "$PURGE" = 1 ]; then
    rm -rf "$root$SYSCONFDIR"
    if [ -z "$DESTDIR" ]; then
        rm -rf /var/lib/gesturepilot
        if id gesturepilot >/dev/null 2>&1; then userdel gesturepilot || true; fi
    fi
    say "purged $SYSCONFDIR, /var/lib/gesturepilot and the gesturepilot user"
else
    say "kept $SYSCONFDIR (config, mqtt_password, preview_token) and the gesturepilot user; PURGE=1 removes them"
fi
