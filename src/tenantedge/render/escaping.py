"""Output escaping that costs what it must: a check for HTML that is already safe, C for plain strings.

Every `{{ … }}` in an autoescaped template compiles to `escape(value)`, and markupsafe's `escape` always
builds a new Markup: for a plain string a Python-level constructor call on top of the C escaping, and for
Markup (a page's rendered sections, several kilobytes) a full copy of the string. What a template outputs
is only ever joined into text, and every place Jinja keeps rendered output (block `set`, macros, `caller`,
filter blocks) wraps the joined text in Markup itself, so output needs the escaped text, not a Markup.

`OutputCodeGenerator` makes templates call `escape_output` instead, with the same escaping: markupsafe's own
C routine for plain strings, the object's own HTML for anything with `__html__`, markupsafe for the rest.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import Markup, escape

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # a markupsafe built without its C speedups

    def _escape_inner(text: str, /) -> str:
        return str(escape(text))


def escape_output(value: Any) -> str:
    """What `{{ value }}` writes with autoescaping on: exactly markupsafe's escaping, without a new Markup."""
    kind = type(value)
    if kind is str:
        return _escape_inner(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    return escape(value)


class OutputCodeGenerator(CodeGenerator):
    """Jinja's code generator, with template output escaped by `escape_output` where autoescaping is fixed on."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self.writeline(f"from {__name__} import escape_output")
        super().visit_Template(node, frame)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: CodeGenerator._FinalizeInfo) -> None:
        # Only where autoescaping is known at compile time and no finalize step wraps the value; `{% autoescape
        # %}` blocks with a runtime value and environments with `finalize` keep Jinja's own code.
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile and finalize.src is None:
            self.write("escape_output(")
            return
        super()._output_child_pre(node, frame, finalize)
