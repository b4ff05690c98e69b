"""How the SEM's weights are stored: embedding rows the fine-tune left alone come from the base encoder."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import hef_graph
from hef_graph.lab.train_sem import TrainConfig, build_examples, length_bucketed_batches
from hef_graph.labels import EMOTIONS
from hef_graph.sem.encoder import EncoderMember, base_weights, default_base_model, load_base_encoder
from hef_graph.sem.words import join_dialogue


def fresh_member() -> EncoderMember:
    return EncoderMember(load_base_encoder(default_base_model(), "cpu"), len(EMOTIONS))


@pytest.mark.real
def test_only_changed_embedding_rows_are_stored_and_the_rest_come_from_the_base(tmp_path):
    member = fresh_member()
    state = member.state_dict()
    words = [name for name in state if name.endswith("word_embeddings.weight")][0]
    table = state[words]
    with torch.no_grad():
        table[[5, 7]] += 0.1  # a real change
        table[9] += table[9].abs().max() / 127 * 0.5  # below the rounding step: the base row is kept
    member.save(tmp_path / "member.safetensors", base_weights(default_base_model()))
    packed = load_file(tmp_path / "member.safetensors")
    assert packed[f"{words}.rows"].tolist() == [5, 7]
    assert packed[f"{words}.int8"].shape == (2, table.shape[1])
    assert f"{words.replace('word_embeddings', 'position_embeddings')}.rows" in packed  # untouched: no rows
    assert not any(".encoder.layer." in name and name.endswith(".rows") for name in packed)  # layers: whole

    loaded = fresh_member()
    loaded.load_int8(packed)
    restored, base = loaded.state_dict()[words], fresh_member().state_dict()[words]
    torch.testing.assert_close(restored[[5, 7]], table[[5, 7]], atol=table[[5, 7]].abs().max().item() / 127, rtol=0)
    assert torch.equal(restored[9], base[9]) and torch.equal(restored[100:], base[100:])
    torch.testing.assert_close(loaded.head.weight, member.head.weight, atol=0.01, rtol=0)


def test_length_bucketed_batches_cover_every_example_once_in_a_seeded_order():
    lengths = [(i * 37) % 101 + 1 for i in range(1000)]
    batches = length_bucketed_batches(lengths, batch_size=32, seed=3, pool=4)
    rows = [row for batch in batches for row in batch]
    assert sorted(rows) == list(range(1000)) and max(map(len, batches)) == 32
    assert batches == length_bucketed_batches(lengths, batch_size=32, seed=3, pool=4)
    assert batches != length_bucketed_batches(lengths, batch_size=32, seed=4, pool=4)
    spread = sum(max(lengths[r] for r in b) - min(lengths[r] for r in b) for b in batches) / len(batches)
    assert spread < 30  # random batches of these lengths span about 95


def test_the_shipped_sem_fits_the_50_mb_budget_and_states_its_data_licence():
    folder = Path(hef_graph.__file__).parent / "resources" / "sem"
    assert sum(path.stat().st_size for path in folder.iterdir()) <= 50_000_000
    assert "CC BY-NC 4.0" in (folder / "LICENSE.md").read_text()
    assert "CC BY-NC 4.0" in json.loads((folder / "sem_config.json").read_text())["data_licence"]


@pytest.mark.data
def test_the_shipped_members_store_exactly_the_embedding_rows_of_tokens_seen_in_training(data_dir, real_sem):
    examples = build_examples(TrainConfig(data_dir=data_dir, output_dir=data_dir))
    texts = [join_dialogue(example.turns).text for example in examples]
    seen = {token for ids in real_sem.tokenizer(texts, truncation=True, max_length=128)["input_ids"] for token in ids}
    folder = Path(hef_graph.__file__).parent / "resources" / "sem"
    stored = []
    for name in json.loads((folder / "sem_config.json").read_text())["members"]:
        packed = load_file(folder / name)
        stored.append(
            {int(row) for key in packed if key.endswith("word_embeddings.weight.rows") for row in packed[key]}
        )
    assert stored[0] == seen and stored[1] == seen  # fine-tuned embeddings: every seen token's row, no other
    assert stored[2] == set()  # trained with --freeze-embeddings
