"""The MQTT link: the one publisher, the link probe, payload schemas, cmd_vel, HA discovery."""
