"""The translated template is kept between processes (local/template.py): what a later process reads
is what translating gives, and a changed template, other overrides or another region are translated
again, never answered from another's translation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reviewpulse_tools.local import template as templates
from reviewpulse_tools.local.template import TEMPLATE_PATH, load_template


@pytest.fixture
def translations(tmp_path, monkeypatch) -> list[Path]:
    """An empty cache of its own; the templates actually translated, in order."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    translated: list[Path] = []
    translate = templates._translate

    def counting(path, region, overrides):
        translated.append(path)
        return translate(path, region, overrides)

    monkeypatch.setattr(templates, "_translate", counting)
    return translated


def test_a_second_load_is_the_first_ones_translation_without_translating(translations):
    # Given the template translated once
    first = load_template()
    # When it is loaded again (as another process would: only the cache file is shared)
    second = load_template()
    # Then it was not translated again, and what came back is the same translation
    assert translations == [TEMPLATE_PATH]
    assert (second.cfn, second.code_dirs, second.parameters) == (first.cfn, first.code_dirs, first.parameters)
    assert second.cfn is not first.cfn  # a fresh copy: a caller may change its own


def test_other_overrides_a_changed_template_and_another_region_are_translated_anew(translations, tmp_path):
    # Given the template translated once with its defaults
    plain = load_template()
    # When it is loaded with an override, from a changed copy, and for another region
    waf = load_template(overrides={"EnableWaf": "true"})
    copy = tmp_path / "template.yaml"
    copy.write_text(TEMPLATE_PATH.read_text().replace("Timeout: ", "Timeout:  ", 1))
    load_template(copy)
    (tmp_path / "template.yaml").write_text(TEMPLATE_PATH.read_text() + "\n# changed\n")
    load_template(copy)
    load_template(region="eu-west-1")
    # Then each was translated, none answered from the cache of another
    assert translations == [TEMPLATE_PATH, TEMPLATE_PATH, copy, copy, TEMPLATE_PATH]
    assert waf.parameters["EnableWaf"] == "true" != plain.parameters["EnableWaf"]


def test_an_unwritable_cache_still_translates(translations, tmp_path, monkeypatch):
    # Given a cache folder that cannot be made (a file stands where it would be)
    (tmp_path / "blocked").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    # When the template is loaded twice
    first, second = load_template(), load_template()
    # Then each load translated it and both have every function
    assert translations == [TEMPLATE_PATH, TEMPLATE_PATH]
    assert first.cfn == second.cfn and first.of_type("AWS::Lambda::Function")


def test_the_parsed_template_is_a_copy_per_caller_and_an_edited_file_is_read_again(tmp_path):
    # Given a template read once, and its answer changed by that caller
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE_PATH.read_text())
    first = templates.read_sam_template(path)
    first["Resources"].clear()
    # When it is read again, Then the next caller gets the file's resources, not the changed copy
    again = templates.read_sam_template(path)
    assert again["Resources"] and again == templates.read_sam_template(TEMPLATE_PATH)
    # When the file is edited (the same size, a later modification time), Then the edit is read
    path.write_text(TEMPLATE_PATH.read_text().replace("ReviewPulse - ", "ReviewPulse + ", 1))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert templates.read_sam_template(path)["Description"] != again["Description"]
