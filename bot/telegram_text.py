"""What Telegram makes of an HTML message: the text a reader sees, and its length as Telegram
counts it (limits such as 4,096 characters apply after entity parsing, in UTF-16 units)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    """The text Telegram shows for an HTML message."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def visible_length(html_text: str) -> int:
    """Length after entity parsing, in UTF-16 code units (how Telegram counts)."""
    return len(visible_text(html_text).encode("utf-16-le")) // 2
