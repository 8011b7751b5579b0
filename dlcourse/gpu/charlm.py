"""A character-level language model in PyTorch: train it on the Sonnets, measure it in bits per
character against the unigram baseline, and sample from it with a temperature.

    from dlcourse.data.text import char_corpus
    result = train_char_lm(char_corpus())          # sizes from LMConfig.for_device(): small on a CPU
    print(result.summary())                        # validation bits/char vs the unigram baseline
    result.sample("Shall I", 200, temperature=0.8)

The model is embedding → recurrent layers → linear read-out to one logit per character, trained
with cross-entropy on random windows (teacher forcing: the input is the text, the target the text
shifted by one), Adam and gradient-norm clipping. The loss in nats per character is what
cross-entropy with natural logarithms gives; bits = nats / ln 2. ``twin=True`` swaps
``nn.LSTM`` for :class:`dlcourse.gpu.rnn.LSTM`, whose backward is the course's own BPTT
(slower on a GPU, where ``nn.LSTM`` runs cuDNN's fused kernels).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from dlcourse.gpu import rnn as twins
from dlcourse.gpu.device import default_device
from dlcourse.ref.rnn import nats_to_bits, random_windows, unigram_cross_entropy

# The corpus and vocabulary come from dlcourse.data.text (a layer above this one, so not imported
# here): a corpus is anything with .train and .val (1-D int64 ids) and .vocab; a vocabulary is
# anything with len(), .chars, .encode(str) -> ids and .decode(ids) -> str.
Corpus = Any
Vocab = Any

__all__ = ["LMConfig", "CharLM", "LMResult", "train_char_lm", "evaluate_char_lm", "next_char_probs", "sample_text"]

CELLS = {"rnn": (nn.RNN, twins.RNN), "lstm": (nn.LSTM, twins.LSTM), "gru": (nn.GRU, twins.GRU)}


@dataclass(frozen=True)
class LMConfig:
    """Sizes and training settings of a character model.

    The defaults fit lecture 10's notebook budget on 2 CPU cores: about 10 s of one core's time
    for 400 steps, reaching ≈ 2.6 bits per character on the held-out sonnets against 4.5 for the
    unigram baseline. :meth:`for_device` scales them up on a GPU.
    """

    embed_dim: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    cell: str = "lstm"
    seq_len: int = 64
    batch_size: int = 32
    steps: int = 400
    lr: float = 5e-3
    clip: float = 1.0
    eval_every: int = 100

    @classmethod
    def for_device(cls, device: torch.device | str | None = None, **overrides: Any) -> LMConfig:
        """The default sizes on a CPU; on a GPU a wider, deeper model trained longer on bigger batches."""
        device = default_device() if device is None else torch.device(device)
        config = cls() if device.type == "cpu" else cls(hidden_size=512, num_layers=2, batch_size=128, steps=2000,
                                                          lr=3e-3, eval_every=250)
        return replace(config, **overrides)


class CharLM(nn.Module):
    """Embedding (V, E) → ``num_layers`` recurrent layers of H units → linear (H → V).

    forward(idx, state=None): idx (N, T) int64 character ids → (logits (N, T, V), state), the
    state being what the recurrent layers return (h_n, or (h_n, c_n) for the LSTM), to carry on.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128, num_layers: int = 1,
                 cell: str = "lstm", twin: bool = False) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = CELLS[cell][int(twin)](embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        h, state = self.rnn(self.embed(idx), state)
        return self.head(h), state


@dataclass(eq=False)
class LMResult:
    """What :func:`train_char_lm` returns. Losses are mean cross-entropies in nats per character."""

    model: nn.Module  # a CharLM, or a module with its interface (train_char_lm(model=...))
    vocab: Vocab
    config: LMConfig
    device: torch.device
    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    unigram_nats: float = float("nan")
    seconds: float = 0.0

    @property
    def val_nats(self) -> float:
        """Validation loss after training, nats per character."""
        return self.val_loss[-1] if self.val_loss else float("nan")

    @property
    def val_bits(self) -> float:
        return nats_to_bits(self.val_nats)

    @property
    def unigram_bits(self) -> float:
        return nats_to_bits(self.unigram_nats)

    def next_char_probs(self, prompt: str, temperature: float = 1.0) -> np.ndarray:
        """:func:`next_char_probs` of this model: (V,) probabilities of the character after ``prompt``."""
        return next_char_probs(self.model, self.vocab, prompt, temperature)

    def sample(self, prompt: str = "", length: int = 200, temperature: float = 1.0, seed: int = 0) -> str:
        """:func:`sample_text` from this model: the prompt and ``length`` sampled characters."""
        return sample_text(self.model, self.vocab, prompt, length, temperature, seed)

    def summary(self) -> str:
        """One line: validation bits/char against the unigram baseline, and the time it took."""
        return (f"validation {self.val_bits:.2f} bits/char ({self.val_nats:.3f} nats) vs unigram "
                f"{self.unigram_bits:.2f} bits/char; {self.config.steps} steps in {self.seconds:.1f} s on "
                f"{self.device.type}")


@torch.no_grad()
def evaluate_char_lm(model: CharLM, ids: np.ndarray, seq_len: int = 64, streams: int = 16,
                     device: torch.device | str | None = None) -> float:
    """Mean cross-entropy (nats/char) of predicting ids[t + 1] from ids[: t + 1] over a held-out text.

    The text is cut into ``streams`` contiguous pieces read in parallel, ``seq_len`` characters at
    a time, with the recurrent state carried from chunk to chunk: every character is predicted
    from everything before it in its piece, not only from the start of a window.
    """
    device = next(model.parameters()).device if device is None else torch.device(device)
    ids = np.asarray(ids)
    streams = max(1, min(streams, (len(ids) - 1) // 2))
    length = (len(ids) - 1) // streams
    data = torch.as_tensor(ids[: streams * length + 1], device=device)
    x = torch.stack([data[s * length : (s + 1) * length] for s in range(streams)])
    y = torch.stack([data[s * length + 1 : (s + 1) * length + 1] for s in range(streams)])
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    for start in range(0, length, seq_len):
        logits, state = model(x[:, start : start + seq_len], state)
        total += float(nn.functional.cross_entropy(logits.flatten(0, 1), y[:, start : start + seq_len].flatten(),
                                                   reduction="sum"))
    model.train(was_training)
    return total / (streams * length)


def train_char_lm(
    corpus: Corpus,
    config: LMConfig | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    twin: bool = False,
    callback: Callable[[int, float], None] | None = None,
    model: nn.Module | None = None,
) -> LMResult:
    """Train a :class:`CharLM` with Adam and gradient-norm clipping on random windows of the corpus.

    Args:
        corpus: e.g. :func:`dlcourse.data.text.char_corpus` (the Sonnets, last 10 % held out).
        config: default :meth:`LMConfig.for_device` of ``device``.
        device: default :func:`dlcourse.gpu.default_device` (CUDA when present).
        seed: seeds the weights and the windows; the same seed on the same device gives the same run.
        twin: use the course's own recurrent layers (written-out BPTT) instead of PyTorch's.
        callback: called as callback(step, training loss) after every step (a progress bar, say).
        model: a module to train instead of a new :class:`CharLM` (a student's own, say), with
            CharLM's interface: ``model(idx (N, T)) -> (logits (N, T, V), state)``. It is moved to
            ``device`` and trained in place; the config's sizes and ``twin`` are then not used.

    Returns:
        :class:`LMResult`, validation loss measured every ``config.eval_every`` steps and at the end.
    """
    device = default_device() if device is None else torch.device(device)
    config = LMConfig.for_device(device) if config is None else config
    torch.manual_seed(seed)
    if model is None:
        model = CharLM(len(corpus.vocab), config.embed_dim, config.hidden_size, config.num_layers, config.cell,
                       twin=twin)
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(seed)
    result = LMResult(model, corpus.vocab, config, device,
                      unigram_nats=unigram_cross_entropy(corpus.train, corpus.val, len(corpus.vocab)))
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        x, y = (torch.as_tensor(a, device=device) for a in random_windows(corpus.train, config.seq_len,
                                                                        config.batch_size, rng))
        logits, _ = model(x)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        result.steps.append(step)
        result.train_loss.append(loss.item())
        if callback is not None:
            callback(step, result.train_loss[-1])
        if step % config.eval_every == 0 or step == config.steps:
            result.val_steps.append(step)
            result.val_loss.append(evaluate_char_lm(model, corpus.val, config.seq_len))
    result.seconds = time.perf_counter() - start
    model.eval()
    return result


@torch.no_grad()
def _prime(model: CharLM, vocab: Vocab, prompt: str) -> tuple[torch.Tensor, Any]:
    """Run the prompt through the model: (logits (V,) for the next character, recurrent state)."""
    device = next(model.parameters()).device
    ids = torch.as_tensor(vocab.encode(prompt if prompt else "\n"), device=device)[None]
    logits, state = model(ids)
    return logits[0, -1], state


def _probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (use sample_text(..., temperature=0) for greedy), got {temperature}")
    return torch.softmax(logits.double() / temperature, dim=-1)


@torch.no_grad()
def next_char_probs(model: CharLM, vocab: Vocab, prompt: str, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / T) (V,) of the character after ``prompt`` (an empty prompt means after a newline)."""
    logits, _ = _prime(model, vocab, prompt)
    return _probs(logits, temperature).cpu().numpy()


@torch.no_grad()
def sample_text(model: CharLM, vocab: Vocab, prompt: str = "", length: int = 200, temperature: float = 1.0,
           seed: int = 0) -> str:
    """``length`` characters drawn one at a time from softmax(logits / T), each fed back as the next input.

    T < 1 sharpens the distribution (safer, more repetitive text), T > 1 flattens it (more
    surprising, more misspelt); ``temperature=0`` takes the most likely character every time
    (greedy). Draws use a CPU generator seeded with ``seed``: the same seed, the same text.
    Returns the prompt followed by the sampled characters.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    logits, state = _prime(model, vocab, prompt)
    out = []
    for _ in range(length):
        if temperature == 0:
            nxt = int(torch.argmax(logits))
        else:
            nxt = int(torch.multinomial(_probs(logits, temperature).cpu(), 1, generator=generator))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]], device=device), state)
        logits = logits[0, -1]
    model.train(was_training)
    return prompt + vocab.decode(np.array(out, dtype=np.int64))
