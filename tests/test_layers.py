"""The training loop reaches nothing in ``graphsampler.eval``: walks the import statements
(``ast``, nothing is imported) from ``graphsampler/train.py`` through every module they
name, with the packages those modules sit in (all but the umbrella ``graphsampler``)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "graphsampler"


def module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(name: str) -> set[str]:
    path = module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    found = {n for n in found if n.startswith("graphsampler.") and module_file(n)}
    # Importing a.b.c runs a.b's __init__ first (the umbrella graphsampler excepted).
    for n in list(found):
        parts = n.split(".")
        found.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return found


def reachable(start: str) -> dict[str, str]:
    """Every module reachable from ``start``, each with the module that imports it."""
    seen, todo = {start: ""}, [start]
    while todo:
        name = todo.pop()
        for dep in imports_of(name):
            if dep not in seen:
                seen[dep] = name
                todo.append(dep)
    return seen


def path_to(seen: dict[str, str], name: str) -> list[str]:
    chain = [name]
    while seen[chain[-1]]:
        chain.append(seen[chain[-1]])
    return chain[::-1]


def test_the_training_loop_imports_nothing_from_eval():
    seen = reachable("graphsampler.train")
    assert "graphsampler.callback" in seen and "graphsampler.samplers.walk" in seen
    into_eval = [name for name in seen if name.startswith("graphsampler.eval")]
    assert not into_eval, " -> ".join(path_to(seen, into_eval[0]))


def test_the_walk_sees_the_runner_reach_eval():
    seen = reachable("graphsampler.bench.runner")
    assert "graphsampler.eval.diagnostics" in seen
