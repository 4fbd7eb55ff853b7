"""Services return facts; the chat face words them. No sentence a user reads is written under storage/.

Chinese may appear in storage only as data: module-level UPPER_CASE constants (the words the parsers read, task
kinds, tip categories, stored status values) and the values of enumerations, none of them a sentence; and in
docstrings and comments, which users never read. storage/demo.py is demo data (names of people and teams).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from plugins._texts import refusal_codes

STORAGE = Path(__file__).resolve().parents[1] / "storage"
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
SENTENCE_END = re.compile(r"[。！？]")
DATA_FILES = {"demo.py"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        # an attribute's docstring: a string statement right after an assignment
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if isinstance(statements, list):
                for statement in statements:
                    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                        found.add(id(statement.value))
    return found


def _data_constants(tree: ast.Module) -> set[int]:
    """Strings inside module-level UPPER_CASE constants and inside enumeration classes."""
    allowed = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.ClassDef) and any(
            isinstance(base, ast.Name) and base.id.endswith("Enum") for base in node.bases
        ):
            allowed |= {id(inner) for inner in ast.walk(node)}
            continue
        names = [n for t in targets for n in (t.elts if isinstance(t, ast.Tuple) else [t])]
        if names and all(isinstance(n, ast.Name) and n.id.isupper() for n in names):
            allowed |= {id(inner) for inner in ast.walk(node)}
    return allowed


def wording_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    data = _data_constants(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        if not CJK.search(node.value):
            continue
        if id(node) in data and not SENTENCE_END.search(node.value):
            continue
        found.append(f"{path.relative_to(STORAGE.parent)}:{node.lineno}: {node.value[:40]!r}")
    return found


def test_no_sentence_a_user_reads_is_written_in_storage() -> None:
    files = [p for p in sorted(STORAGE.rglob("*.py")) if p.name not in DATA_FILES and "migrations" not in p.parts]
    assert files
    found = [line for path in files for line in wording_in(path)]
    assert found == []


def test_the_check_finds_wording_inside_a_service(tmp_path: Path) -> None:
    sample = STORAGE / "services" / "_sample_for_the_check.py"
    try:
        sample.write_text('KINDS = ("巡逻", "护学")\n\ndef refuse():\n    return "没有这个任务。"\n', encoding="utf-8")
        assert [line.split(": ", 1)[1] for line in wording_in(sample)] == ["'没有这个任务。'"]
    finally:
        sample.unlink()


def _raised_codes() -> set[str]:
    """Every refusal code raised anywhere: the services', and the faces' own (a wizard's answer checks)."""
    codes = set()
    for path in [p for folder in ("storage", "plugins", "bot") for p in (STORAGE.parent / folder).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("DomainError", "NotAllowed")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def test_every_refusal_a_service_raises_is_worded_for_chat() -> None:
    raised = _raised_codes()
    assert len(raised) > 20
    assert sorted(raised - refusal_codes()) == []


@pytest.mark.parametrize("code", sorted(_raised_codes()))
def test_refusal_codes_name_their_domain(code: str) -> None:
    assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", code)
