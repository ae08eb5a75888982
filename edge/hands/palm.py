"""MediaPipe's palm detector with numpy decoding: anchors, boxes, 7 keypoints, weighted NMS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.geometry import Roi, letterbox, roi_from_palm
from edge.hands.tensors import OutputReader, PixelInput
from edge.model.runtime import load_interpreter

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
        self._interpreter, self.runtime = load_interpreter(model_path, num_threads)
        inp = self._interpreter.get_input_details()[0]
        if tuple(inp["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"{model_path}: not a 192x192 palm detector (input {inp['shape']})")
        self._in = PixelInput(inp)
        outs = {
            tuple(d["shape"][1:]): OutputReader(self._interpreter, d)
            for d in self._interpreter.get_output_details()
        }
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
        raw = self._regressors()[0]
        logits = self._classifiers()[0, :, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))
        keep = np.flatnonzero(scores >= self.min_score)
        if keep.size == 0:
            return []
        anchors = self.anchors[keep]
        raw = raw[keep] / INPUT_SIZE
        centre = raw[:, 0:2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + anchors[:, None, :]
        found = []
        for box, kp, score in weighted_nms(boxes, kps, scores[keep]):
            box_px = (box * INPUT_SIZE - [pad_x, pad_y, pad_x, pad_y]) / scale
            kp_px = (kp * INPUT_SIZE - [pad_x, pad_y]) / scale
            found.append(PalmDetection(box_px, kp_px, score, roi_from_palm(box_px, kp_px)))
        return found

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None
