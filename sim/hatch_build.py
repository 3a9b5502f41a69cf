"""Build hook: ship ``../src/abxero_sim`` in the wheel, but not in the editable install.

The source lives beside the product's (``src/``), outside this folder; a static
``force-include`` would copy it into an editable install too, where the copy would hide the
checkout. An editable install gets only the ``.pth`` of ``dev-mode-dirs`` instead.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SourceBesideProduct(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            build_data["force_include"]["../src/abxero_sim"] = "abxero_sim"
