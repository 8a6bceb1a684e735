"""sanhua.segment: disposal categories A / B / C from willingness, ability and flags."""

from sanhua.segment.rules import CATEGORIES, SEGMENT_RULES, Segmenter, SegmentSettings

__all__ = ["CATEGORIES", "SEGMENT_RULES", "Segmenter", "SegmentSettings"]
