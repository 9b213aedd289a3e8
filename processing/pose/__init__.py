"""Pose backends behind one interface, and the `PoseTrack` they produce."""

from .types import COCO17_NAMES, PersonPose, PoseTrack

__all__ = ["COCO17_NAMES", "PersonPose", "PoseTrack"]
