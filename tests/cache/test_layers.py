"""guelaguetza/cache is layered: each module imports only the modules below it, so a
reader can start at the bottom (docs/cache.md#the-package-bottom-to-top)."""

import ast
from pathlib import Path

from django.conf import settings

PACKAGE = Path(settings.BASE_DIR) / "guelaguetza" / "cache"
LAYERS = [
    {"registry", "metrics", "breaker"},
    {"codec", "transport"},
    {"invalidation"},
    {"storage"},
    {"flight"},
    {"service"},
    {"dependencies", "ops", "docs", "__init__"},
]


def level(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if module in layer)


def imported(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, anywhere in it (typing too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "guelaguetza.cache":
                out.update(alias.name for alias in node.names)
            elif node.module.startswith("guelaguetza.cache."):
                out.add(node.module.split(".")[2])
    return out & {p.stem for p in PACKAGE.glob("*.py")}


def test_every_module_of_the_package_has_a_layer():
    assert {p.stem for p in PACKAGE.glob("*.py")} == set().union(*LAYERS)


def test_modules_import_only_downward():
    for path in PACKAGE.glob("*.py"):
        for name in imported(path):
            if path.stem == "__init__":
                continue
            assert level(name) < level(path.stem), f"{path.stem} imports {name}"
