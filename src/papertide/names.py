"""Author names: how variants of one name are grouped onto one author page.

The rule, in two steps:

1. **Spelling.** A name is folded as user names are (store/accounts.username_key: NFKC, case
   folded, transliterated to ASCII by anyascii), dots become spaces, anything but letters,
   digits and inner hyphens is dropped, and "Surname, Given" is read as "Given Surname".
   Names with the same folded form are one author: "Yoshua Bengio", "Yoshua BENGIO",
   "Jürgen Schmidhuber" and "Jurgen Schmidhuber" each land on one page. The surname is the
   last word, with the particles before it (van, de, von...); a trailing Jr./III is dropped.

2. **Initials.** A name whose first given name is a single letter ("Y. Bengio", "J.-P. Sartre")
   joins a spelled-out name of the same surname only when exactly ONE spelled-out name of that
   surname, among the stored names, has initials that agree with it (one string of initials is
   a prefix of the other: "J. A. Smith" agrees with "John Smith" and "John A. Smith", not with
   "John B. Smith"). With "Yoshua Bengio" and "Samy Bengio" stored, "Y. Bengio" is Yoshua's and
   "S. Bengio" Samy's; add "Yann Bengio" and "Y. Bengio" has a page of its own, since nothing
   says which of the two it is. Two spelled-out names are never merged, whatever their initials.

Step 1 is a pure function of the name (`parse`); step 2 depends on which names are stored and
is decided by `group`, over the names sharing the surname and first initial (`signature`), so a
page looks at those rows only, never at every paper.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from anyascii import anyascii

from papertide.limits import MAX_AUTHOR_NAME

MAX_KEY_CHARS = 200  # a longer folded form is no author name: it gets no page
PARTICLES = frozenset(
    "al bin da das de del della der di dos du el ibn la le st ten ter van von zu".split()
)
SUFFIXES = frozenset("jr sr ii iii iv".split())
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def fold(text: str) -> str:
    """TEXT compared without case, width, accents or script: as store/accounts.username_key
    folds user names ('Jürgen' and 'JURGEN' are 'jurgen')."""
    return anyascii(unicodedata.normalize("NFKC", text).casefold()).casefold()


@dataclass(frozen=True)
class Name:
    """A name read by the rule: its folded KEY (what is stored and compared), the SURNAME and
    the GIVEN names, folded."""

    key: str
    surname: str
    given: tuple[str, ...]

    @property
    def initials(self) -> str:
        """One letter per given name and per part of a hyphenated one ('jean-pierre': 'jp')."""
        return "".join(part[0] for word in self.given for part in word.split("-"))

    @property
    def initialled(self) -> bool:
        """Whether the first given name is only an initial ('Y. Bengio')."""
        return bool(self.given) and len(self.given[0]) == 1

    @property
    def signature(self) -> str:
        """Surname and first initial: every name that step 2 could join with this one has it."""
        return f"{self.surname} {self.initials[:1]}".strip()


def _words(folded: str) -> list[str]:
    return _WORD.findall(folded.replace(".", " ").replace("'", ""))


def parse(name: str) -> Name | None:
    """NAME by the rule, or None when nothing of it is a name (no letters or digits, or too
    long to be one)."""
    folded = fold(name[:MAX_AUTHOR_NAME])
    if folded.count(",") == 1:  # "Bengio, Yoshua"; "Smith, Jr., John" and lists stay as they are
        surname, given = folded.split(",")
        folded = f"{given} {surname}"
    words = _words(folded)
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    if not words:
        return None
    start = len(words) - 1
    while start > 1 and words[start - 1] in PARTICLES:  # "ludwig van beethoven"
        start -= 1
    key = " ".join(words)
    if len(key) > MAX_KEY_CHARS:
        return None
    return Name(key=key, surname=" ".join(words[start:]), given=tuple(words[:start]))


def agree(a: Name, b: Name) -> bool:
    """Whether two names of one surname have initials that could be one person's."""
    return a.initials.startswith(b.initials) or b.initials.startswith(a.initials)


@dataclass(frozen=True)
class Author:
    """The author a name belongs to: its KEY (the canonical folded form) and every stored KEYS
    that the rule puts on the same page (KEY included)."""

    key: str
    keys: tuple[str, ...]


def owner(initialled: Name, spelled: Iterable[Name]) -> str | None:
    """The one spelled-out name (its key) that an initialled name belongs to, or None when no
    such name, or more than one, agrees with it."""
    same = (n for n in spelled if n.surname == initialled.surname)
    candidates = {n.key for n in same if agree(n, initialled)}
    return next(iter(candidates)) if len(candidates) == 1 else None


def group(name: Name, stored: Iterable[str]) -> Author:
    """The author NAME belongs to, given the STORED keys that share its signature (step 2)."""
    names = {name.key: name}
    for key in stored:
        parsed = parse(key)
        if parsed is not None and parsed.signature == name.signature:
            names[parsed.key] = parsed
    spelled = [n for n in names.values() if n.given and not n.initialled]
    canonical = name.key
    if name.initialled:
        canonical = owner(name, spelled) or name.key
    members = {canonical}
    if canonical != name.key or not name.initialled:
        members.update(
            n.key for n in names.values() if n.initialled and owner(n, spelled) == canonical
        )
    return Author(key=canonical, keys=tuple(sorted(members)))
