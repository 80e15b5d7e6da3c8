"""Driving the pathway editor (CodeMirror on the page's textarea, web/editor/) from a browser test."""

from __future__ import annotations

from typing import Any


def replace_source(page: Any, text: str) -> None:
    """Selects all of the editor's text and types `text` over it, as a paste would; the hidden textarea that
    the form posts follows the editor."""
    page.locator("#source-editor .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    assert page.locator("#source").input_value() == text


def cursor_line(page: Any) -> int:
    """The line number the editor shows as the cursor's line (the highlighted gutter number)."""
    return int(page.locator("#source-editor .cm-lineNumbers .cm-activeLineGutter").inner_text())
