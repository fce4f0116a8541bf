"""Seeded, realistic demo feedback for Nimbus (reviews, tickets, surveys) with planted hassles.

The entry point is :func:`write_demo_data` with a :class:`DemoSpec`. Inside, one module per
step: ``spec`` (what to generate), ``plan`` (who writes when, in which channel), ``compose`` and
``typos`` (a comment's text), ``render`` and ``bad_records`` (the records each channel writes),
``generator`` (the files), and ``phrases`` (the phrase banks).
"""

from flows.demo.generator import DemoData, DemoSummary, generate_demo, write_demo_data
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES
from flows.demo.spec import DemoRecord, DemoSpec, TruthRow

__all__ = [
    "NEW_HASSLES",
    "PLANTED_HASSLES",
    "DemoData",
    "DemoRecord",
    "DemoSpec",
    "DemoSummary",
    "TruthRow",
    "generate_demo",
    "write_demo_data",
]
