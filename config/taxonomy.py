"""The journey-stage and hassle-theme taxonomy (config/taxonomy.yaml), read and validated.

The taxonomy's effective version is its ``version`` number plus a hash of its content, so any
edit (an added example, a renamed label) re-tags on the next run even if nobody bumps the
number.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.settings import ConfigError, Settings, describe_errors, read_yaml

UNASSIGNED = "unassigned"
# How the report and the run's tables name a pain point no stage or theme fitted.
NO_STAGE, NO_THEME = "No stage", "No theme"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Label(BaseModel):
    """One journey stage or hassle theme."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str = Field(min_length=1)
    description: str = ""
    examples: tuple[str, ...] = Field(min_length=1)
    patterns: tuple[tuple[dict[str, Any], ...], ...] = ()

    @field_validator("key")
    @classmethod
    def _key_is_identifier(cls, value: str) -> str:
        if value == UNASSIGNED:
            raise ValueError(
                f"'{UNASSIGNED}' is reserved for low-confidence tags; pick another key"
            )
        if not _KEY.match(value):
            raise ValueError(
                "expected lower-case letters, digits and underscores, starting with a letter"
            )
        return value

    @field_validator("examples")
    @classmethod
    def _examples_have_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not example.strip() for example in value):
            raise ValueError("an example is empty; remove it or write the phrase")
        return value

    @field_validator("patterns")
    @classmethod
    def _patterns_are_spacy_token_patterns(
        cls, value: tuple[tuple[dict[str, Any], ...], ...]
    ) -> tuple[tuple[dict[str, Any], ...], ...]:
        # Checked by spaCy's own schema (attributes and values, "OP": "++" included) when the
        # taxonomy is read: the matcher is built only in enrich, after ingest has run.
        from spacy.errors import MatchPatternError
        from spacy.matcher import Matcher
        from spacy.vocab import Vocab

        matcher = Matcher(Vocab(), validate=True)
        for number, pattern in enumerate(value):
            if not pattern:
                raise ValueError(f"pattern {number} is empty; give at least one token")
            try:
                matcher.add(f"pattern {number}", [list(pattern)])
            except MatchPatternError as exc:
                said = "; ".join(
                    line[2:] for line in str(exc).splitlines() if line.startswith("- ")
                )
                raise ValueError(
                    f"pattern {number} is no spaCy token pattern ({said}); see "
                    "https://spacy.io/usage/rule-based-matching"
                ) from None
            except re.error as exc:
                raise ValueError(
                    f"pattern {number} holds a REGEX that is no regex ({exc})"
                ) from None
            if not any(_required_and_constrained(token) for token in pattern):
                raise ValueError(
                    f"pattern {number} matches every sentence (no token is both required and "
                    "constrained); give it a token to match, e.g. {LOWER: refund}"
                )
        return value


def _required_and_constrained(token: dict[str, Any]) -> bool:
    """Whether a pattern's token must be there and says what it is (not ``{}``, ``{OP: "*"}``).

    A negated token (``OP: "!"``) matches every other word: it says what is not there.
    """
    return token.get("OP", "1") not in ("?", "*", "!") and any(key != "OP" for key in token)


class Taxonomy(BaseModel):
    """Journey stages and hassle themes, with a version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    stages: tuple[Label, ...] = Field(min_length=2)
    themes: tuple[Label, ...] = Field(min_length=2)
    pain_points: tuple[str, ...] = Field(
        default=(),
        description="Complaints in many domains: what a pain point is (with the themes' examples).",
    )
    no_hassle: tuple[str, ...] = Field(
        default=(),
        validate_default=True,
        description="Praise, thanks, questions, chit-chat and plain facts: what a pain point is not.",
    )

    @field_validator("pain_points", "no_hassle")
    @classmethod
    def _examples_have_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        empty = [number for number, example in enumerate(value) if not example.strip()]
        if empty:
            raise ValueError(f"example(s) {empty} are empty; remove them or write the phrase")
        return value

    @field_validator("no_hassle")
    @classmethod
    def _some_sentences_are_no_hassle(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:  # the pain classifier would have nothing to tell complaints from
            raise ValueError(
                "no examples of what is not a complaint: every sentence would be a pain point. "
                "Add praise, thanks, questions and plain facts as your customers write them "
                "(config/taxonomy.yaml's no_hassle list shows the kind)"
            )
        return value

    @field_validator("stages", "themes")
    @classmethod
    def _unique_keys(cls, value: tuple[Label, ...]) -> tuple[Label, ...]:
        keys = [label.key for label in value]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"key(s) {duplicates} appear more than once; keys must be unique")
        return value

    @property
    def content_hash(self) -> str:
        """Short hash of everything in the taxonomy."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:10]

    @property
    def patterns_hash(self) -> str:
        """Short hash of the stages' and themes' patterns: what the sentence split matches."""
        patterns = {
            f"{dimension}:{label.key}": label.patterns
            for dimension in ("stage", "theme")
            for label in self.labels(dimension)
            if label.patterns
        }
        payload = json.dumps(patterns, sort_keys=True)
        return hashlib.sha1(payload.encode()).hexdigest()[:10]

    @property
    def version_id(self) -> str:
        """The version recorded with every tag: ``v<version>-<content hash>``."""
        return f"v{self.version}-{self.content_hash}"

    def labels(self, dimension: str) -> tuple[Label, ...]:
        """Return the stages (``dimension='stage'``) or themes (``'theme'``)."""
        if dimension == "stage":
            return self.stages
        if dimension == "theme":
            return self.themes
        raise ValueError(f"unknown dimension {dimension!r}; expected 'stage' or 'theme'")


