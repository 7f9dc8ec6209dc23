"""The report's themes found without an LLM (issue 22: "themes stay, grouped under categories where
they match one"): under each category of options.categories the themes whose phrase holds one of
its terms (results/categories.py says the rule; insights.json lists them as `categories[].themes`),
then the rest as before, praise and complaints, under a plain heading. Without categories, or when
no theme is under one, the section is the plain lists alone."""

from __future__ import annotations

from html import escape

from reviewpulse.results.insights import Insights
from reviewpulse.results.report_items import item_links
from reviewpulse.results.themes import Theme


def themes_section(insights: Insights) -> str:
    by_phrase = {theme.phrase: theme for theme in insights.themes}
    grouped = [(c.name, [by_phrase[p] for p in c.themes if p in by_phrase]) for c in insights.categories]
    grouped = [(name, themes) for name, themes in grouped if themes]
    under = {theme.phrase for _, themes in grouped for theme in themes}
    blocks = []
    for name, themes in grouped:
        items = "".join(_item(theme, with_polarity=True) for theme in themes)
        blocks.append(
            f'<h3 class="theme-category">{escape(name)}</h3>'
            f'<ul class="themes-category" data-category="{escape(name)}">{items}</ul>'
        )
    rest = [theme for theme in insights.themes if theme.phrase not in under]
    if grouped and rest:
        blocks.append('<h3 class="themes-rest">Other themes</h3>')
    for polarity, heading in (("praise", "Praised"), ("complaint", "Complaints")):
        themes = [t for t in rest if t.polarity == polarity]
        if not themes:
            continue
        tag = "h4" if grouped else "h3"
        items = "".join(_item(theme) for theme in themes)
        blocks.append(f'<{tag}>{heading}</{tag}><ol class="themes-{polarity}">{items}</ol>')
    note = (
        " Themes are listed under your categories where their phrase holds one of a category's words or "
        "phrases (case ignored, plurals as singulars); the rest follow."
        if grouped
        else ""
    )
    return (
        '<h2>Top themes</h2><p class="muted">Key phrases far more frequent in positive than in negative '
        f"items (praise) or the reverse (complaints), found in the text without an LLM.{note}</p>"
        f'<section id="themes">{"".join(blocks)}</section>'
    )


def _item(theme: Theme, *, with_polarity: bool = False) -> str:
    quote = f"<blockquote>{escape(theme.example)}</blockquote>" if theme.example else ""
    polarity = (
        f' <span class="theme-polarity" data-polarity="{theme.polarity}">{theme.polarity}</span>'
        if with_polarity
        else ""
    )
    return (
        f'<li><strong class="theme">{escape(theme.phrase)}</strong>{polarity} — '
        f'<span data-value="{theme.count}">{theme.count}</span> items (e.g. {item_links(theme.example_ids)}){quote}</li>'
    )
