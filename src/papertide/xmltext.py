"""Text as XML can carry it: the one filter every XML writer (feeds, the topic map) applies.

XML 1.0 has no way to write most control characters, lone surrogates or U+FFFE/U+FFFF, not even
as character references: lxml refuses them and feed readers reject the whole document. One such
character in one stored title would otherwise take down every feed that lists the paper.
"""

from __future__ import annotations

import re

# Everything outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """TEXT without the characters XML 1.0 cannot represent."""
    return _NOT_XML.sub("", text)
