#!/bin/sh
# The vehicle side of `make install VEHICLE=car|drone|sim` (sourced by scripts/install.sh, which
# has set root, venv, tmp, PREFIX, SYSCONFDIR, UNITDIR, SRC and say/die/pip/subst).
[ -f "$SRC/systemd/gesturepilot-vehicle.service" ] || die "no systemd/gesturepilot-vehicle.service in $SRC"
[ -f "$SRC/configs/vehicle-$VEHICLE.toml" ] || die "no configs/vehicle-$VEHICLE.toml in $SRC"

# The vehicle's library: apt's (python3-gpiozero with lgpio on Raspberry Pi OS) when the venv
# sees it, else from PyPI. djitellopy without its GUI opencv-python (the venv has headless).
if [ -z "$DESTDIR" ]; then
    if [ "$VEHICLE" = car ] && ! "$venv/bin/python" -c 'import gpiozero' 2>/dev/null; then
        pip install -q gpiozero >&2 || die "cannot install gpiozero (apt install python3-gpiozero)"
    fi
    if [ "$VEHICLE" = drone ] && ! "$venv/bin/python" -c 'import djitellopy' 2>/dev/null; then
        pip install -q --no-deps djitellopy >&2 && pip install -q av pillow >&2 \
            || die "cannot install djitellopy"
    fi
else
    say "staged: the $VEHICLE adapter's library is not installed into the image (see docs/daemon.md)"
fi

say "vehicle unit ($VEHICLE) -> $root$UNITDIR/gesturepilot-vehicle.service"
subst "$SRC/systemd/gesturepilot-vehicle.service" >"$tmp/vehicle.unit"
install -m 0644 "$tmp/vehicle.unit" "$root$UNITDIR/gesturepilot-vehicle.service"
dropins="$root$UNITDIR/gesturepilot-vehicle.service.d"
rm -f "$dropins/no-gpio.conf"
if [ "$VEHICLE" != car ]; then  # no GPIO: the gpio group may not exist on this machine
    install -d -m 0755 "$dropins"
    printf '[Service]\nSupplementaryGroups=\nDeviceAllow=\n' >"$dropins/no-gpio.conf"
fi
printf 'GESTUREPILOT_VEHICLE=%s\n' "$VEHICLE" >"$tmp/vehicle.env"
install -m 0644 "$tmp/vehicle.env" "$root$SYSCONFDIR/vehicle.env"
if [ -e "$root$SYSCONFDIR/vehicle.toml" ]; then
    say "keeping your $SYSCONFDIR/vehicle.toml (the shipped one: vehicle.toml.dist)"
    install -m 0644 "$SRC/configs/vehicle-$VEHICLE.toml" "$root$SYSCONFDIR/vehicle.toml.dist"
else
    install -m 0644 "$SRC/configs/vehicle-$VEHICLE.toml" "$root$SYSCONFDIR/vehicle.toml"
fi
if [ ! -e "$root$SYSCONFDIR/vehicle_mqtt_password" ]; then
    (umask 077 && printf '\n' >"$root$SYSCONFDIR/vehicle_mqtt_password")
fi
