"""Batch conversion of folders of raw files into labelled PNG folders."""

from any2img.batch.convert_dir import ConversionReport, Failure, convert_dir
from any2img.batch.labels import LabelRule, parse_rule

__all__ = ["ConversionReport", "Failure", "LabelRule", "convert_dir", "parse_rule"]
