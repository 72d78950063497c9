"""Display labels for a plugin's codes (part of the plugin API): gettext catalogues managed with Babel.

A plugin keeps English msgids in its code and a catalogue per language in its package:
`<package>/locale/zh_CN/LC_MESSAGES/<domain>.po` (scripts/i18n extracts and compiles; a missing .mo
is compiled from the .po when first used). It declares its labels with the hook `huifang_labels`:

    from huifang.core.plugin_api import hookimpl, i18n

    _ = i18n.domain("huifang_medical", __file__)  # marks msgids for `pybabel extract`
    LABELS = i18n.Labels(_, visit_type={"discharge_first": _("Discharge follow-up")},
                         choice={"symptoms.none": _("No discomfort"), "good": _("Good")},
                         column={"nurse": _("Responsible nurse")}, report={"nurses": _("Nurses' callback rate")})

    class MyPlugin:
        @hookimpl
        def huifang_labels(self) -> i18n.Labels:
            return LABELS

Kinds: see KINDS (visit_type, trigger_kind, question, choice, category, department, column, report,
…). A code the plugin does not label shows as the code itself. `label(kind, code)` looks any code up
(the plugin's own first when `plugin=` is given) in the invocation's language (`current_lang()`:
zh_CN unless --lang, HUIFANG_LANG or the config say en).
"""
from __future__ import annotations

from ..labels import (
    DEFAULT_LANG,
    KINDS,
    LANGS,
    Labels,
    Translator,
    current_lang,
    domain,
    label,
    options_for,
    resolve,
    resolve_code,
    text,
)

__all__ = ["DEFAULT_LANG", "KINDS", "LANGS", "Labels", "Translator", "current_lang", "domain", "label", "options_for",
           "resolve", "resolve_code", "text"]
