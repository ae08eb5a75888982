"""The composition root: builds every stage from the config, runs the loop, tears down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cameras import Camera, build_camera
from edge.clock import SYSTEM_CLOCK, Clock
from edge.config import Config
from edge.link.publisher import DuplicateDevice, Publisher
from edge.pipeline.classify import Classifier, build_classifier
from edge.pipeline.commands import CommandMap
from edge.pipeline.locate import Locator, build_locator, follow_operator
from edge.pipeline.loop import DaemonLoop, LoopSettings, Sink, Stages
from edge.pipeline.safety import SafetyGate
from edge.pipeline.smoothing import Smoother
from edge.pipeline.stats import Stats
from edge.service.notify import SystemdNotifier
from edge.types import FrameObserver, FrameResult

if TYPE_CHECKING:
    from edge.service.preview import PreviewServer

log = logging.getLogger(__name__)

CONNECT_WAIT = 2.0  # seconds to wait for the broker at start before running without it


class PreviewUnavailable(RuntimeError):
    """The preview server cannot bind its address."""


def run(
    cfg: Config,
    stop: threading.Event,
    preview: bool = False,
    observers: Sequence[FrameObserver] = (),
) -> None:
    """Run the daemon until `stop` is set (SIGTERM/SIGINT) or a finite source ends.

    Args:
        cfg: the validated configuration.
        stop: set it to shut down; the loop notices within ~0.1 s.
        preview: start the MJPEG preview even if `[preview] enabled` is false.
        observers: more watchers of every frame (`make demo`'s recorder), after the daemon's.

    Raises:
        edge.model.artifact.ModelError: the model artefact is missing, corrupt or inconsistent.
        edge.cameras.CameraError: the camera cannot be opened at start.
        edge.pipeline.locate.LocatorUnavailable: the configured hand locator is not installed.
        PreviewUnavailable: the preview was asked for but cannot bind its port.
        DuplicateDevice: an earlier daemon publishes under the same device_id (exit 78).
    """
    clock = SYSTEM_CLOCK
    notifier = SystemdNotifier.from_env()
    with ExitStack() as stack:
        classifier = build_classifier(cfg)
        stack.callback(classifier.close)
        locator = build_locator(cfg, crop_margin=classifier.crop_margin)
        stack.callback(locator.close)
        camera = build_camera(cfg.camera)
        camera.open()
        stack.callback(camera.close)
        watchers: list[FrameObserver] = [_ReadyOnFirstFrame(notifier), notifier]
        if preview or cfg.preview.enabled:
            watchers.append(_start_preview(cfg, stack))
        watchers += observers
        publisher = stack.enter_context(Publisher(cfg.mqtt, clock, classifier.labels))
        if not publisher.wait_connected(CONNECT_WAIT):
            log.warning("MQTT broker not reachable yet; running, publishes dropped until it is")
        loop = DaemonLoop(
            stages(cfg, camera, locator, classifier, publisher, clock),
            watchers,
        )
        try:
            loop.run(stop)
        finally:
            notifier.stopping()
            loop.shutdown()
            log.info("shutting down")
        if publisher.yield_to is not None:
            raise DuplicateDevice(
                f"[mqtt] device_id: {cfg.mqtt.device_id!r} is in use by another daemon "
                f"(instance {publisher.yield_to.id}, started earlier); give each device its own"
            )


def stages(
    cfg: Config,
    camera: Camera,
    locator: Locator,
    classifier: Classifier,
    publisher: Sink,
    clock: Clock = SYSTEM_CLOCK,
) -> Stages:
    """The daemon's stages around the I/O it is given (also what `make eval-sequences` runs)."""
    return Stages(
        camera=camera,
        locator=follow_operator(cfg, locator, classifier, clock),
        classifier=classifier,
        smoother=Smoother(cfg.smoothing, classifier.labels),
        commands=CommandMap.from_config(cfg.commands),
        safety=SafetyGate(cfg.safety, now=clock.monotonic()),
        publisher=publisher,
        stats=Stats(),
        settings=LoopSettings(
            min_confidence=cfg.smoothing.min_confidence,
            stats_interval=cfg.stats.interval,
            model_name=Path(cfg.model.path).name,
            runtime=classifier.runtime,
        ),
        clock=clock,
    )


class _ReadyOnFirstFrame:
    """READY=1 once model, camera and the first processed frame are up (not before)."""

    def __init__(self, notifier: SystemdNotifier) -> None:
        self._notifier = notifier
        self._done = False

    def on_frame(self, result: FrameResult) -> None:
        if not self._done:
            self._done = True
            self._notifier.ready()
            log.info("ready: first frame processed")


def _start_preview(cfg: Config, stack: ExitStack) -> PreviewServer:
    from edge.service.preview import PreviewServer  # lazily: only when asked for

    try:
        server = PreviewServer(cfg.preview.host, cfg.preview.port, token=cfg.preview.token or None)
    except (OSError, ValueError) as exc:
        raise PreviewUnavailable(
            f"[preview] cannot listen on {cfg.preview.host}:{cfg.preview.port}: {exc}"
        ) from exc
    server.start()
    stack.callback(server.close)
    return server
