"""KV reuse between the judgement and the reply: same answers as without it, and no shared mutable state."""

import pytest
import torch

from hef_graph import as_runtime
from hef_graph.dialogue import format_dialogue
from hef_graph.llm import Generation
from hef_graph.llm.prefix_cache import PrefixCache, chat_prompt_text, shared_prefix
from hef_graph.llm.scoring import LabelScorer, pack_continuations
from hef_graph.prompting import DIALOGUE_END, dialogue_prompt, judgement_messages
from tests.conftest import fake_llm

TURN = "My sister flew in from Canada to surprise me for my birthday!"
DIALOGUE = format_dialogue([TURN])


def test_prompts_about_one_dialogue_share_their_text_up_to_the_dialogue_end():
    judgement = judgement_messages("judge_primary", DIALOGUE, ["surprised", "joyful", "grateful"])
    reply = dialogue_prompt("draft_response", DIALOGUE, notes="")
    first, second = (str(m[1].content) for m in (judgement, reply))
    assert judgement[0].content == reply[0].content  # the same system prompt
    assert shared_prefix(first) == shared_prefix(second) == first[: first.index(DIALOGUE_END) + len(DIALOGUE_END)]
    assert first != second
    assert shared_prefix("no quoted dialogue here") is None


def test_models_without_local_weights_have_no_prefix_cache():
    runtime = as_runtime(fake_llm("x"))
    assert not runtime.capabilities.reuse_prefix and not hasattr(runtime, "prefixes")
    assert runtime.call_kwargs(dialogue_prompt("draft_response", DIALOGUE, notes=""), Generation(24)) == {}


def test_a_packed_pass_lets_each_continuation_see_the_prompt_and_itself_only():
    packed = pack_continuations([5, 6], [[7], [8, 9], [10]], past=3, dtype=torch.float32)
    assert packed.ids.tolist() == [[5, 6, 7, 8, 9, 10]]
    assert packed.positions.tolist() == [[3, 4, 5, 5, 6, 5]]  # each continuation goes on from the prompt
    assert packed.rows == [[1], [1, 3], [1]]  # the prompt's last logits predict every first token
    seen = (packed.mask[0, 0] == 0).int().tolist()
    assert seen == [
        [1, 1, 1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 1, 0, 0],
        [1, 1, 1, 1, 1, 0, 1, 1, 0],
        [1, 1, 1, 1, 1, 0, 0, 0, 1],
    ]
    with pytest.raises(ValueError, match="prompt token"):
        pack_continuations([], [[1]], past=3, dtype=torch.float32)


@pytest.mark.real
@pytest.mark.parametrize("stored", [False, True], ids=["prefix read in the pass", "prefix from the store"])
def test_packed_scores_equal_a_plain_forward_pass_per_label(real_llm, stored):
    scorer = real_llm.scorer
    real_llm.clear_prefixes()
    if stored:  # an earlier judgement on the same dialogue leaves its prefix behind
        scorer.log_likelihoods(judgement_messages("judge_fallback", DIALOGUE, ["sad"]), ["sad"])
    candidates = ["surprised", "apprehensive", "none"] if stored else ["surprised", "joyful", "none"]
    messages = judgement_messages("judge_primary", DIALOGUE, candidates)
    prompt = chat_prompt_text(scorer.tokenizer, messages)
    assert (scorer.prefixes.reusable(prompt) is not None) == stored
    scores = scorer.log_likelihoods(messages, candidates)
    prompt_ids = scorer.prefixes.ids(prompt)
    for label, score in scores.items():
        label_ids = scorer.tokenizer(label.capitalize(), add_special_tokens=False).input_ids
        with torch.inference_mode():
            logits = scorer.model(torch.tensor([prompt_ids + label_ids])).logits[0].float()
        log_probs = torch.log_softmax(logits[len(prompt_ids) - 1 : -1], -1)
        assert score == pytest.approx(log_probs.gather(-1, torch.tensor(label_ids)[:, None]).sum().item(), abs=1e-3)


@pytest.mark.real
def test_the_reply_reuses_the_judgements_prefill_and_writes_the_same_text(real_llm):
    prefixes, caps = real_llm.prefixes, Generation(24, 1.3)
    real_llm.clear_prefixes()
    reply = dialogue_prompt("draft_response", DIALOGUE, notes="")
    assert "cache" not in real_llm.call_kwargs(reply, caps)["pipeline_kwargs"]  # looking does not prefill
    plain = real_llm.generate(reply, caps)
    candidates = ["surprised", "grateful", "none"]  # not the scorer's memo of the test above
    real_llm.scorer.log_likelihoods(judgement_messages("judge_primary", DIALOGUE, candidates), candidates)
    for _ in range(2):  # twice: generating must not grow the stored cache
        cache = real_llm.call_kwargs(reply, caps)["pipeline_kwargs"]["cache"]
        assert cache.get_seq_length() == len(prefixes.ids(shared_prefix(reply_text(real_llm, reply))))
        assert real_llm.generate(reply, caps) == plain


def reply_text(llm, messages) -> str:
    """The reply prompt as the model sees it."""
    return chat_prompt_text(llm.tokenizer, messages)


@pytest.mark.real
def test_the_cache_keeps_only_the_most_recent_prefixes(real_llm):
    base = real_llm.prefixes
    prefixes = PrefixCache(base.model, base.tokenizer, size=2)
    scorer = LabelScorer(prefixes)
    conversations = [dialogue_prompt("draft_response", f"Speaker: day {i}", notes="") for i in range(3)]
    for messages in conversations:
        scorer.log_likelihoods(messages, ["fine"])
    prompts = [reply_text(real_llm, messages) for messages in conversations]
    assert prefixes.reusable(prompts[0]) is None
    for prompt in prompts[1:]:  # stored without the judgement's own tokens
        assert prefixes.reusable(prompt).get_seq_length() == len(prefixes.ids(shared_prefix(prompt)))
