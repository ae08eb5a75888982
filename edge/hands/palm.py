"""MediaPipe's palm detector with numpy decoding: anchors, boxes, 7 keypoints, weighted NMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.geometry import Roi, letterbox, roi_from_palm
from edge.hands.tensors import PixelInput, open_square, outputs_by_shape

log = logging.getLogger(__name__)

INPUT_SIZE = 192
NUM_KEYPOINTS = 7
# palm_detection_cpu.pbtxt: SsdAnchorsCalculator and TensorsToDetectionsCalculator options.
STRIDES = (8, 16, 16, 16)
SCORE_CLIP = 100.0
NMS_IOU = 0.3


@dataclass(frozen=True)
class PalmDetection:
    """One palm in frame pixels: box (x0, y0, x1, y1), 7 keypoints (7, 2), score, hand region."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float
    roi: Roi


def ssd_anchors(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Anchor centres (N, 2) normalised to [0, 1], in the order the model emits them.

    Layers sharing a stride share one feature map; each layer contributes two anchors per cell
    (aspect ratio 1 plus the interpolated scale); with fixed anchor size only centres matter.
    """
    centres = []
    i = 0
    while i < len(strides):
        stride, per_cell = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            per_cell += 2
            i += 1
        cells = int(np.ceil(input_size / stride))
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (x0, y0, x1, y1) box with each of `boxes` (N, 4)."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9))


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Each cluster (boxes overlapping the best remaining one by more than `iou`) becomes one
    detection whose box and keypoints are the score-weighted mean; its score is the best one's.
    """
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    out = []
    remaining = np.arange(len(scores))
    while remaining.size:
        overlaps = box_iou(boxes[remaining[0]], boxes[remaining])
        cluster = remaining[overlaps > iou]
        if cluster.size == 0:  # degenerate box: keep it alone
            cluster = remaining[:1]
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(0) / w.sum()
        kps = (keypoints[cluster].reshape(len(cluster), -1) * w).sum(0) / w.sum()
        out.append((box, kps.reshape(-1, 2), float(scores[remaining[0]])))
        remaining = remaining[overlaps <= iou]
        remaining = remaining[~np.isin(remaining, cluster)]
    return out


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Scores from logits, clipped as MediaPipe's TensorsToDetections does."""
    clipped = np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)
    return np.asarray(1.0 / (1.0 + np.exp(-clipped)))


def decode(
    raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, min_score: float
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """An SSD detector's raw outputs -> (box, keypoints, score) per object, best first.

    `raw` (N, 4 + 2K) holds each anchor's box centre offset, size and K keypoint offsets in
    input pixels; box and keypoints come back normalised to the (square) input, weighted-NMS
    merged (MediaPipe's TensorsToDetections with reverse_output_order).
    """
    scores = sigmoid(logits)
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return []
    anchors = anchors[keep]
    rel = raw[keep] / size
    centre = rel[:, 0:2] + anchors
    half = rel[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = rel[:, 4:].reshape(len(keep), -1, 2) + anchors[:, None, :]
    return weighted_nms(boxes, kps, scores[keep])


class PalmDetector:
    """Runs palm_detection_{lite,full}.tflite on whole frames.

    Args:
        model_path: the palm detection model.
        num_threads: interpreter threads.
        min_score: detections below this (after sigmoid) are dropped.
    """

    def __init__(
        self, model_path: str | Path, num_threads: int | None = None, min_score: float = 0.5
    ) -> None:
        self._interpreter, self.runtime, inp = open_square(
            model_path, num_threads, INPUT_SIZE, "palm detector"
        )
        self._in = PixelInput(inp)
        outs = outputs_by_shape(self._interpreter)
        try:
            self._regressors = outs[(2016, 18)]
            self._classifiers = outs[(2016, 1)]
        except KeyError as exc:
            msg = f"{model_path}: unexpected palm detector outputs {list(outs)}"
            raise ValueError(msg) from exc
        self.anchors = ssd_anchors()
        self.min_score = min_score
        self.runs = 0

    def detect(self, image: np.ndarray) -> list[PalmDetection]:
        """Palms in an RGB uint8 frame, best first (frame pixels)."""
        self.runs += 1
        boxed, scale, pad_x, pad_y = letterbox(image, INPUT_SIZE)
        self._interpreter.set_tensor(self._in.index, self._in(boxed))
        self._interpreter.invoke()
        found = []
        for box, kp, score in decode(
            self._regressors()[0],
            self._classifiers()[0, :, 0],
            self.anchors,
            INPUT_SIZE,
            self.min_score,
        ):
            box_px = (box * INPUT_SIZE - [pad_x, pad_y, pad_x, pad_y]) / scale
            kp_px = (kp * INPUT_SIZE - [pad_x, pad_y]) / scale
            found.append(PalmDetection(box_px, kp_px, score, roi_from_palm(box_px, kp_px)))
        return found

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None
