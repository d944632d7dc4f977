"""One way to translate, for the consoles, the Certification Report and mail.

- Which languages: `languages()` (the list is `languages.BUILT_IN`); APIs take `Lang`.
- Words: keyed strings per surface and language, read by one `Translator`.
- Names of tiers, areas, criteria and reasons: only the catalog (`shared.catalog`).

Adding a language is one strings file per surface plus the catalog's texts in it, and the
code in `BUILT_IN` (or a language pack: see `languages.language_pack`).
"""

from shared.i18n.languages import (
    BUILT_IN,
    DEFAULT_LANGUAGE,
    Lang,
    language,
    language_name,
    language_pack,
    languages,
)
from shared.i18n.strings import Translator, load_file, messages

__all__ = [
    "BUILT_IN",
    "DEFAULT_LANGUAGE",
    "Lang",
    "Translator",
    "language",
    "language_name",
    "language_pack",
    "languages",
    "load_file",
    "messages",
]
