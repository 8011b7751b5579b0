"""Text for character-level language models, offline: Shakespeare's Sonnets ship with the package.

``sonnets.txt`` (beside this module) holds all 154 sonnets, about 95,000 characters over 61
distinct symbols. Licence: public domain (Shakespeare died in 1616). Source: the plain-text
transcription distributed as ``sonnets.txt`` with Allison Parrish's *rwet-examples* teaching
repository (2012), a modern-spelling edition like Project Gutenberg's; trailing spaces removed
and one typo fixed (the file's ``#`` header says so too, and :func:`load_sonnets` skips it).

- :func:`load_sonnets`: the text; :class:`CharVocab`: characters ↔ integer ids;
- :func:`char_corpus`: text, vocabulary and a train/validation split by position (the last
  sonnets are held out, so validation text was never seen, not even in overlapping windows).

Training windows and the unigram baseline are computations, not data: they live in
:mod:`dlcourse.ref.rnn` (``random_windows``, ``unigram_cross_entropy``, ``nats_to_bits``).

Importing this module imports NumPy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = [
    "SONNETS_FILE",
    "load_sonnets",
    "CharVocab",
    "CharCorpus",
    "char_corpus",
]

SONNETS_FILE = "sonnets.txt"


def load_sonnets() -> str:
    """The 154 sonnets as one string (the file's ``#`` header removed), sonnets separated by a blank line."""
    raw = resources.files("dlcourse.data").joinpath(SONNETS_FILE).read_text(encoding="utf-8")
    return "".join(line for line in raw.splitlines(keepends=True) if not line.startswith("#"))


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: ``chars[i]`` is the character with id i (sorted, so ids are stable)."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """Every distinct character of ``text``, in sorted order."""
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """(len(text),) int64 ids; a character outside the vocabulary raises ValueError naming it."""
        index = {ch: i for i, ch in enumerate(self.chars)}
        try:
            return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary of {len(self)} characters") from None

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """The string of a sequence of ids (any integer array-like of one dimension)."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"decode takes a 1-D sequence of ids, got shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}), found {ids.min()} … {ids.max()}")
        return "".join(self.chars[i] for i in ids.tolist())


@dataclass(frozen=True, eq=False)
class CharCorpus:
    """A text, its vocabulary, and its ids split into training and validation parts (int64, 1-D)."""

    text: str
    vocab: CharVocab
    train: np.ndarray
    val: np.ndarray


def char_corpus(text: str | None = None, val_fraction: float = 0.1) -> CharCorpus:
    """Encode ``text`` (default: :func:`load_sonnets`) and hold out its last ``val_fraction``.

    The split falls at the start of a line, so neither part begins mid-word. The vocabulary is
    built from the whole text, so every validation character has an id.
    """
    text = load_sonnets() if text is None else text
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    if len(text) < 4:
        raise ValueError(f"the text has {len(text)} characters; a language model needs more")
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    cut = int(len(text) * (1 - val_fraction))
    line_start = text.rfind("\n", 0, cut) + 1
    if 0 < line_start < len(text) - 1:
        cut = line_start
    cut = min(max(cut, 2), len(text) - 2)
    return CharCorpus(text, vocab, ids[:cut], ids[cut:])
