"""Small builders shared by the unit tests."""

from __future__ import annotations

from batch_action.model import Document
from batch_action.parsing.documents import parse_document, place


def doc(where: str, front: str = "", body: str = "Body.\n") -> Document:
    """A Document parsed from front-matter lines, as if read from `.claude/<where>`."""
    text = f"---\n{front}\n---\n{body}" if front else body
    parsed, problems = parse_document(f".claude/{where}", place(where), text.encode())
    assert parsed is not None, problems
    return parsed
