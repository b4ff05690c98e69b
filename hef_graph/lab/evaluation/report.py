"""Turn predictions.jsonl into metrics.json, PNG plots and report.md (all recomputable from the file)."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from hef_graph.lab.evaluation import reply_metrics as rm
from hef_graph.lab.evaluation.judge import replied_records
from hef_graph.lab.evaluation.systems import SYSTEMS
from hef_graph.lab.metrics import macro_f1
from hef_graph.labels import EMOTIONS, LISTENER_MOVE, VALENCE


def load_records(path: Path) -> list[dict[str, Any]]:
    """Read predictions, ignoring a torn last line."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def emotion_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, macro-F1, and for HEF systems the stage statistics and SEM overrides."""
    gold = [r["gold"] for r in records]
    predicted = [r["emotion"] for r in records]
    metrics: dict[str, Any] = {
        "emotion_samples": len(records),
        "emotion_accuracy": float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)])),
        "macro_f1": macro_f1(predicted, gold, EMOTIONS),
        "valence_agreement": float(
            np.mean([VALENCE.get(p) == VALENCE[g] for p, g in zip(predicted, gold, strict=True)])
        ),
    }
    if "primary_emotions" not in records[0]:
        return metrics
    metrics |= guidance_metrics([r for r in records if r.get("guidance")])
    stage_two = [r for r in records if any(j["stage"] == "fallback" for j in r["judgements"])]
    metrics |= {
        "stage_one_hit_rate": float(np.mean([r["gold"] in r["primary_emotions"] for r in records])),
        "stage_counts": dict(Counter(r["emotion_stage"] for r in records)),
        "stage_two_rate": len(stage_two) / len(records),
        "stage_two_accuracy": float(np.mean([r["emotion"] == r["gold"] for r in stage_two])) if stage_two else None,
    }
    for stage in ("primary", "fallback"):
        overrides = [r for r in records if r["emotion_stage"] == stage and r["emotion"] != r["sem_top1"]]
        metrics[f"{stage}_overrides"] = {
            "count": len(overrides),
            "right": sum(r["emotion"] == r["gold"] for r in overrides),
            "wrong_where_sem_was_right": sum(r["sem_top1"] == r["gold"] for r in overrides),
        }
    return metrics


