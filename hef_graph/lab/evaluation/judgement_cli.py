"""`hef judge ...`: export judgement packets for an external LLM, import its answers, tune and score.

The order a lead runs them in (each arm to a different writer):

    hef judge export --arm own_top3 --split valid --per-label 5 --seed S1 --out DIR/valid_own_top3
    hef judge export --arm alone|hef_primary|own_top3 --split test --per-label 10 --seed S2 --exclude F --out ...
    hef judge import --folder DIR/...            # after a writer put its answers.txt there
    hef judge export-fallback --stage-one DIR/test_hef_primary --out DIR/test_hef_fallback
    hef judge tune --folder DIR/valid_own_top3 --out DIR/combination.json
    hef judge score --alone ... --hef ... --fallback ... --own-top3 ... --tuned DIR/combination.json --out ...
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, cast

import typer

from hef_graph.context import Context
from hef_graph.lab.data import default_data_dir
from hef_graph.lab.evaluation.judgement import (
    ARMS,
    Arm,
    JudgementPacketError,
    draw_samples,
    excluded_conversations,
    export_packet,
    fallback_items,
    key_items,
    read_answers,
    read_key,
    write_answers,
)
from hef_graph.lab.evaluation.judgement_scores import (
    combined_rankings,
    hef_rankings,
    markdown,
    own_rankings,
    read_combination,
    score,
    sem_rankings,
    stage_counts,
    tune,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Strong-LLM emotion judgements, measured.")
PAIRS = (("combination", "alone"), ("combination", "sem"), ("combination", "hef"), ("combination", "own_top3"),
         ("hef", "alone"), ("hef", "sem"), ("alone", "sem"))  # fmt: skip


def main(args: list[str]) -> None:
    """Run one ``hef judge`` subcommand with ``args``."""
    app(args=args, prog_name="hef judge")


def stop(error: Exception) -> None:
    """Say what went wrong in one line and exit with status 2."""
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


@app.command("export")
def export_command(
    arm: Annotated[str, typer.Option(help="alone, hef_primary or own_top3 (hef_fallback: export-fallback).")],
    out: Annotated[Path, typer.Option(help="Folder for packet.md (the writer's) and key.json (never the writer's).")],
    split: Annotated[str, typer.Option(help="valid (tuning) or test (reporting, read once).")] = "test",
    per_label: Annotated[int, typer.Option(help="Samples per emotion (stratified).")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the stratified sample.")] = 0,
    exclude: Annotated[
        list[Path] | None, typer.Option(help="Files naming conversations to leave out (repeatable): a fresh sample.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder with empathetic_dialogues/.")] = None,
) -> None:
    """Export one arm's judgement prompts, exactly as the graph sends them, for one writer."""
    from hef_graph.sem.resident import load_sem

    if arm not in ARMS or arm == "hef_fallback":
        stop(ValueError(f"--arm must be alone, hef_primary or own_top3, got {arm!r}"))
    try:
        skip = excluded_conversations(exclude or [])
        samples = draw_samples(data_dir or default_data_dir(), split, per_label, seed, skip)
        items = key_items(samples, cast(Arm, arm), load_sem(), Context(), f"{split}:{seed}:{arm}")
    except (ValueError, FileNotFoundError) as error:
        stop(error)
    meta = {"split": split, "seed": seed, "per_label": per_label, "excluded_conversations": len(skip),
            "exclude": [str(path) for path in exclude or []]}  # fmt: skip
    export_packet(out, cast(Arm, arm), items, meta)
    typer.echo(f"{len(items)} items: give one writer {out / 'packet.md'}; keep {out / 'key.json'} from writers")


@app.command("export-fallback")
def export_fallback_command(
    stage_one: Annotated[Path, typer.Option(help="The imported hef_primary folder.")],
    out: Annotated[Path, typer.Option(help="Folder for stage two's packet.md and key.json.")],
) -> None:
    """Export HEF's stage-two prompts for the items whose stage-one answer was 'none' or unusable."""
    try:
        meta, _ = read_key(stage_one)
        items = fallback_items(stage_one, Context(), f"{meta['split']}:{meta['seed']}:hef_fallback")
    except (ValueError, FileNotFoundError) as error:
        stop(error)
    meta = {k: meta[k] for k in ("split", "seed", "per_label")} | {"stage_one": str(stage_one)}
    export_packet(out, "hef_fallback", items, meta)
    typer.echo(f"{len(items)} items need stage two: give a writer {out / 'packet.md'}")


@app.command("import")
def import_command(
    folder: Annotated[Path, typer.Option(help="An exported folder.")],
    answers: Annotated[Path | None, typer.Option(help="The writer's file (default: FOLDER/answers.txt).")] = None,
) -> None:
    """Check a writer's answers against the packet and save them; list every answer not as asked (exit 1)."""
    try:
        checked = read_answers(folder, answers)
    except (ValueError, FileNotFoundError) as error:
        stop(error)
    problems = write_answers(folder, checked)
    typer.echo(f"{len(checked) - len(problems)} of {len(checked)} answers as asked; saved to {folder / 'answers.json'}")
    for line in problems:
        typer.echo(f"  {line}")
    if problems:
        raise typer.Exit(1)


@app.command("tune")
def tune_command(
    folder: Annotated[Path, typer.Option(help="The imported valid own_top3 folder.")],
    out: Annotated[Path, typer.Option(help="Where the chosen weight and floor (and the grid) go, as JSON.")],
) -> None:
    """Choose the combination's weight and floor on ED valid and print them."""
    try:
        tuned = tune(folder)
    except (ValueError, FileNotFoundError) as error:
        stop(error)
    out.write_text(json.dumps(tuned, indent=1) + "\n", encoding="utf-8")
    typer.echo(f"chosen: ranked_weight={tuned['weight']} ranked_floor={tuned['floor']} "
               f"(valid top-1 {tuned['top1']:.1%} on {tuned['valid_answers']} answers)")  # fmt: skip


@app.command("score")
def score_command(
    hef: Annotated[Path, typer.Option(help="The imported hef_primary folder (its key gives the sample and the SEM).")],
    tuned: Annotated[Path, typer.Option(help="The combination's settings from `hef judge tune`.")],
    own_top3: Annotated[Path, typer.Option(help="The imported own_top3 folder.")],
    alone: Annotated[Path, typer.Option(help="The imported alone folder.")],
    fallback: Annotated[Path | None, typer.Option(help="The imported hef_fallback folder.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the scores as JSON (and .md beside it).")] = None,
) -> None:
    """Top-1, top-3 and valence agreement of every arm with 95% intervals, and the paired differences."""
    try:
        _, items = read_key(hef)
        combination = read_combination(tuned)
        arms = {"sem": sem_rankings(items), "alone": own_rankings(alone), "hef": hef_rankings(hef, fallback),
                "own_top3": own_rankings(own_top3),
                "combination": combined_rankings(own_top3, combination)}  # fmt: skip
        scores = score(arms, {item.sample_id: item.gold for item in items}, PAIRS)
    except (JudgementPacketError, FileNotFoundError, KeyError) as error:
        stop(error)
    scores |= {"hef_stage_one": stage_counts(hef), "combination_settings": asdict(combination)}
    text = markdown(scores)
    if out:
        out.write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
        out.with_suffix(".md").write_text(text, encoding="utf-8")
    typer.echo(text)
