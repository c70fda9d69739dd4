"""The function catalogue (functions/catalogue.yaml) as typed entries, with defaults merged
the same way Terraform merges them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "functions" / "catalogue.yaml"


@dataclass(frozen=True, slots=True)
class Sizing:
    memory: str
    cpu: str
    min_instances: int
    max_instances: int
    concurrency: int
    threads: int
    timeout_s: int


@dataclass(frozen=True, slots=True)
class FunctionEntry:
    name: str
    source: str
    entry_point: str
    trigger: str | dict[str, Any]
    ingress: str
    paths: tuple[str, ...]
    sizing: Sizing
    db_pool: dict[str, int]

    @property
    def is_http(self) -> bool:
        return self.trigger == "http"

    @property
    def on_domain_events(self) -> bool:
        """Fed by the domain-events topic (EVENTS_TOPIC) through its own subscription."""
        return isinstance(self.trigger, dict) and self.trigger.get("domain_events") is True

    @property
    def dead_letter_after(self) -> int | None:
        """Delivery attempts before a message goes to `<name>-dead-letter`."""
        if isinstance(self.trigger, dict) and "dead_letter_after" in self.trigger:
            return int(self.trigger["dead_letter_after"])
        return None

    def owns(self, path: str) -> bool:
        """True if this function owns the URL path, by the URL map's prefix rules."""
        for prefix in self.paths:
            if prefix.endswith("/"):
                if path.startswith(prefix):
                    return True
            elif path == prefix or path.startswith(prefix + "/"):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Catalogue:
    runtime: str
    functions: tuple[FunctionEntry, ...]

    def http_functions(self, ingress: str | None = None) -> list[FunctionEntry]:
        return [
            f for f in self.functions if f.is_http and (ingress is None or f.ingress == ingress)
        ]

    def owner_of(self, path: str, ingress: str) -> FunctionEntry | None:
        for entry in self.http_functions(ingress):
            if entry.owns(path):
                return entry
        return None

    def domain_event_functions(self) -> list[FunctionEntry]:
        return [f for f in self.functions if f.on_domain_events]

    def __getitem__(self, name: str) -> FunctionEntry:
        for entry in self.functions:
            if entry.name == name:
                return entry
        raise KeyError(f"no function {name!r} in the catalogue")


@cache
def _refuse_repeated_keys(node: yaml.Node) -> None:
    """PyYAML keeps the last of two equal keys without a word (and so does Terraform's
    yamldecode): a function entered twice would silently lose its first definition."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise ValueError(
                        f"catalogue: {key.value!r} appears twice (line {key.start_mark.line + 1})"
                    )
                seen.add(key.value)
            _refuse_repeated_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_repeated_keys(item)


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    text = path.read_text(encoding="utf-8")
    _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader))
    raw = yaml.safe_load(text)
    defaults = raw["defaults"]
    entries = []
    for name, spec in raw["functions"].items():
        entries.append(
            FunctionEntry(
                name=name,
                source=spec.get("source", name),
                entry_point=spec["entry_point"],
                trigger=_trigger(name, spec["trigger"]),
                ingress=spec["ingress"],
                paths=tuple(spec.get("paths", [])),
                sizing=Sizing(**{**defaults["sizing"], **spec.get("sizing", {})}),
                db_pool={**defaults["db_pool"], **spec.get("db_pool", {})},
            )
        )
    return Catalogue(runtime=defaults["runtime"], functions=tuple(entries))


def _trigger(name: str, trigger: Any) -> str | dict[str, Any]:
    """Refuse a trigger neither the gateway nor Terraform would understand."""
    if trigger == "http":
        return "http"
    if isinstance(trigger, dict) and set(trigger) == {"pubsub_topic", "schedule"}:
        return trigger
    if isinstance(trigger, dict) and trigger.get("domain_events") is True:
        attempts = trigger.get("dead_letter_after")
        unknown = set(trigger) - {"domain_events", "dead_letter_after"}
        # Pub/Sub's dead-letter policy accepts 5–100 delivery attempts.
        if not unknown and (
            attempts is None or (isinstance(attempts, int) and 5 <= attempts <= 100)
        ):
            return trigger
    raise ValueError(f"function {name!r}: unsupported trigger {trigger!r}")
