"""A self-contained HTML page showing two documents side by side with shared passages marked.

No external stylesheet, script or font: the page must open from a mail attachment or an
air-gapped share. Every piece of document text goes through ``html.escape``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from .align import Alignment

# Distinct light backgrounds; passage n uses colour n mod len.
_COLOURS = ("#ffe08a", "#b8e0ff", "#c8f0c0", "#ffc8d8", "#e0d0ff", "#ffd8b0")
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; } table.summary td, table.summary th { padding: 0.2rem 0.8rem; text-align: left; }
.docs { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.doc { border: 1px solid #ccc; padding: 0.8rem; white-space: pre-wrap; font-family: ui-monospace, monospace;
       font-size: 0.85rem; overflow-wrap: anywhere; }
mark { padding: 0 0.1rem; } sup.n { font-weight: bold; color: #800; }
"""


def _marked(text: str, spans: Sequence[tuple[int, int, int]], side: str) -> str:
    """``text`` escaped, with each (start, end, number) span wrapped in a numbered <mark>."""
    out: list[str] = []
    cursor = 0
    for start, end, number in sorted(spans):
        colour = _COLOURS[(number - 1) % len(_COLOURS)]
        out.append(html.escape(text[cursor:start]))
        out.append(
            f'<mark id="{side}{number}" style="background:{colour}" title="passage {number}">'
            f'<sup class="n">[{number}]</sup>{html.escape(text[start:end])}</mark>'
        )
        cursor = end
    out.append(html.escape(text[cursor:]))
    return "".join(out)


def render(
    text_a: str, text_b: str, alignment: Alignment, jaccard: float, *, title_a: str = "A", title_b: str = "B"
) -> str:
    """The report page. Passages are numbered in the order they appear in the first document."""
    rows = "".join(
        f'<tr><td><a href="#a{n}">{n}</a></td><td>{p.a_start}&ndash;{p.a_end}</td>'
        f'<td><a href="#b{n}">{p.b_start}&ndash;{p.b_end}</a></td><td>{p.a_word_end - p.a_word}</td></tr>'
        for n, p in enumerate(alignment.passages, start=1)
    )
    numbered = list(enumerate(alignment.passages, start=1))
    side_a = _marked(text_a, [(p.a_start, p.a_end, n) for n, p in numbered], "a")
    side_b = _marked(text_b, [(p.b_start, p.b_end, n) for n, p in numbered], "b")
    name_a, name_b = html.escape(title_a), html.escape(title_b)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>clipsift comparison: {name_a} vs {name_b}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Shared passages: {name_a} vs {name_b}</h1>"
        '<table class="summary">'
        f"<tr><th>passages</th><td>{len(alignment.passages)}</td></tr>"
        f"<tr><th>{name_a} covered</th><td>{alignment.coverage_a:.1%} of {alignment.words_a} words</td></tr>"
        f"<tr><th>{name_b} covered</th><td>{alignment.coverage_b:.1%} of {alignment.words_b} words</td></tr>"
        f"<tr><th>Jaccard (word shingles)</th><td>{jaccard:.4f}</td></tr></table>"
        '<table class="summary"><tr><th>#</th><th>characters in A</th><th>characters in B</th>'
        f"<th>words</th></tr>{rows}</table>"
        f'<div class="docs"><div><h2>{name_a}</h2><div class="doc">{side_a}</div></div>'
        f'<div><h2>{name_b}</h2><div class="doc">{side_b}</div></div></div>'
        "</body></html>\n"
    )