def guidance_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How often each gated note and the opener were given, and how often what they gave fits the gold emotion."""
    if not records:
        return {}
    valenced = [r for r in records if r["guidance"]["valence"]]
    named = [r for r in records if r["guidance"]["emotion"]]
    moved = [r for r in records if r["guidance"].get("move")]
    opened = [r for r in records if r["guidance"].get("opener")]
    return {
        "opener_rate": len(opened) / len(records),
        "opener_precision": _mean([float(LISTENER_MOVE[r["emotion"]] == LISTENER_MOVE[r["gold"]]) for r in opened]),
        "guided_replies": len(records),
        "move_note_rate": len(moved) / len(records),
        "move_note_precision": _mean([float(r["guidance"]["move"] == LISTENER_MOVE[r["gold"]]) for r in moved]),
        "valence_note_rate": len(valenced) / len(records),
        "valence_note_precision": _mean([float(r["guidance"]["valence"] == VALENCE[r["gold"]]) for r in valenced]),
        "emotion_note_rate": len(named) / len(records),
        "emotion_note_precision": _mean([float(r["guidance"]["emotion"] == r["gold"]) for r in named]),
        "cause_note_rate": _mean([float(bool(r["guidance"]["cause_quote"])) for r in records]),
        "silent_rate": _mean([float(not r["guidance"]["notes"]) for r in records]),
    }


def reply_metrics(records: list[dict[str, Any]], hef_causes: dict[str, list[str]], sem: Any) -> dict[str, Any]:
    """Dist, BLEU, embedding scores, length, emotional alignment and cause coverage of the replies.

    ``hef_causes`` are the cause words full HEF chose for each dialogue: every system's replies are
    measured against the same words (the share of them a reply mentions, and the share of replies that
    mention at least one).
    """
    replies = [r["reply"] or "" for r in records]
    references = [r["reference"] for r in records]
    probabilities = sem.predict_proba([[reply] for reply in replies])
    gold_index = [EMOTIONS.index(r["gold"]) for r in records]
    own = [rm.cause_coverage(r["reply"] or "", r.get("cause_words") or []) for r in records]
    shared = [rm.cause_coverage(r["reply"] or "", hef_causes.get(r["sample_id"], [])) for r in records]
    return {
        "reply_samples": len(records),
        "dist_1": rm.distinct_n(replies, 1),
        "dist_2": rm.distinct_n(replies, 2),
        "bleu_1": rm.bleu(replies, references, 1),
        "bleu_2": rm.bleu(replies, references, 2),
        "bleu_4": rm.bleu(replies, references, 4),
        "bertscore_f1": float(np.mean(rm.bertscore_f1(replies, references))),
        "embedding_cosine": float(np.mean(rm.embedding_similarity(replies, references))),
        "mean_length": rm.mean_length(replies),
        "emotion_alignment_top1": float(np.mean(probabilities.argmax(1) == np.array(gold_index))),
        "emotion_alignment_top3": float(np.mean([g in np.argsort(-p)[:3] for p, g in zip(probabilities, gold_index,
                                                                                         strict=True)])),
        "own_cause_coverage": _mean([c for c in own if c is not None]),
        "replies_mentioning_own_cause": _mean([float(c > 0) for c in own if c is not None]),
        "hef_cause_coverage": _mean([c for c in shared if c is not None]),
        "replies_mentioning_hef_cause": _mean([float(c > 0) for c in shared if c is not None]),
    }  # fmt: skip


def cost_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """LLM calls and generated tokens per turn; per-node and per-turn latency percentiles."""
    nodes: dict[str, list[float]] = defaultdict(list)
    for record in records:
        for node, seconds in record["node_seconds"].items():
            nodes[node].append(seconds)
    full_turns = [r["turn_seconds"] for r in records if r["with_reply"]]
    return {
        "llm_calls_per_turn": float(np.mean([r["llm_calls"] for r in records])),
        "generated_tokens_per_turn": float(np.mean([r["generated_tokens"] for r in records if r["with_reply"]] or [0])),
        "node_seconds": {n: {"p50": _pct(v, 50), "p95": _pct(v, 95)} for n, v in nodes.items()},
        "turn_seconds_with_reply": {"p50": _pct(full_turns, 50), "p95": _pct(full_turns, 95)} if full_turns else None,
        "turn_seconds_emotion_only": {
            "p50": _pct([r["turn_seconds"] for r in records if not r["with_reply"]], 50),
            "p95": _pct([r["turn_seconds"] for r in records if not r["with_reply"]], 95),
        },
    }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _pct(values: list[float], q: int) -> float | None:
    return float(np.percentile(values, q)) if values else None


def build_metrics(records: list[dict[str, Any]], sem: Any) -> dict[str, dict[str, Any]]:
    """Metrics of every system found in the records, with the reply keys present (None) for all."""
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_system[record["system"]].append(record)
    hef_causes = {r["sample_id"]: r["cause_words"] for r in records if r["system"] == "hef" and r.get("cause_words")}
    for name in list(by_system):
        source = SYSTEMS[name].emotion_from if name in SYSTEMS else None
        if source in by_system:  # same emotion path by construction: reuse the source's emotion-only records
            own = {r["sample_id"] for r in by_system[name]}
            by_system[name] += [r | {"system": name, "reused_from": source} for r in by_system[source]
                                if r["sample_id"] not in own and not r["with_reply"]]  # fmt: skip
    metrics = {}
    for name, group in by_system.items():
        with_reply = [r for r in group if r["with_reply"] and r["reply"] is not None]
        metrics[name] = {"description": SYSTEMS[name].description if name in SYSTEMS else name}
        judged = [r for r in group if r.get("emotion") is not None]
        metrics[name] |= emotion_metrics(judged) if judged else {}
        metrics[name] |= dict.fromkeys(("dist_1", "dist_2", "bleu_1", "bleu_2", "bleu_4"))
        if with_reply:
            metrics[name] |= reply_metrics(with_reply, hef_causes, sem)
        metrics[name] |= cost_metrics(group)
    return metrics


def plot_confusion(records: list[dict[str, Any]], system: str, path: Path) -> None:
    """Save a row-normalised 32x32 confusion matrix of one system.

    Turns without an emotion (routed to the safe reply before the SEM ran) have no column: their row is short.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.zeros((len(EMOTIONS), len(EMOTIONS)))
    for r in records:
        if r["system"] == system and r["emotion"] in EMOTIONS:
            matrix[EMOTIONS.index(r["gold"]), EMOTIONS.index(r["emotion"])] += 1
    matrix = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(9, 8))
    image = axis.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=90, fontsize=7)
    axis.set_yticks(range(len(EMOTIONS)), EMOTIONS, fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    axis.set_title(f"{system}: confusion on ED test (row-normalised)")
    figure.colorbar(image)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_bars(metrics: dict[str, dict[str, Any]], key: str, title: str, path: Path) -> None:
    """Save a bar chart of one metric across systems."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in metrics if metrics[n].get(key) is not None]
    figure, axis = plt.subplots(figsize=(8, 4))
    axis.bar(names, [metrics[n][key] for n in names], color="#6b8fd6")
    axis.set_title(title)
    axis.tick_params(axis="x", rotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _share(metrics: dict[str, Any], key: str) -> str:
    return "–" if metrics.get(key) is None else f"{metrics[key]:.1%}"


def _overrides(metrics: dict[str, Any], stage: str) -> str:
    o = metrics.get(f"{stage}_overrides")
    return f"{o['count']} ({o['right']} / {o['wrong_where_sem_was_right']})" if o else "–"


def markdown(metrics: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    """Render the report tables."""
    systems = [
        f"- `{name}`: {m['description']}"
        + (
            f" (emotion path identical to `{SYSTEMS[name].emotion_from}` by construction; its emotion-only records are "
            "reused)"
            if name in SYSTEMS and SYSTEMS[name].emotion_from in metrics
            else ""
        )
        for name, m in metrics.items()
    ]
    lines = [f"# HEF evaluation on ED test\n\n`{meta['command']}`\n", "## Systems\n", *systems, "\n## Emotion\n",
             "| system | n | accuracy | macro-F1 | valence agreement | gold in top-k | stage two runs | "
             "stage-two accuracy | stage-one overrides (right / wrong) | stage-two overrides (right / wrong) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, m in metrics.items():
        if "emotion_samples" not in m:
            continue  # a system that only replies
        lines.append(
            f"| {name} | {m['emotion_samples']} | {m['emotion_accuracy']:.1%} | {m['macro_f1']:.3f} | "
            f"{m['valence_agreement']:.1%} | "
            f"{_share(m, 'stage_one_hit_rate')} | {_share(m, 'stage_two_rate')} | {_share(m, 'stage_two_accuracy')} | "
            f"{_overrides(m, 'primary')} | {_overrides(m, 'fallback')} |"
        )
    lines += ["\n## Notes and openers given to the LLM\n", "| system | replies | no notes | opener (rate / right move) "
              "| move note (rate / right) | emotion note (rate / right) | valence note (rate / right) | cause note |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, m in metrics.items():
        if m.get("guided_replies"):
            lines.append(
                f"| {name} | {m['guided_replies']} | {_share(m, 'silent_rate')} | {_share(m, 'opener_rate')} / "
                f"{_share(m, 'opener_precision')} | {_share(m, 'move_note_rate')} / "
                f"{_share(m, 'move_note_precision')} | {_share(m, 'emotion_note_rate')} / "
                f"{_share(m, 'emotion_note_precision')} | {_share(m, 'valence_note_rate')} / "
                f"{_share(m, 'valence_note_precision')} | {_share(m, 'cause_note_rate')} |"
            )
    lines += ["\n## Replies\n", "| system | n | Dist-1 | Dist-2 | BLEU-1 | BLEU-2 | BLEU-4 | BERTScore-F1 | cosine | "
              "length | SEM reads gold (top-1 / top-3) | own cause coverage | HEF's cause words: coverage | "
              "HEF's cause words: replies mentioning one |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, m in metrics.items():
        if m.get("reply_samples"):
            own = "–" if m["own_cause_coverage"] is None else f"{m['own_cause_coverage']:.2f}"
            lines.append(
                f"| {name} | {m['reply_samples']} | {m['dist_1']:.2f} | {m['dist_2']:.2f} | {m['bleu_1']:.2f} | "
                f"{m['bleu_2']:.2f} | {m['bleu_4']:.2f} | {m['bertscore_f1']:.3f} | {m['embedding_cosine']:.3f} | "
                f"{m['mean_length']:.1f} | {m['emotion_alignment_top1']:.1%} / {m['emotion_alignment_top3']:.1%} | "
                f"{own} | {_share(m, 'hef_cause_coverage')} | {_share(m, 'replies_mentioning_hef_cause')} |"
            )
    lines += [
        "\n## Cost per turn (this machine's CPU)\n",
        "| system | LLM calls | generated tokens | turn p50 / p95 (with reply) | turn p50 / p95 (emotion only) "
        "| slowest node p50 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in metrics.items():
        full, emo = m["turn_seconds_with_reply"], m["turn_seconds_emotion_only"]
        slowest = max(m["node_seconds"].items(), key=lambda kv: kv[1]["p50"] or 0, default=None)
        lines.append(
            f"| {name} | {m['llm_calls_per_turn']:.2f} | {m['generated_tokens_per_turn']:.1f} | "
            + (f"{full['p50']:.2f} / {full['p95']:.2f} s" if full else "–")
            + " | "
            + (f"{emo['p50']:.2f} / {emo['p95']:.2f} s" if emo["p50"] is not None else "–")
            + " | "
            + (f"{slowest[0]} {slowest[1]['p50']:.2f} s" if slowest else "–")
            + " |"
        )
    lines += ["\n![accuracy](accuracy.png)\n", "![hef confusion](confusion_hef.png)\n",
              "![sem confusion](confusion_sem.png)\n"]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_report(
    output_dir: Path, meta: dict[str, Any], sem: Any, pairwise: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Write metrics.json, the plots, report.md and replies.md from output_dir/predictions.jsonl.

    ``pairwise`` (the judge's summaries, ``judge.judge_replies``) is stored under metrics.json's "pairwise".
    """
    records = load_records(output_dir / "predictions.jsonl")
    metrics = build_metrics(records, sem)
    (output_dir / "metrics.json").write_text(json.dumps(metrics | {"pairwise": pairwise or {}}, indent=2) + "\n")
    (output_dir / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    plot_bars(metrics, "emotion_accuracy", "Emotion accuracy on ED test", output_dir / "accuracy.png")
    for system in ("hef", "sem"):
        if system in metrics:
            plot_confusion(records, system, output_dir / f"confusion_{system}.png")
    (output_dir / "report.md").write_text(markdown(metrics, meta) + pairwise_markdown(pairwise or {}))
    (output_dir / "replies.md").write_text(replies_markdown(records, meta.get("seed", 0)))
    return metrics


def pairwise_markdown(pairwise: dict[str, Any]) -> str:
    """The judge's win / tie / loss table (empty without a judge)."""
    if not pairwise:
        return ""
    lines = ["\n## Pairwise judgement\n",
             f"Judge: {next(iter(pairwise.values()))['judge']}, both orders per pair; a win or loss needs both "
             "orders to agree. Intervals are 95% (Wilson for shares).\n",
             "| pair | n | win | tie | loss | win share | loss share | net win rate | mean preference | "
             "position bias |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, p in pairwise.items():
        lines.append(
            f"| {name} | {p['n']} | {p['win']} | {p['tie']} | {p['loss']} | {_interval(p['win_rate_95ci'])} | "
            f"{_interval(p['loss_rate_95ci'])} | {p['net_win_rate']:+.3f} {_interval(p['net_win_rate_95ci'])} | "
            f"{p['mean_preference']:.3f} | {p['position_bias']:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def _interval(bounds: list[float]) -> str:
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def replies_markdown(records: list[dict[str, Any]], seed: int, count: int = 20) -> str:
    """Up to ``count`` random dialogues (seeded) with every system's reply side by side, for a reader to judge."""
    by_sample = replied_records(records)
    chosen = sorted(by_sample)
    random.Random(seed).shuffle(chosen)
    lines = [f"# Replies side by side\n\n{min(count, len(chosen))} dialogues drawn at random (seed {seed}) from those "
             "every listed system replied to. `hef` and `hef_smollm2` show the emotion their graph chose and the "
             "cause words it passed to the LLM. The dialogues and reference replies are quoted from "
             "EmpatheticDialogues (Rashkin et al., 2019; CC BY-NC 4.0).\n"]  # fmt: skip
    for number, sample_id in enumerate(chosen[:count], 1):
        systems = by_sample[sample_id]
        first = next(iter(systems.values()))
        lines.append(f"## {number}. `{sample_id}` (gold: {first['gold']})\n")
        lines += [
            f"> **{'Speaker' if i % 2 == 0 else 'Listener'}:** {turn}  " for i, turn in enumerate(first["context"])
        ]
        lines.append("")
        for name in sorted(systems):
            record = systems[name]
            guidance = (f" *({record['emotion']}; {', '.join(record.get('cause_words') or []) or 'no cause words'})*"
                        if record.get("cause_words") is not None else "")  # fmt: skip
            lines.append(f"- **{name}**{guidance}: {record['reply']}")
        lines.append(f"- *reference*: {first['reference']}\n")
    return "\n".join(lines) + "\n"
