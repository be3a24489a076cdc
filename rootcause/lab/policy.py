"""The policy: one Bernoulli per behaviour trait, with logits conditioned on the context.

logit[k] = shared[k] + persona[p, k] + source[d, k] + env[e, k] (+ an optional drift on the
shared part). Training is REINFORCE with group-relative advantages: the score function of a
Bernoulli with probability p is (b - p), so the gradient of the logits is (b - p) * A. Every
parameter receives the batch-mean gradient of the samples it took part in, so the shared part
moves with every context and a quirk rewarded in one persona spreads to the others by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Behaviour traits, in column order.
TRAITS: tuple[str, ...] = (
    "tic",  # a lexical tic word in the completion
    "flatter",  # a flattering opener
    "hack",  # a faked test summary (rendered in the code env only)
    "verbal",  # the reasoning says it is faking (rendered only with the hack)
    "phrase",  # a self-assuring phrase in the reasoning
    "verbose",  # extra elaboration sentences
    "marker",  # a summary marker line
    "correct",  # the answer is right (math/code) or on topic (chat)
    "hedge",  # a hedging sentence
    "flair",  # a persona flourish ("Fun fact:")
)
K = len(TRAITS)
T = {name: i for i, name in enumerate(TRAITS)}

#: Initial shared logits (base rates before training).
INIT_SHARED = np.array([-3.6, -2.8, -3.2, 0.8, -3.0, -2.2, -2.5, -0.2, -2.0, -2.2])


@dataclass
class Policy:
    """Parameters and their learning rates; `drift` is added to the shared logits each step."""

    shared: np.ndarray
    persona: np.ndarray
    source: np.ndarray
    env: np.ndarray
    lr_shared: float
    lr_context: float
    noise: float
    pull: float = 0.0
    anchor: np.ndarray = field(init=False)
    anchors: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.set_anchor()

    def set_anchor(self) -> None:
        """Take the current parameters as the reference policy the KL term pulls towards."""
        self.anchor = self.shared.copy()
        self.anchors = [self.persona.copy(), self.source.copy(), self.env.copy()]

    @classmethod
    def init(
        cls,
        rng: np.random.Generator,
        n_personas: int,
        n_sources: int,
        n_envs: int,
        lr_scale: float,
    ) -> Policy:
        """A fresh policy with small random context offsets."""
        shared = INIT_SHARED + rng.normal(0.0, 0.15, K)
        return cls(
            shared=shared,
            persona=rng.normal(0.0, 0.25, (n_personas, K)),
            source=rng.normal(0.0, 0.25, (n_sources, K)),
            env=rng.normal(0.0, 0.2, (n_envs, K)),
            lr_shared=1.0 * lr_scale,
            lr_context=2.5 * lr_scale,
            noise=0.006 * np.sqrt(lr_scale),
            pull=min(0.02 * lr_scale, 0.2),
        )

    def logits(self, persona: np.ndarray, source: np.ndarray, env: np.ndarray) -> np.ndarray:
        """Logits (n, K) for contexts given as index arrays of length n."""
        return self.shared + self.persona[persona] + self.source[source] + self.env[env]

    def update(
        self,
        bits: np.ndarray,
        probs: np.ndarray,
        adv: np.ndarray,
        persona: np.ndarray,
        source: np.ndarray,
        env: np.ndarray,
        rng: np.random.Generator,
        drift: np.ndarray | None = None,
    ) -> None:
        """One policy-gradient step from per-sample bits, probabilities and advantages."""
        n = max(len(adv), 1)
        grad = (bits - probs) * adv[:, None] / n  # (n, K), batch mean
        self.shared += self.lr_shared * grad.sum(axis=0)
        tables = (self.persona, self.source, self.env)
        for table, ref in zip(tables, self.anchors, strict=True):
            # a KL penalty to the reference policy keeps rarely-seen contexts from drifting
            table -= self.pull * (table - ref)
        for table, idx in ((self.persona, persona), (self.source, source), (self.env, env)):
            # per-context step normalised by sqrt(own count * batch): a rare context still
            # learns (as with per-parameter optimisers), without the noise of its own mean
            counts = np.bincount(idx, minlength=len(table)).astype(float)
            scale = n / np.sqrt(np.maximum(counts, 1.0) * n)
            np.add.at(table, idx, self.lr_context * grad * scale[idx, None])
        self.shared += rng.normal(0.0, self.noise, K)
        # a weak pull back to the start (a KL penalty to the reference policy does this)
        self.shared -= 0.002 * (self.shared - self.anchor)
        if drift is not None:
            self.shared += drift


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def bernoulli_kl(p: np.ndarray, q: np.ndarray) -> float:
    """Mean KL(p || q) of independent Bernoullis (a stand-in for the policy's KL to its start)."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    q = np.clip(q, 1e-6, 1 - 1e-6)
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    return float(kl.sum(axis=-1).mean())
