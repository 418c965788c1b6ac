"""Playbooks (fiches réflexes): the checklists and pre-validated messages of each risk.

The public surface, for the crisis package, the web pages and the CLI.
"""

from playbooks.activation import (
    ChecklistItem,
    FilledMessage,
    FillResult,
    checklist_items,
    fill_templates,
    sample_values,
)
from playbooks.check import check_directory, load_library
from playbooks.completeness import CompletenessProblem, Finding, check_completeness, find_elements
from playbooks.errors import CheckError, PlaybookLibraryError
from playbooks.limits import LengthChecker, default_length_checker
from playbooks.loader import LIBRARY_DIR
from playbooks.model import (
    CapInfo,
    ChecklistStep,
    MessageTemplate,
    Placeholder,
    Playbook,
    ScenarioInject,
)
from playbooks.rendering import TemplateProblem, TemplateRenderError, render_text
from playbooks.validation import SCHEMA_PATH

__all__ = [
    "LIBRARY_DIR",
    "SCHEMA_PATH",
    "CapInfo",
    "CheckError",
    "ChecklistItem",
    "ChecklistStep",
    "CompletenessProblem",
    "FillResult",
    "FilledMessage",
    "Finding",
    "LengthChecker",
    "MessageTemplate",
    "Placeholder",
    "Playbook",
    "PlaybookLibraryError",
    "ScenarioInject",
    "TemplateProblem",
    "TemplateRenderError",
    "check_completeness",
    "check_directory",
    "checklist_items",
    "default_length_checker",
    "fill_templates",
    "find_elements",
    "load_library",
    "render_text",
    "sample_values",
]
