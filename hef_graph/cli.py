"""The ``hef`` command line.

Runtime commands: respond, chat, trace, graph. Lab commands (train-sem, fit-sem-mixture, train-cause-tagger,
eval-sem, eval-causes, eval, rate-export, rate-score, writer-export, writer-import, judge) import ``hef_graph.lab``
inside their own bodies only, so the runtime commands never load it; those that need a lab extra (eval: [eval];
train-sem, fit-sem-mixture: [train]) name it when its packages are missing.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from hef_graph.console.command import console_command

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="HEF-Graph: empathetic replies from an LLM plus a small emotion model.",
)
console = Console()
errors = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit with status 2 (no traceback)."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(2)


LAB_EXTRAS = {"eval": ("nltk", "matplotlib"), "train": ("sklearn",)}
"""The modules each lab extra of pyproject.toml installs."""


def require_extra(extra: str) -> None:
    """Stop with the pip command to run when a lab command's extra dependencies are not installed."""
    missing = [name for name in LAB_EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        fail(f"this is a lab command and needs {', '.join(missing)}: pip install 'hef-graph[{extra}]'")


def comma_separated(option: str) -> list[str]:
    """The names in a comma-separated option, blanks dropped."""
    return [name.strip() for name in option.split(",") if name.strip()]


@app.callback()
def root(
    log_level: Annotated[
        str, typer.Option(help="Log level of hef_graph.* (INFO: one line per node with its time; DEBUG: prompts).")
    ] = "WARNING",
) -> None:
    """HEF-Graph: empathetic replies from an LLM plus a small emotion model."""
    import logging

    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("hef_graph").setLevel(log_level.upper())
    if log_level.upper() != "DEBUG":
        quiet_libraries()


def quiet_libraries() -> None:
    """Hide the libraries' loading chatter (transformers' "Loading weights" bars, hub bars, their warnings).

    Model loads happen mid-command (``hef chat`` loads on the first turn, after its prompt is printed), so a
    bar there garbles the terminal; ``--log-level DEBUG`` keeps them for diagnosing a slow or failing load.
    """
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as transformers_logging

    from hef_graph.model_cache import DEFAULT_MODEL_CACHE

    disable_progress_bars()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    DEFAULT_MODEL_CACHE.quiet = True


DataDir = Annotated[
    Path | None, typer.Option(help="Folder with empathetic_dialogues/ and reccon/ (default: ../shared/data).")
]


@app.command("train-sem")
def train_sem_command(
    output_dir: Annotated[Path, typer.Option(help="Where checkpoints and the final model/ go.")] = Path("runs/sem"),
    data_dir: DataDir = None,
    epochs: Annotated[int, typer.Option(help="Epochs per member.")] = 4,
    members: Annotated[int, typer.Option(help="Ensemble members (seeds seed, seed+1, ...).")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the first member.")] = 13,
    device: Annotated[str | None, typer.Option(help="cuda or cpu (default: best available).")] = None,
    batch_size: Annotated[int, typer.Option(help="Training batch size.")] = 32,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 8e-5,
    max_length: Annotated[int, typer.Option(help="Encoder window in tokens (most recent kept).")] = 128,
    base_model: Annotated[
        Path | None, typer.Option(help="Base sentence-transformers folder (default: bundled all-MiniLM-L6-v2).")
    ] = None,
    train_limit: Annotated[
        int | None, typer.Option(help="Use only this many train conversations (smoke runs).")
    ] = None,
    valid_limit: Annotated[int | None, typer.Option(help="Calibrate on only this many valid samples.")] = None,
    extend: Annotated[
        Path | None, typer.Option(help="A saved SEM folder whose members are kept; new ones are added up to --members.")
    ] = None,
    freeze_embeddings: Annotated[
        bool, typer.Option(help="Keep the base word embeddings (the member then stores none).")
    ] = False,
) -> None:
    """Fine-tune the SEM on ED train, checkpointing every epoch; rerun the same command to resume."""
    require_extra("train")
    from hef_graph.devices import best_device
    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.train_sem import TrainConfig, train_sem

    try:
        config = TrainConfig(
            data_dir=data_dir or default_data_dir(), output_dir=output_dir, epochs=epochs, members=members,
            seed=seed, device=device or best_device(), batch_size=batch_size, learning_rate=learning_rate,
            max_length=max_length, train_limit=train_limit, valid_limit=valid_limit, extend=extend,
            freeze_embeddings=freeze_embeddings,
        )  # fmt: skip
        report = train_sem(replace(config, base_model=base_model) if base_model else config)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    console.print_json(data=report)


@app.command("fit-sem-mixture")
def fit_sem_mixture_command(
    sem: Annotated[Path, typer.Option(help="A trained SEM folder (model/ of hef train-sem, or the shipped one).")],
    output_dir: Annotated[Path, typer.Option(help="Where the mixed SEM folder goes (may be --sem itself).")],
    data_dir: DataDir = None,
) -> None:
    """Fit the SEM's lexical member and mixture weights (valid) on a trained SEM, then recalibrate it."""
    require_extra("train")
    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.train_sem import refit_mixture

    try:
        report = refit_mixture(sem, output_dir, data_dir or default_data_dir())
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    console.print_json(data=report)


@app.command("train-cause-tagger")
def train_cause_tagger_command(
    output_dir: Annotated[Path, typer.Option(help="Where the checkpoint and the best tagger go.")] = Path(
        "runs/cause_tagger"
    ),
    data_dir: DataDir = None,
    epochs: Annotated[int, typer.Option(help="Passes over RECCON-DD train.")] = 3,
    tuned_layers: Annotated[int, typer.Option(help="Top encoder layers fine-tuned (the rest stay the base's).")] = 2,
    adapter_rank: Annotated[int, typer.Option(help="Rank of low-rank updates of the lower layers (0: frozen).")] = 16,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate (linear decay).")] = 1e-4,
    seed: Annotated[int, typer.Option(help="Seed of the initialisation and batch order.")] = 0,
    content_words_only: Annotated[
        bool, typer.Option(help="Score the loss on content words only (stopwords are never cause words).")
    ] = False,
    ranking_weight: Annotated[
        float, typer.Option(help="Weight of a listwise ranking term added to the per-token loss (0: none).")
    ] = 0.0,
    speaker_types: Annotated[
        bool, typer.Option(help="Mark which speaker each dialogue token belongs to (BERT's segment types).")
    ] = False,
    source: Annotated[
        str, typer.Option(help="Train targets: reccon (human spans) or ed-situations (weak labels from ED train).")
    ] = "reccon",
    start_from: Annotated[
        Path | None, typer.Option(help="A run folder whose last checkpoint gives the starting weights.")
    ] = None,
) -> None:
    """Train the cause tagger on RECCON-DD train's human spans; rerun the same command to resume."""
    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.train_cause_tagger import TaggerTraining, train_cause_tagger
    from hef_graph.sem.encoder import default_base_model

    try:
        settings = TaggerTraining(
            epochs=epochs, tuned_layers=tuned_layers, adapter_rank=adapter_rank, learning_rate=learning_rate,
            seed=seed, content_words_only=content_words_only, ranking_weight=ranking_weight,
            speaker_types=speaker_types, source=source, start_from=str(start_from) if start_from else None,
        )  # fmt: skip
        record = train_cause_tagger(data_dir or default_data_dir(), output_dir, default_base_model(), settings)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    console.print_json(data=record)


def write_report(stem: Path, report: dict, markdown: str) -> None:
    """Write ``<stem>.json`` and ``<stem>.md`` and print the markdown."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown)
    console.print(markdown, markup=False, highlight=False)


@app.command("eval-sem")
def eval_sem_command(
    output_dir: Annotated[Path, typer.Option(help="Where sem_eval.json and sem_eval.md go.")] = Path("docs/sem"),
    sem: Annotated[Path | None, typer.Option(help="SEM folder (default: the shipped SEM).")] = None,
    data_dir: DataDir = None,
    split: Annotated[str, typer.Option(help="valid (for tuning) or test (for reporting).")] = "test",
    words: Annotated[int, typer.Option(help="Cause words per dialogue (top-n).")] = 5,
    cause_sample: Annotated[int, typer.Option(help="ED samples for the ERASER scores (seeded).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the ERASER sample and the random baseline.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N samples of each set (smoke runs).")] = None,
    device: Annotated[str | None, typer.Option(help="cuda or cpu (default: best available).")] = None,
) -> None:
    """Measure accuracy, calibration and the cause words (RECCON-DD, ERASER) against baselines."""
    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.sem_eval import evaluate_sem, markdown_report
    from hef_graph.sem.resident import load_sem

    try:
        model = load_sem(sem, device)
        report = evaluate_sem(model, data_dir or default_data_dir(), words, cause_sample, seed, split, limit)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    write_report(output_dir / "sem_eval", report, markdown_report(report))


@app.command("eval-causes")
def eval_causes_command(
    output_dir: Annotated[Path, typer.Option(help="Where causes_eval.json and causes_eval.md go.")] = Path(
        "docs/causes"
    ),
    tagger: Annotated[Path | None, typer.Option(help="Cause tagger folder (default: the shipped one).")] = None,
    data_dir: DataDir = None,
    split: Annotated[str, typer.Option(help="valid (for tuning) or test (for reporting).")] = "test",
    words: Annotated[int, typer.Option(help="Cause words per target (top-n).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the random baselines and of the timing sample.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N targets (smoke runs).")] = None,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated extra methods (default: all); the tagger, last_turn and recency_random always run."
        ),
    ] = None,
) -> None:
    """Score the cause tagger and the baselines against RECCON-DD's human cause spans; time the tagger."""
    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.evaluation.causes import evaluate_causes, markdown_report
    from hef_graph.sem.resident import load_cause_tagger, load_sem

    try:
        only = comma_separated(methods) if methods is not None else None
        report = evaluate_causes(
            load_sem(device="cpu"), load_cause_tagger(tagger, "cpu"), data_dir or default_data_dir(), split, words,
            seed, limit=limit, only=only,
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    write_report(output_dir / "causes_eval", report, markdown_report(report))


@app.command("eval")
def eval_command(
    output_dir: Annotated[
        Path, typer.Option(help="Report folder (predictions.jsonl, metrics.json, report.md, PNGs).")
    ] = Path("runs/eval"),
    data_dir: DataDir = None,
    systems: Annotated[str, typer.Option(help="Comma-separated systems (default: all but hef_generate).")] = "",
    sample: Annotated[int, typer.Option(help="Test samples per emotion for the emotion metrics.")] = 20,
    reply_sample: Annotated[int, typer.Option(help="Of those, samples per emotion that also get replies.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the stratified sample.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N sampled dialogues (smoke runs).")] = None,
    llm: Annotated[
        str | None, typer.Option(help="A load_llm spec (default: $HEF_LLM, else llama.cpp:qwen1.5b).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Samples run at once (threads).")] = 1,
    exclude: Annotated[
        Path | None,
        typer.Option(help="An earlier evaluation's predictions.jsonl: leave its conversations out (a fresh sample)."),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="LLM for the pairwise reply judge (llama.cpp:<gguf> or openai:<model>): hef against llm "
            "and against hef_smollm2, both orders, by log-probabilities."
        ),
    ] = None,
) -> None:
    """Compare HEF with the SEM alone, the LLM alone and ablations on ED test; resumable."""
    require_extra("eval")
    import shlex
    import sys
    import time

    from hef_graph.lab.data import default_data_dir
    from hef_graph.lab.evaluation.report import write_report
    from hef_graph.lab.evaluation.runner import EvalConfig, run_eval
    from hef_graph.lab.evaluation.systems import DEFAULT_SYSTEMS
    from hef_graph.llm.loading import default_llm_spec
    from hef_graph.sem.resident import load_sem

    started = time.time()
    try:
        config = EvalConfig(
            data_dir=data_dir or default_data_dir(), output_dir=output_dir, seed=seed, sample=sample,
            reply_sample=reply_sample, limit=limit, llm=llm, concurrency=concurrency, exclude=exclude,
            systems=comma_separated(systems) or list(DEFAULT_SYSTEMS),
        )  # fmt: skip
        run_eval(config)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    meta = {"command": "hef " + shlex.join(sys.argv[1:]), "seed": seed, "sample_per_emotion": sample,
            "reply_sample_per_emotion": reply_sample, "llm": llm or default_llm_spec(),
            "last_run_seconds": round(time.time() - started)}  # fmt: skip
    pairwise = None
    if judge:
        from hef_graph.lab.evaluation.judge import judge_replies
        from hef_graph.lab.evaluation.report import load_records
        from hef_graph.llm import load_llm
        from hef_graph.llm.letters import LetterScoringRuntime

        runtime = load_llm(judge)
        if not isinstance(runtime, LetterScoringRuntime):
            fail(f"--judge {judge}: the judge must give log-probabilities (llama.cpp:<gguf> or openai:<model>)")
        meta["judge"] = judge
        records = load_records(output_dir / "predictions.jsonl")
        pairwise = judge_replies(runtime, records, output_dir / "pairwise.jsonl")
    write_report(output_dir, meta, load_sem(), pairwise)
    console.print(f"report written to {output_dir / 'report.md'}")


def read_dialogue(path: Path) -> list[tuple[str, str]]:
    """Read a dialogue file: a JSON list of turn strings (user first) or of {"role", "content"} objects."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read dialogue file {path}: {error}") from None
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path} must hold a non-empty JSON list of turns")
    messages = []
    for index, turn in enumerate(data):
        if isinstance(turn, str):
            messages.append(("user" if index % 2 == 0 else "assistant", turn))
        elif (
            isinstance(turn, dict)
            and isinstance(turn.get("content"), str)
            and turn.get("role") in ("user", "assistant")
        ):
            messages.append((turn["role"], turn["content"]))
        else:
            raise ValueError(
                f"turn {index} of {path} must be a string or {{'role': 'user'|'assistant', 'content': str}}"
            )
    if messages[-1][0] != "user":
        raise ValueError(f"the last message must be the user's: {path} ends with the assistant's turn")
    return messages


@app.command()
def respond(
    text: Annotated[str | None, typer.Argument(help="The user's message.")] = None,
    dialogue: Annotated[
        Path | None, typer.Option(help="JSON file with a multi-turn dialogue (user turn last).")
    ] = None,
    llm: Annotated[
        str | None, typer.Option(help="llama.cpp:qwen1.5b (default), smollm2, openai:<model>, a folder or a TGI URL.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="URL of the OpenAI-compatible server for openai:<model> (or OPENAI_BASE_URL).")
    ] = None,
    sem: Annotated[str | None, typer.Option(help="A folder saved by `hef train-sem` (default: shipped SEM).")] = None,
    top_k: Annotated[int, typer.Option(help="Primary emotions offered to stage one.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full output state as JSON.")] = False,
) -> None:
    """Answer one message (or a dialogue file) and show the emotion, stage and cause words behind it."""
    from hef_graph import Context, build_graph, load_llm

    try:
        if (text is None) == (dialogue is None):
            raise ValueError("give either a TEXT argument or --dialogue FILE")
        messages = read_dialogue(dialogue) if dialogue else [("user", text)]
        context = Context(top_k=top_k, llm=load_llm(llm, base_url=base_url), sem_path=sem)
        state = build_graph().invoke({"messages": messages}, context=context)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError, ImportError) as error:
        fail(str(error))
    if as_json:
        state = {key: value for key, value in state.items() if key != "messages"}
        console.print_json(data=state)
        return
    from hef_graph.display import decision_table

    console.print(decision_table(state))
    console.print(f"[bold green]HEF:[/] {state['reply']}", highlight=False)


@app.command()
def graph(
    svg: Annotated[Path | None, typer.Option(help="Also draw the graph to this SVG file (offline).")] = None,
) -> None:
    """Print the graph as Mermaid text."""
    from hef_graph import build_graph
    from hef_graph.trace import GraphShape, standalone_svg

    compiled = build_graph()
    typer.echo(compiled.get_graph().draw_mermaid())
    if svg is not None:
        try:
            svg.write_text(standalone_svg(GraphShape.of(compiled)), encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {svg}: {error.strerror}")


ThreadDb = Annotated[Path | None, typer.Option(help="SQLite thread store (default: per-user data folder).")]


@app.command()
def trace(
    out: Annotated[Path, typer.Option(help="Where to write the HTML page.")] = Path("hef-trace.html"),
    text: Annotated[str | None, typer.Option(help="Run this message once and trace it.")] = None,
    thread: Annotated[str | None, typer.Option(help="Trace every turn of this saved thread instead.")] = None,
    db: ThreadDb = None,
) -> None:
    """Write one self-contained HTML page showing what the graph did (no network, no CDN)."""
    from hef_graph import build_graph, sqlite_checkpointer
    from hef_graph.trace import render_html, traced_invoke, turns_from_history

    try:
        if (text is None) == (thread is None):
            raise ValueError("give either --text MESSAGE or --thread ID")
        if thread is not None:
            graph = build_graph(checkpointer=sqlite_checkpointer(db))
            turns = turns_from_history(graph, {"configurable": {"thread_id": thread}})
            if not turns:
                raise ValueError(f"thread {thread!r} has no finished turn in {db or 'the default store'}")
        else:
            turns = [traced_invoke(build_graph(), {"messages": [("user", text)]})]
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        fail(str(error))
    try:
        out.write_text(render_html(turns), encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
    console.print(f"trace written to {out}")


@app.command()
def chat(
    db: ThreadDb = None,
    thread: Annotated[str | None, typer.Option(help="Continue this thread (default: the last one).")] = None,
    llm: Annotated[
        str | None, typer.Option(help="llama.cpp:qwen1.5b (default), smollm2, openai:<model>, a folder or a TGI URL.")
    ] = None,
    handoff: Annotated[
        bool, typer.Option(help="Pause crisis turns and requests for a human; answer them with /handoff.")
    ] = False,
) -> None:
    """Chat in the terminal with streamed replies; /why, /trace [file], /new, /quit (and /handoff)."""
    from hef_graph.chat import ChatSession

    try:
        ChatSession(db=db, thread=thread, llm=llm, console=console, handoff=handoff).loop()
    except (ValueError, RuntimeError) as error:
        fail(str(error))


@app.command()
def forget(
    user: Annotated[
        str | None, typer.Option(help="The user id whose memories go (as passed in Context(user_id=...)).")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Memory store: a SQLite path or postgresql:// URL (default: the per-user data folder)."),
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="A HEF server's URL: forget the token's own memories through its API.")
    ] = None,
    token: Annotated[str | None, typer.Option(envvar="HEF_TOKEN", help="Your bearer token (with --server).")] = None,
    threads: Annotated[bool, typer.Option(help="With --server: delete your threads too.")] = False,
) -> None:
    """Delete everything HEF's emotional memory holds about one user (served: about the token's person)."""
    if server is not None:
        forget_on_server(server, token, threads)
        return
    from hef_graph import Context
    from hef_graph.memory import forget_user, store_from_url

    if user is None:
        fail("name the person: --user ID (or --server URL with your --token)")
    try:
        Context(user_id=user)
        count = forget_user(store_from_url(store), user)
    except (ValueError, RuntimeError) as error:
        fail(str(error))
    console.print(f"forgot {count} memories of user {user!r}", highlight=False, markup=False)


def forget_on_server(server: str, token: str | None, threads: bool) -> None:
    """Forget through a server's API: the token says whose data goes."""
    from hef_graph.auth.client import forget_served

    if not token:
        fail("--server needs your token: --token T or HEF_TOKEN")
    try:
        gone = forget_served(server, token, threads=threads)
    except Exception as error:  # noqa: BLE001 - the server's refusal or an unreachable URL, said in one line
        fail(f"the server refused or could not be reached: {error}")
    console.print(f"forgot {gone.memories} memories and {gone.threads} threads", highlight=False, markup=False)


def _register_capability_commands() -> None:
    """Commands whose bodies live in their own packages."""
    from hef_graph.auth.commands import token_command

    app.command("token")(token_command)


_register_capability_commands()


Predictions = Annotated[Path, typer.Option(help="The predictions.jsonl of a `hef eval` run.")]


@app.command("rate-export")
def rate_export_command(
    out: Annotated[Path, typer.Option(help="Folder for packet.md (for raters) and key.json (never for raters).")],
    predictions: Predictions = Path("docs/eval/predictions.jsonl"),
    systems: Annotated[str, typer.Option(help="Comma-separated systems whose replies are rated.")] = (
        "hef,llm_framed,llm"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the per-dialogue letter shuffle.")] = 0,
) -> None:
    """Export a blind rating packet: every dialogue where all systems replied, replies under shuffled letters."""
    from hef_graph.lab.evaluation.rating import RatingError, write_packet
    from hef_graph.lab.evaluation.report import load_records

    try:
        items = write_packet(load_records(predictions), comma_separated(systems), seed, out)
    except (RatingError, FileNotFoundError) as error:
        fail(str(error))
    console.print(f"{len(items)} dialogues: give raters {out / 'packet.md'}; keep {out / 'key.json'} from them")


@app.command("rate-score")
def rate_score_command(
    key: Annotated[Path, typer.Option(help="The packet's key.json.")],
    rankings: Annotated[list[Path], typer.Argument(help="One ranking file per rater ('N: B > A = C' lines).")],
    judge_verdicts: Annotated[
        Path | None, typer.Option(help="The local judge's pairwise.jsonl, to report its agreement with the raters.")
    ] = None,
    predictions: Annotated[
        Path | None, typer.Option(help="The evaluation's predictions.jsonl, to split verdicts by what HEF did.")
    ] = None,
    noted_by: Annotated[str, typer.Option(help="The HEF system whose notes and emotion split the verdicts.")] = "hef",
    out: Annotated[Path | None, typer.Option(help="Write the scores as JSON here.")] = None,
) -> None:
    """Score blind rankings: each pair's majority win / tie / loss with the net's 95% interval, and agreement."""
    from hef_graph.lab.evaluation.rating import RatingError, score_ratings
    from hef_graph.lab.evaluation.report import load_records

    try:
        records = load_records(predictions) if predictions else []
        scores = score_ratings(key, rankings, judge_verdicts, records, noted_by)
    except (RatingError, FileNotFoundError, KeyError, json.JSONDecodeError) as error:
        fail(str(error))
    text = json.dumps(scores, indent=1)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    for name, pair in scores["pairs"].items():
        m = pair["majority"]
        console.print(
            f"{name}: {m['win']} / {m['tie']} / {m['loss']} (win / tie / loss, majority of "
            f"{len(scores['raters'])} raters), net {m['net_win_rate']:+.3f} {m['net_win_rate_95ci']}"
        )


@app.command("writer-export")
def writer_export_command(
    out: Annotated[Path, typer.Option(help="Folder: guided/prompts.jsonl, plain/prompts.jsonl, writer_key.json.")],
    predictions: Predictions = Path("docs/eval/predictions.jsonl"),
    count: Annotated[int, typer.Option(help="Dialogues, drawn from HEF's recorded replies.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the draw and of each arm's order.")] = 0,
    system: Annotated[str, typer.Option(help="Whose notes the guided arm carries (a system in the predictions).")] = (
        "hef"
    ),
) -> None:
    """Export HEF's exact reply prompts, with and without the SEM's notes, for an external writer (one arm each)."""
    from hef_graph.context import Context
    from hef_graph.lab.evaluation.report import load_records
    from hef_graph.lab.evaluation.writer import export_prompts

    try:
        export_prompts(load_records(predictions), count, seed, out, Context().max_prompt_chars, system)
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    console.print(f"give one writer {out / 'guided'} and another {out / 'plain'}; never both to one writer")


@app.command("writer-import")
def writer_import_command(
    folder: Annotated[Path, typer.Option(help="The writer-export folder, each arm holding its replies.jsonl.")],
    writer: Annotated[str, typer.Option(help="Who wrote the replies (recorded with each).")],
    predictions: Predictions = Path("docs/eval/predictions.jsonl"),
    system: Annotated[str, typer.Option(help="The system the prompts were exported from.")] = "hef",
) -> None:
    """Add both arms' replies to the predictions as writer_guided and writer_plain (replacing earlier ones).

    Where HEF gave no note the guided prompt is the plain one, so the guided arm takes the plain reply.
    """
    from hef_graph.lab.evaluation.report import load_records
    from hef_graph.lab.evaluation.writer import import_both

    try:
        records = [r for r in load_records(predictions) if not str(r["system"]).startswith("writer_")]
        imported = import_both(folder, records, writer, system)
    except (ValueError, FileNotFoundError, KeyError, json.JSONDecodeError) as error:
        fail(str(error))
    temporary = predictions.with_name(predictions.name + ".tmp")
    temporary.write_text("".join(json.dumps(r) + "\n" for r in records + imported), encoding="utf-8")
    temporary.replace(predictions)
    console.print(f"{len(imported)} writer replies added to {predictions}")


app.command("console")(console_command)


@app.command(
    "judge", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, add_help_option=False
)
def judge_command(ctx: typer.Context) -> None:
    """Measure a strong LLM's emotion judgements: export packets, import answers, tune, score (hef judge --help)."""
    from hef_graph.lab.evaluation.judgement_cli import main as judge_main

    judge_main(ctx.args)


def main() -> None:
    """Entry point of the ``hef`` script."""
    app()
