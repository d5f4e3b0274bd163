"""The small pages a refused submission answers with: what was wrong, a link back, and, for a token that is too
fresh or too old, the message again with a new token so nothing typed is lost."""

from __future__ import annotations

from html import escape

from contact_form.submission import Submission
from tenantedge.plugins import PluginResponse

HTML = "text/html; charset=utf-8"
_STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "label,input,textarea,button{display:block;width:100%;font:inherit;margin-top:.4rem}"
    "button{width:auto;padding:.6rem 1.2rem;margin-top:1rem}"
)
_LABELS = {"name": "Name", "email": "Email", "message": "Message", "form": "The form"}


def problem(field: str, reason: str, back: str) -> PluginResponse:
    """422: the field at fault and a link back to the form."""
    label = _LABELS.get(field, field)
    body = (
        f"<h1>Please check the form</h1><p><strong>{escape(label)}</strong>: {escape(reason)}.</p>"
        f'<p><a href="{escape(back)}">Back to the form</a></p>'
    )
    return PluginResponse(422, _page("Please check the form", body), HTML)


def confirm(submission: Submission, token: str, action: str, reason: str, status: int = 422) -> PluginResponse:
    """The message in a form to send again, under a new token (good in a few seconds): nothing typed is lost."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">'
        for name, value in (("token", token), ("page", submission.page), ("section", submission.section))
    )
    body = (
        f"<h1>Please send your message again</h1><p>{escape(reason)}</p>"
        f'<form method="post" action="{escape(action)}">{hidden}'
        f'<label>Name<input name="name" value="{escape(submission.name)}" required></label>'
        f'<label>Email<input name="email" type="email" value="{escape(submission.email)}" required></label>'
        f'<label>Message<textarea name="message" rows="6" required>{escape(submission.message)}</textarea></label>'
        '<button type="submit">Send message</button></form>'
        f'<p><a href="{escape(submission.back)}">Back to the page</a></p>'
    )
    retry = 60 if status == 503 else None
    return PluginResponse(status, _page("Please send your message again", body), HTML, retry_after=retry)


def plain(status: int, text: str, retry_after: int | None = None) -> PluginResponse:
    return PluginResponse(status, _page(text, f"<h1>{escape(text)}</h1>"), HTML, retry_after=retry_after)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
