"""Layers import one way: model files <- processing <- (evaluation, trainer) <- hub_cards, space, CLI.

Parses every module's AST (nothing is imported) and names each forbidden arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository's top-level folders; each is installed as `macm.<folder>` (`macm/` itself as `macm`)
LAYERS = ("modeling_macm", "processing", "evaluation", "trainer", "hub_cards", "space", "macm")
# folder -> the layers it must not import
FORBIDDEN = {
    "modeling_macm": {"processing", "evaluation", "trainer", "hub_cards", "space", "macm"},
    "processing": {"evaluation", "trainer", "hub_cards", "space"},
    "evaluation": {"trainer", "hub_cards", "space"},
    "trainer": {"evaluation", "hub_cards", "space"},
}


def _modules(folder: str) -> list[Path]:
    return [path for path in (ROOT / folder).rglob("*.py") if "synthmotion-tiny" not in path.parts]


def _imports(path: Path) -> list[tuple[int, str, int]]:
    """`(line, absolute target or relative module, level)` for every import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", node.level))
    return found


def _target(path: Path, folder: str, module: str, level: int) -> tuple[str | None, bool]:
    """`(top-level folder the import reaches or None for third-party modules, whether a relative import left its
    own top-level folder)`."""
    if level:
        package = [folder, *path.relative_to(ROOT / folder).parts[:-1]]
        if level - 1 < len(package):
            return folder, False
        # above the top-level folder: the installed `macm` namespace, where the folders are siblings
        return (module.split(".")[0] or "macm"), True
    parts = module.split(".")
    if parts[0] == "macm":
        return (parts[1] if len(parts) > 1 and parts[1] in LAYERS else "macm"), False
    return (parts[0] if parts[0] in LAYERS else None), False


def _arrows() -> list[tuple[str, str, str, bool]]:
    arrows = []
    for folder in LAYERS:
        for path in _modules(folder):
            for line, module, level in _imports(path):
                target, crossing = _target(path, folder, module, level)
                if target is not None:
                    arrows.append((f"{path.relative_to(ROOT)}:{line}", folder, target, crossing))
    return arrows


def test_no_relative_import_leaves_its_top_level_folder():
    crossing = [where for where, _, _, leaves in _arrows() if leaves]
    assert not crossing, f"relative imports that leave their top-level folder (use `macm.`): {crossing}"


def test_layers_import_one_way():
    wrong = [
        f"{where} ({source} -> {target})"
        for where, source, target, _ in _arrows()
        if target in FORBIDDEN.get(source, ())
    ]
    assert not wrong, "forbidden imports:\n" + "\n".join(wrong)


def test_the_graph_sees_imports():
    # the parser finds the arrows that are allowed, so an empty list of forbidden ones means something
    arrows = {(source, target) for _, source, target, _ in _arrows()}
    assert ("evaluation", "processing") in arrows
    assert ("hub_cards", "evaluation") in arrows