BUNDLED_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (default: the bundled ``config/taxonomy.yaml``)."""
    path = path or BUNDLED_TAXONOMY
    if not path.is_file():
        raise ConfigError(f"{path}: taxonomy file not found; check the `tagging.taxonomy` setting")
    data = read_yaml(path)
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        said = describe_errors(exc, path, {}, example="config/taxonomy.yaml")
        said = _by_key(said, data).replace("invalid configuration", "invalid taxonomy")
        raise ConfigError(said) from None
    except yaml.YAMLError as exc:  # pragma: no cover - _read_yaml already converts these
        raise ConfigError(f"{path}: {exc}") from None


def _by_key(said: str, data: Any) -> str:
    """``said`` with each stage and theme named by its key: ``themes[worry]``, not ``themes[5]``."""
    for dimension in ("stages", "themes"):
        labels = data.get(dimension) if isinstance(data, dict) else None
        for number, label in enumerate(labels if isinstance(labels, list) else []):
            key = label.get("key") if isinstance(label, dict) else None
            if isinstance(key, str) and _KEY.match(key):  # an invalid key is the problem itself
                said = re.sub(rf"\b{dimension}\[{number}\](?=[.'])", f"{dimension}[{key}]", said)
    return said


def read_labelled_examples(path: Path, taxonomy: Taxonomy) -> list[tuple[str, str, str]]:
    """Read a CSV of labelled examples (columns text, label; optional dimension).

    ``label`` is a stage or theme key; ``dimension`` (stage or theme) may be left out when the
    key is unambiguous. Returns (dimension, label, text) triples. Errors name the row.
    """
    stage_keys = {label.key for label in taxonomy.stages}
    theme_keys = {label.key for label in taxonomy.themes}
    rows: list[tuple[str, str, str]] = []
    if not path.is_file():
        raise ConfigError(
            f"{path}: labelled examples file not found (or not a file); check the "
            "`tagging.labelled_examples` setting"
        )
    try:
        return _read_labelled_rows(path, stage_keys, theme_keys, rows)
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: labelled examples must be UTF-8; save the file as UTF-8 "
            "(`tagging.labelled_examples`)"
        ) from None


def _read_labelled_rows(
    path: Path, stage_keys: set[str], theme_keys: set[str], rows: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(f"{path}: needs columns text and label (missing {sorted(missing)})")
        for line, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            label = (row.get("label") or "").strip()
            dimension = (row.get("dimension") or "").strip()
            if not text or not label:
                raise ConfigError(f"{path}: row {line}: text and label must both be filled in")
            if not dimension and label in stage_keys and label in theme_keys:
                raise ConfigError(
                    f"{path}: row {line}: {label!r} is both a stage and a theme key; fill in "
                    "the dimension column (stage or theme)"
                )
            if not dimension:
                dimension = (
                    "stage" if label in stage_keys else "theme" if label in theme_keys else ""
                )
            keys = (
                stage_keys
                if dimension == "stage"
                else theme_keys
                if dimension == "theme"
                else set()
            )
            if label not in keys:
                raise ConfigError(
                    f"{path}: row {line}: label {label!r} is not a "
                    f"{dimension or 'stage or theme'} key in the taxonomy; "
                    f"expected one of {sorted(stage_keys | theme_keys)}"
                )
            rows.append((dimension, label, text))
    return rows


def resolve_taxonomy_path(settings: Settings) -> Path:
    """The taxonomy file to use: the configured one, or the bundled default when absent.

    Raises:
        ConfigError: When the configured file is missing, naming where it was set and the key.
    """
    path = settings.tagging.taxonomy
    if path.is_file():
        return path
    if path == Path("config/taxonomy.yaml"):
        return BUNDLED_TAXONOMY
    raise ConfigError(
        f"{settings.origin('tagging', 'taxonomy')}: key 'tagging.taxonomy': {path} is not "
        "a file; point it at a taxonomy YAML (config/taxonomy.yaml is the bundled one)"
    )


def load_enrich_config(settings: Settings) -> Taxonomy:
    """Read the taxonomy (and labelled examples) so a bad one fails before any work."""
    taxonomy = load_taxonomy(resolve_taxonomy_path(settings))
    if settings.tagging.labelled_examples:
        read_labelled_examples(settings.tagging.labelled_examples, taxonomy)
    return taxonomy
