"""The optional `cmd_vel` topic: each command as `geometry_msgs/msg/Twist`-shaped JSON."""

# ROS 2 takes it through ika-rwth-aachen's mqtt_client (`configs/ros2/mqtt_client.yaml`, JSON
# mode) as `/cmd_vel`. Robot convention (REP 103): x forward, z up, positive yaw turns left.
# Speeds come from `[mqtt] cmd_vel_linear` (m/s, forward/backward), `cmd_vel_vertical` (m/s,
# up/down) and `cmd_vel_angular` (rad/s, left/right); every other command (`stop`, `land`,
# `takeoff`, one a map made up) is all zeros, so every stop of the safety chain is a zero Twist.

from __future__ import annotations

import json

from edge.config import MqttConfig

AXES = ("x", "y", "z")
# command -> (which speed, linear or angular, axis, sign)
MOTION = {
    "forward": ("linear", "x", 1.0),
    "backward": ("linear", "x", -1.0),
    "up": ("vertical", "z", 1.0),
    "down": ("vertical", "z", -1.0),
    "left": ("angular", "z", 1.0),
    "right": ("angular", "z", -1.0),
}


def twist(command: str, cfg: MqttConfig) -> dict[str, dict[str, float]]:
    """The Twist for `command`: `{"linear": {x, y, z}, "angular": {x, y, z}}`, floats."""
    out = {"linear": dict.fromkeys(AXES, 0.0), "angular": dict.fromkeys(AXES, 0.0)}
    if command in MOTION:
        speed, axis, sign = MOTION[command]
        value = {
            "linear": cfg.cmd_vel_linear,
            "vertical": cfg.cmd_vel_vertical,
            "angular": cfg.cmd_vel_angular,
        }[speed]
        out["angular" if speed == "angular" else "linear"][axis] = sign * value
    return out


def payload(command: str, cfg: MqttConfig) -> str:
    return json.dumps(twist(command, cfg))
