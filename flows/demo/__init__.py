"""Seeded, realistic demo feedback for Nimbus (reviews, tickets, surveys) with planted hassles."""

from flows.demo.generator import (
    DemoData,
    DemoRecord,
    DemoSpec,
    DemoSummary,
    TruthRow,
    generate_demo,
    write_demo_data,
)
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES

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
