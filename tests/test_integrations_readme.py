"""Integrations as documented: the 20-line subscriber runs and is safe, the ROS 2 params match."""

from __future__ import annotations

import re
import time
import uuid

from devtools.waiting import until
from edge.config import MqttConfig
from edge.link.publisher import Publisher
from edge.types import Command


def example(repo_root) -> str:
    text = (repo_root / "README.md").read_text()
    section = text.split("## Integrations", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


def test_the_readme_example_subscriber_is_at_most_20_lines_of_code(repo_root):
    lines = [line for line in example(repo_root).splitlines() if line.strip()]
    assert len(lines) <= 20, len(lines)


def test_the_readme_example_subscriber_follows_the_daemon_and_stops_when_it_goes_offline(
    repo_root, broker
):
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(example(repo_root), "README.md", "exec"), namespace)
    device = f"readme-{uuid.uuid4().hex[:8]}"
    pub = Publisher(MqttConfig(host=broker.host, port=broker.port, device_id=device))
    with namespace["MyRobot"](broker.host, broker.port, device_id=device, timeout=5.0) as robot:
        pub.start()
        assert pub.wait_connected(10) and until(pub.confirmed)
        pub.command(Command("forward", "up", 0.9, time.time()))
        assert until(lambda: robot.log == ["forward"])
        pub.close()  # status=offline
        assert until(lambda: robot.log == ["forward", "stop"])
    assert robot.reason == "daemon offline"


def test_the_documented_ros2_bridge_params_are_the_shipped_params_file(repo_root):
    import yaml

    text = (repo_root / "docs" / "integrations.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    shipped = yaml.safe_load((repo_root / "configs/ros2/mqtt_client.yaml").read_text())
    assert yaml.safe_load(block) == {"bridge": shipped["/**/*"]["ros__parameters"]["bridge"]}
