"""Feature definitions, selection and imputation, read from YAML so changing features is a config edit.

- configs/feature_mappings.yml: feature groups; each feature is a Spark SQL expression and a type.
- configs/feature_selection_config.yml: which groups and features the model uses.
- configs/imputation.yml: how each selected feature's missing values are filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FEATURE_TYPES = ("numeric", "binary", "categorical")
SIMPLE_STRATEGIES = ("mean", "median", "most_frequent")


class FeatureConfigError(ValueError):
    """A feature mapping, selection or imputation entry is malformed or names an unknown feature."""


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: where it comes from (a Spark SQL expression), its group and its type."""

    name: str
    group: str
    expr: str
    type: str


@dataclass(frozen=True)
class FeatureMappings:
    """The whole feature table layout: key, label, passthrough columns and every feature."""

    entity_key: str
    label: str
    passthrough: tuple[str, ...]
    features: tuple[FeatureSpec, ...]

    @property
    def groups(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for feature in self.features:
            grouped.setdefault(feature.group, []).append(feature.name)
        return grouped

    def feature(self, name: str) -> FeatureSpec:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise FeatureConfigError(f"unknown feature {name!r}; feature_mappings.yml defines {self.names()}")

    def names(self) -> list[str]:
        return [feature.name for feature in self.features]


def parse_feature_mappings(spec: dict[str, Any]) -> FeatureMappings:
    """Read feature_mappings.yml; every error names the group and feature to fix."""
    for key in ("entity_key", "label"):
        if not spec.get(key):
            raise FeatureConfigError(f"feature_mappings.{key}: required")
    groups = spec.get("feature_groups") or {}
    if not groups:
        raise FeatureConfigError("feature_mappings.feature_groups: define at least one group")
    features: list[FeatureSpec] = []
    seen: dict[str, str] = {}
    reserved = {spec["entity_key"], spec["label"], *(spec.get("passthrough") or [])}
    for group, group_spec in groups.items():
        for name, feature in ((group_spec or {}).get("features") or {}).items():
            where = f"feature_mappings.feature_groups.{group}.features.{name}"
            if name in seen:
                raise FeatureConfigError(
                    f"{where}: already defined in group {seen[name]!r}; names must be unique"
                )
            if name in reserved:
                raise FeatureConfigError(f"{where}: clashes with the key, label or a passthrough column")
            if not isinstance(feature, dict) or not str(feature.get("expr") or "").strip():
                raise FeatureConfigError(
                    f"{where}.expr: required (a Spark SQL expression over input columns)"
                )
            if feature.get("type") not in FEATURE_TYPES:
                raise FeatureConfigError(
                    f"{where}.type={feature.get('type')!r}: must be one of {FEATURE_TYPES}"
                )
            seen[name] = group
            features.append(
                FeatureSpec(name=name, group=group, expr=str(feature["expr"]), type=feature["type"])
            )
    return FeatureMappings(
        entity_key=str(spec["entity_key"]),
        label=str(spec["label"]),
        passthrough=tuple(spec.get("passthrough") or ()),
        features=tuple(features),
    )


def select_features(mappings: FeatureMappings, selection: dict[str, Any]) -> list[FeatureSpec]:
    """The model inputs: included groups plus included features, minus excluded ones, in mapping order."""
    groups = mappings.groups
    include_groups = list(selection.get("include_groups") or [])
    include_features = list(selection.get("include_features") or [])
    exclude_features = set(selection.get("exclude_features") or [])
    for group in include_groups:
        if group not in groups:
            raise FeatureConfigError(
                f"feature_selection_config.include_groups: unknown group {group!r}; known: {sorted(groups)}"
            )
    for name in [*include_features, *exclude_features]:
        if name not in mappings.names():
            raise FeatureConfigError(
                f"feature_selection_config: unknown feature {name!r}; "
                f"feature_mappings.yml defines {mappings.names()}"
            )
    wanted = {name for group in include_groups for name in groups[group]} | set(include_features)
    selected = [f for f in mappings.features if f.name in wanted and f.name not in exclude_features]
    if not selected:
        raise FeatureConfigError(
            "feature_selection_config: selects no feature; include at least one group or feature"
        )
    return selected


@dataclass(frozen=True)
class Imputation:
    """How one feature's missing values are filled: a strategy, and a value for 'constant'."""

    strategy: str
    fill_value: Any = None


def imputation_plan(
    features: list[FeatureSpec], spec: dict[str, Any], known_features: list[str] | None = None
) -> dict[str, Imputation]:
    """The imputation of every selected feature: its own entry in imputation.yml, else its type's default.

    Entries for mapped but unselected features are ignored (selection changes often); a name
    that is no feature at all (`known_features`) is a typo and an error.
    """
    defaults = spec.get("defaults") or {}
    per_feature = spec.get("features") or {}
    known = set(known_features if known_features is not None else [f.name for f in features])
    plan = {}
    for name in per_feature:
        if name not in known:
            raise FeatureConfigError(
                f"imputation.features.{name}: no such feature in feature_mappings.yml; known: {sorted(known)}"
            )
    for feature in features:
        raw = per_feature.get(feature.name, defaults.get(feature.type))
        where = (
            f"imputation.features.{feature.name}"
            if feature.name in per_feature
            else f"imputation.defaults.{feature.type}"
        )
        plan[feature.name] = _parse_strategy(raw, where, feature.type)
    return plan


def _parse_strategy(raw: Any, where: str, feature_type: str) -> Imputation:
    if isinstance(raw, dict) and set(raw) == {"constant"}:
        return Imputation("constant", raw["constant"])
    if raw in SIMPLE_STRATEGIES:
        if feature_type == "categorical" and raw in ("mean", "median"):
            raise FeatureConfigError(
                f"{where}={raw!r}: a categorical feature needs most_frequent or constant"
            )
        return Imputation(str(raw))
    raise FeatureConfigError(
        f"{where}={raw!r}: use mean, median, most_frequent or a mapping 'constant: VALUE'"
    )
