"""Rendered alerts -> Telegram reply markup."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render import Button, Rendered


def _button(button: Button) -> InlineKeyboardButton:
    if button.url:
        return InlineKeyboardButton(button.text, url=button.url)
    return InlineKeyboardButton(button.text, callback_data=button.callback_data)


def to_markup(rendered: Rendered) -> InlineKeyboardMarkup | None:
    rows = [[_button(b) for b in row] for row in rendered.buttons]
    return InlineKeyboardMarkup(rows) if rows else None
